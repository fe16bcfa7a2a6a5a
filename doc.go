// Package callbackd is the domain of callbackd, a callback service for contact
// centers that is a drop-in replacement for the Genesys Mobile Services (GMS)
// Callback Services API.
//
// This root package holds what every other package agrees on: the Callback
// record with its states and reasons, the one place where state transitions
// are validated (and reported as events), the error type with the codes and
// phrases of the GMS specification and the single table that maps a code to
// an HTTP status, the configuration model with its option defaults, the
// injected Clock, and the interfaces implemented elsewhere (Store, Executor,
// EWTProvider).
//
// Dependencies point inward: sqlite/, httpapi/, callbacks/, server/ import
// this package, never the other way round. The only packages imported from
// here are pure leaf packages of the domain itself (no I/O).
//
// Time is never read from the wall clock here: every function takes "now" or
// a Clock, so that tests move time instead of sleeping.
package callbackd
