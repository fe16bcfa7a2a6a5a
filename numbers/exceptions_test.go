package numbers

import (
	"errors"
	"reflect"
	"regexp/syntax"
	"testing"
)

// specGroup is a group like the original documentation's examples.
var specGroup = map[string]string{
	"exception1": `\+33.*`,
	"exception2": `\+12345`,
	"date":       `(0[1-9]|1[0-9]|2[0-9]|3[01]).(0[1-9]|1[012]).[0-9]{4}`,
	"email":      `^[_A-Za-z0-9-]+(\.[_A-Za-z0-9-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`,
}

func mustGroup(t *testing.T, name string, entries map[string]string) *Group {
	t.Helper()
	g, errs := CompileGroup(name, entries)
	if len(errs) != 0 {
		t.Fatalf("CompileGroup(%q) errors = %v", name, errs)
	}
	return g
}

func TestGroupMatch(t *testing.T) {
	g := mustGroup(t, "Callback_exceptions", specGroup)
	tests := []struct {
		name  string
		value string
		entry string
		ok    bool
	}{
		{"MatchWhole", "+12345", "exception2", true},
		{"NoMatchLonger", "+123456", "", false},
		{"NoMatchSubstring", "x+12345", "", false},
		{"MatchPrefixPattern", "+33123456789", "exception1", true},
		{"MatchUnanchoredPatternWhole", "24.12.2026", "date", true},
		{"NoMatchUnanchoredPatternInside", "born 24.12.2026", "", false},
		{"MatchAnchoredPattern", "john.doe@example.com", "email", true},
		{"NoMatchEmpty", "", "", false},
		{"NoMatchNewlineAfter", "+12345\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entry, ok := g.Match(tt.value)
			if entry != tt.entry || ok != tt.ok {
				t.Errorf("Match(%q) = %q, %v, want %q, %v", tt.value, entry, ok, tt.entry, tt.ok)
			}
		})
	}
}

func TestGroupMatchReportsFirstEntryByName(t *testing.T) {
	g := mustGroup(t, "g", map[string]string{"b": `\+1.*`, "a": `\+12.*`, "c": `.*`})
	for range 20 { // map order varies between runs; the answer must not
		if entry, _ := g.Match("+125"); entry != "a" {
			t.Fatalf("Match = %q, want a", entry)
		}
	}
	if entry, _ := g.Match("+13"); entry != "b" {
		t.Errorf("Match = %q, want b", entry)
	}
}

func TestGroupMatchSemantics(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		ok      bool
	}{
		{"AlternationNeedsWholeValue", `a|ab`, "ab", true},
		{"MultilineFlagCannotUnanchor", `(?m)^a$`, "a\nb", false},
		{"CaseSensitiveByDefault", `abc`, "ABC", false},
		{"CaseInsensitiveFlag", `(?i)abc`, "ABC", true},
		{"DotDoesNotMatchNewline", `a.b`, "a\nb", false},
		{"EmptyPatternMatchesEmptyOnly", ``, "", true},
		{"EmptyPatternMatchesNothingElse", ``, "a", false},
		{"QuotedLiteral", `\Q+1 (555)\E.*`, "+1 (555) 546", true},
		{"UnterminatedQuoteRunsToTheEnd", `\+33\Q(0)`, "+33(0)", true},
		{"UnbalancedLookingQuote", `\Qa)|(b`, "a)|(b", true},
		{"UngreedyFlagStillWhole", `(?U)a+`, "aaa", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mustGroup(t, "g", map[string]string{"e": tt.pattern})
			if _, ok := g.Match(tt.value); ok != tt.ok {
				t.Errorf("pattern %q Match(%q) = %v, want %v", tt.pattern, tt.value, ok, tt.ok)
			}
		})
	}
}

func TestCompileGroupErrors(t *testing.T) {
	hint := " (patterns are RE2: no lookaround, backreferences, possessive quantifiers or atomic groups)"
	g, errs := CompileGroup("Callback_exceptions", map[string]string{
		"good":         `\+1900.*`,
		"unbalanced":   `a)|(b`,
		"lookahead":    `(?=\+1)\d+`,
		"backref":      `(a)\1`,
		"possessive":   `a++`,
		"unclosed":     `(abc`,
		"zzz-trailing": `abc\`,
	})
	want := []string{
		"[pattern.Callback_exceptions] backref = (a)\\1: error parsing regexp: invalid escape sequence: `\\1`" + hint,
		"[pattern.Callback_exceptions] lookahead = (?=\\+1)\\d+: error parsing regexp: invalid or unsupported Perl syntax: `(?=`" + hint,
		"[pattern.Callback_exceptions] possessive = a++: error parsing regexp: invalid nested repetition operator: `++`" + hint,
		"[pattern.Callback_exceptions] unbalanced = a)|(b: error parsing regexp: unexpected ): `a)|(b`",
		"[pattern.Callback_exceptions] unclosed = (abc: error parsing regexp: missing closing ): `(abc`",
		"[pattern.Callback_exceptions] zzz-trailing = abc\\: error parsing regexp: trailing backslash at end of expression: ``",
	}
	var got []string
	for _, err := range errs {
		got = append(got, err.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors =\n%q\nwant\n%q", got, want)
	}

	var pe *PatternError
	if !errors.As(errs[0], &pe) || pe.Group != "Callback_exceptions" || pe.Entry != "backref" || pe.Pattern != `(a)\1` {
		t.Errorf("errs[0] = %#v, want a *PatternError naming backref", errs[0])
	}
	var se *syntax.Error
	if !errors.As(errs[0], &se) || se.Code != syntax.ErrInvalidEscape {
		t.Errorf("errs[0] does not unwrap to the syntax error: %v", errs[0])
	}

	if g.Name() != "Callback_exceptions" || g.Len() != 1 {
		t.Errorf("group = %q with %d entries, want the one good entry", g.Name(), g.Len())
	}
	if entry, ok := g.Match("+19005551234"); entry != "good" || !ok {
		t.Errorf("Match = %q, %v, want good", entry, ok)
	}
}

func TestNilGroupMatchesNothing(t *testing.T) {
	var g *Group
	if entry, ok := g.Match("+12345"); ok || entry != "" {
		t.Errorf("Match = %q, %v", entry, ok)
	}
	if r := g.CheckRequest("12345", map[string]string{"a": "b"}); r != nil {
		t.Errorf("CheckRequest = %v", r)
	}
	if g.Name() != "" || g.Len() != 0 {
		t.Errorf("Name, Len = %q, %d", g.Name(), g.Len())
	}
}

func TestGroupCheckRequest(t *testing.T) {
	g := mustGroup(t, "Callback_exceptions", map[string]string{
		"exception1": `\+33.*`,
		"exception2": `\+12345`,
		"raw":        `12345678`,
		"bad-email":  `.*@badrobot\.com`,
		"anything":   `\d*`,
	})
	tests := []struct {
		name   string
		number string
		params map[string]string
		want   *Rejection
	}{
		{
			name: "ErrCustomerNumber spec example", number: "12345",
			want: &Rejection{Option: "_exceptions", Message: "Customer Number [12345] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception2}",
				Number: "12345", Group: "Callback_exceptions", Entry: "exception2", Param: "_customer_number", Value: "+12345"},
		},
		{
			name: "ErrCustomerNumber already with plus", number: "+33 1 23 45 67 89",
			want: &Rejection{Option: "_exceptions", Message: "Customer Number [+33 1 23 45 67 89] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception1}",
				Number: "+33 1 23 45 67 89", Group: "Callback_exceptions", Entry: "exception1", Param: "_customer_number", Value: "+33 1 23 45 67 89"},
		},
		{
			name: "ErrCustomerNumber surrounding spaces trimmed", number: " 12345 ",
			want: &Rejection{Option: "_exceptions", Message: "Customer Number [ 12345 ] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception2}",
				Number: " 12345 ", Group: "Callback_exceptions", Entry: "exception2", Param: "_customer_number", Value: "+12345"},
		},
		{
			name: "OK raw form is not matched", number: "12345678",
		},
		{
			name: "OK digits pattern does not match the plus form", number: "5555461206",
			params: map[string]string{"_call_direction": "", "firstname": "John"},
		},
		{
			name: "ErrParameter", number: "5555461206",
			params: map[string]string{"email": "spam@badrobot.com", "firstname": "John"},
			want: &Rejection{Option: "_exceptions", Message: "Parameter [email=spam@badrobot.com] is not allowed. Check option 'exceptions' : details={Callback_exceptions=bad-email}",
				Number: "5555461206", Group: "Callback_exceptions", Entry: "bad-email", Param: "email", Value: "spam@badrobot.com"},
		},
		{
			name: "ErrParameter first by name", number: "5555461206",
			params: map[string]string{"z": "42", "b": "7", "a": "x"},
			want: &Rejection{Option: "_exceptions", Message: "Parameter [b=7] is not allowed. Check option 'exceptions' : details={Callback_exceptions=anything}",
				Number: "5555461206", Group: "Callback_exceptions", Entry: "anything", Param: "b", Value: "7"},
		},
		{
			name: "ErrCustomerNumber checked before parameters", number: "12345",
			params: map[string]string{"a": "1"},
			want: &Rejection{Option: "_exceptions", Message: "Customer Number [12345] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception2}",
				Number: "12345", Group: "Callback_exceptions", Entry: "exception2", Param: "_customer_number", Value: "+12345"},
		},
		{
			name: "OK customer number parameter is not matched raw", number: "5555461206",
			params: map[string]string{"_customer_number": "12345678"},
		},
		{
			name: "OK empty values are never matched", number: "",
			params: map[string]string{"_call_direction": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.CheckRequest(tt.number, tt.params)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CheckRequest(%q, %v) =\n %+v\nwant\n %+v", tt.number, tt.params, got, tt.want)
			}
			if got != nil && got.Error() != tt.want.Message {
				t.Errorf("Error() = %q, want %q", got.Error(), tt.want.Message)
			}
		})
	}
}
