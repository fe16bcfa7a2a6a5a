// Package numbers is callbackd's phone number policy: the checks a Start
// Callback request goes through before anything is stored. It is pure (no
// I/O, no clock) and safe for concurrent use.
//
// It covers four service options of the GMS Callback API (spec 001):
//
//   - _disallow_impossible_phone_numbers: Policy.Check rejects a customer
//     number that holds unexpected characters, cannot be parsed, or does not
//     have a length a number of its country can have.
//   - _disallow_premium_phone_numbers: Policy.Check rejects premium-rate and
//     shared-cost numbers (the US 1-900 numbers, the French 08 9x, ...).
//   - _default_country: the ISO 3166 country a number without a leading +
//     belongs to. Either _disallow_ option without it is a configuration
//     error (*ConfigError), answered as BAD_CONFIGURATION.
//   - _exceptions: the name of a [pattern.NAME] group of regular
//     expressions (Group). A customer number or request parameter that one
//     of them matches is rejected.
//
// Normalize gives the E.164 key under which numbers are compared, so that
// "555-546-1206" and "+1 (555) 546-1206" are the same customer, and Lookup
// describes a number for GET /1/phonenumber.
//
// # Gotchas
//
// "Impossible" is libphonenumber's notion: the number's length is one that
// numbers of its country can have. It is not "valid" (assigned to an
// operator): the fictional US 555 numbers that client examples and test
// suites use (555-546-1206) are possible but not valid, and the original GMS,
// whose option defaults are _disallow_impossible_phone_numbers=true and
// _default_country=US, accepted them. Numbers that are only dialable inside
// their own area (546-1206 in the US) are rejected: a contact center cannot
// call them back without the area code.
//
// Exception patterns are Java regular expressions in the original and RE2
// here. Most patterns mean the same in both; lookaround, backreferences,
// possessive quantifiers and atomic groups do not exist in RE2 and are
// reported by CompileGroup instead of being silently ignored. In exchange a
// match takes time linear in the length of the value, so no configured
// pattern can be made to backtrack catastrophically by a request. A pattern
// must match the whole value, as Java's String.matches does.
//
// Messages that clients and operators match on (the Rejection and
// ConfigError texts) are copied verbatim from the specification; the tests
// pin them.
package numbers
