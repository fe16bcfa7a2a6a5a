// Package simdialer is a callbackd.Dialer that places no real calls: the
// dialer of the built-in execution engine's demos, tests and benchmarks.
// It lets the engine's whole call flow (dial the customer, dial the agent,
// bridge, hang up) run on a laptop or in CI, with outcomes chosen by the
// number dialled, so that a demo or a test can ask for a busy line or an
// answering machine by picking a number.
//
// # Outcomes
//
// Options.Rules are tried in order against DialRequest.Number (the number
// as the engine gives it, E.164 such as +15550001234, without
// DialRequest.Prefix: the prefix is how a real switch reaches the outside
// line, not part of who is called). The first Rule whose Pattern matches
// decides the outcome; no match is a person answering (OutcomeHuman).
// Patterns are Go regular expressions and match anywhere in the number, as
// regexp.MatchString does: anchor them (^\+1555.*3$) to match the whole
// number. A nil Pattern matches every number, so a last Rule with a nil
// Pattern sets the default.
//
// The agent leg follows the same rules: an agent's phone (often a SIP URI
// that no customer rule matches) answers as a person unless a Rule matches
// it, so a test can also make an agent's phone busy.
//
// Without detection (DialRequest.Detect false) a real dialer cannot tell
// a machine or a fax from a person: it only knows that the far end picked
// up. The simulation says the same: a machine or fax outcome is reported as
// OutcomeHuman, with a Cause that says the number matched a machine or a
// fax and detection was off.
//
// # Timing
//
// All time is the injected callbackd.Clock's, waited for with
// callbackd.After, never the machine's: with a callbackd.ManualClock a
// test moves time and the dialer follows, without sleeping. A test knows
// the dialer is waiting when ManualClock.Waiters grows, then advances the
// clock. (A ManualClock keeps the After channels nobody waits on any more,
// a ring abandoned by a cancelled ctx or a talk timer of a call hung up
// early, until the clock reaches them: they count in Waiters until then.)
//
//   - Answered outcomes (human, machine, fax) ring for Options.Ring, or
//     for DialRequest.Ring when that is shorter: the request's Ring bounds
//     the ringing, so a call that answers after the bound would have been
//     no answer.
//   - No answer rings for DialRequest.Ring when it is set, else for
//     Options.Ring: the far end never picks up, so the caller gives up when
//     its own bound runs out.
//   - Busy, invalid and error answer at once, as the network does.
//   - Options.Ring 0 turns ringing off: every Dial returns at once,
//     whatever DialRequest.Ring says. Benchmarks use it so that a no-answer
//     number does not hold a worker for the engine's ring timeout in real
//     time.
//
// Cancelling ctx while a call rings abandons it: Dial returns a
// DialResult with OutcomeNoAnswer and Cause "cancelled" and a nil error,
// since the call was placed (the key is spent) and only never answered; the
// caller that cancelled knows why from its own ctx. A ctx already done
// before Dial places nothing: Dial returns ctx.Err() and the key stays
// unused.
//
// Bridge starts the conversation. When the customer leg of the bridge was
// answered as a person (its reported outcome is OutcomeHuman), the
// customer hangs up after Options.Talk of clock time and both calls end;
// Talk 0 means the customer hangs up as soon as the calls are bridged. A
// customer leg answered by a machine or a fax has no talk timer: the
// bridge lasts until a Hangup. Bridge does not wait for the conversation.
//
// # Keys
//
// Like any Dialer, a Dialer refuses a DialRequest.Key it has already
// dialled (callbackd.ErrAlreadyDialled), even while the first call still
// rings. It remembers keys in memory only, and only for 24 hours of clock
// time and for the last 1,000,000 keys: enough for any demo or benchmark,
// and bounded for one that runs for days. The engine never reuses a key on
// purpose (it writes the attempt to the store before dialling); the check
// is here to catch an engine that does, not to be durable across
// restarts. An empty Key is never remembered, so tests may leave it out.
//
// # Who hung up
//
// The engine and the tests need to know whether a call ended because the
// far end hung up or because it was hung up here: (*Call).HungUpBy says
// HungUpRemote or HungUpLocal. It is a method of the concrete *Call only,
// not of callbackd.Call: a real dialer reports that through its own
// events. A call ended because its bridged peer ended says HungUpRemote:
// from that call's side the other party went away.
package simdialer
