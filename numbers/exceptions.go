package numbers

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// CustomerNumberParam is the request parameter holding the customer
// number. CheckRequest matches it in its +-prefixed form and skips it
// among the other parameters.
const CustomerNumberParam = "_customer_number"

// Group is a compiled [pattern.NAME] section: the regular expressions an
// _exceptions option refers to. It is immutable and safe for concurrent
// use; a nil *Group matches nothing, which is what a service without
// _exceptions gets.
type Group struct {
	name    string
	entries []patternEntry // sorted by name, so the reported entry is stable
}

type patternEntry struct {
	name string
	re   *regexp.Regexp
}

// PatternError is an entry of a pattern group whose regular expression
// does not compile, named so that the operator can find it in the
// configuration.
type PatternError struct {
	Group   string // the NAME of [pattern.NAME]
	Entry   string // the entry's name
	Pattern string // the regular expression as configured
	Err     error  // the *syntax.Error, possibly wrapped with a hint
}

// Error names the section, the entry and the pattern, so the operator can
// fix the configuration from the log line alone.
func (e *PatternError) Error() string {
	return fmt.Sprintf("[pattern.%s] %s = %s: %v", e.Group, e.Entry, e.Pattern, e.Err)
}

// Unwrap gives the *syntax.Error, so callers can tell a syntax error from
// anything else.
func (e *PatternError) Unwrap() error { return e.Err }

// javaHint is added to the errors that most often come from a pattern
// written for the original's Java engine.
const javaHint = " (patterns are RE2: no lookaround, backreferences, possessive quantifiers or atomic groups)"

// CompileGroup compiles the entries (entry name -> regular expression) of
// the pattern group name. Every entry that does not compile is reported as
// a *PatternError, in entry-name order; the returned Group holds the
// others, so that a caller that only warns still enforces them.
//
// A pattern must match a whole value, as Java's String.matches does in the
// original: "\+1900.*" rejects every +1900 number and "\+19005551234" only
// that one, never +190055512345. An empty pattern matches only the empty
// value, and CheckRequest never matches empty values, so it matches
// nothing.
func CompileGroup(name string, entries map[string]string) (*Group, []error) {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)

	g := &Group{name: name}
	var errs []error
	for _, n := range names {
		pattern := entries[n]
		re, err := compileWhole(pattern)
		if err != nil {
			errs = append(errs, &PatternError{Group: name, Entry: n, Pattern: pattern, Err: err})
			continue
		}
		g.entries = append(g.entries, patternEntry{name: n, re: re})
	}
	return g, errs
}

// compileWhole compiles pattern for wholeMatch. It does not wrap the
// pattern in \A(?:...)\z: an unterminated \Q quote would swallow the
// wrapper, and an unbalanced pattern such as "a)|(b" would become a valid
// expression that means something else.
func compileWhole(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			switch se.Code {
			case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape, syntax.ErrInvalidRepeatOp:
				return nil, fmt.Errorf("%w%s", err, javaHint)
			}
		}
		return nil, err
	}
	re.Longest()
	return re, nil
}

// wholeMatch reports whether re matches all of value. Under leftmost-longest
// semantics the match found starts at 0 whenever some match does, and is
// then the longest of those, so it spans the value exactly when a whole
// match exists; "a|ab" matches "ab" as Java's String.matches does.
func wholeMatch(re *regexp.Regexp, value string) bool {
	loc := re.FindStringIndex(value)
	return loc != nil && loc[0] == 0 && loc[1] == len(value)
}

// Name is the group's name, the part after "pattern." in its section.
func (g *Group) Name() string {
	if g == nil {
		return ""
	}
	return g.name
}

// Len is the number of entries that compiled.
func (g *Group) Len() int {
	if g == nil {
		return 0
	}
	return len(g.entries)
}

// Match reports the first entry, in entry-name order, whose pattern
// matches the whole of value. The time it takes is linear in len(value)
// for every pattern, whatever the pattern.
func (g *Group) Match(value string) (entry string, ok bool) {
	if g == nil {
		return "", false
	}
	for _, e := range g.entries {
		if wholeMatch(e.re, value) {
			return e.name, true
		}
	}
	return "", false
}

// CheckRequest applies the group to a Start Callback request, the way the
// original's _exceptions did. The customer number is matched with a "+"
// prefixed unless it already starts with one (surrounding spaces
// trimmed): the original documents that a pattern for 12345678901 must be
// written \+12345678901. The raw form is not tried, so that a group written
// for the original rejects exactly the numbers it rejected there. Then
// every other non-empty parameter value is matched, by parameter name in
// byte order, so the same request always reports the same match.
//
// It returns nil when nothing matched. The result is a concrete pointer:
// test it against nil before storing it in an error variable.
func (g *Group) CheckRequest(customerNumber string, params map[string]string) *Rejection {
	if g == nil || len(g.entries) == 0 {
		return nil
	}
	if n := strings.TrimSpace(customerNumber); n != "" {
		if !strings.HasPrefix(n, "+") {
			n = "+" + n
		}
		if entry, ok := g.Match(n); ok {
			return &Rejection{
				Option:  OptionExceptions,
				Message: fmt.Sprintf("Customer Number [%s] is not allowed. Check option 'exceptions' : details={%s=%s}", customerNumber, g.name, entry),
				Number:  customerNumber,
				Group:   g.name,
				Entry:   entry,
				Param:   CustomerNumberParam,
				Value:   n,
			}
		}
	}

	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k != CustomerNumberParam && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := params[k]
		if entry, ok := g.Match(v); ok {
			return &Rejection{
				Option:  OptionExceptions,
				Message: fmt.Sprintf("Parameter [%s=%s] is not allowed. Check option 'exceptions' : details={%s=%s}", k, v, g.name, entry),
				Number:  customerNumber,
				Group:   g.name,
				Entry:   entry,
				Param:   k,
				Value:   v,
			}
		}
	}
	return nil
}
