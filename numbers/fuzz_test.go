package numbers

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// The fuzzers check that no input, however hostile, panics or breaks the
// invariants callers rely on. Their seed corpora live in
// testdata/fuzz/<FuzzName>/ and run with every go test.

func FuzzCheck(f *testing.F) {
	for _, s := range []struct{ number, country string }{
		{"555-546-1206", "US"}, {"+19005551234", "us"}, {"111", "US"}, {"abc", "FR"},
		{"\u202a+1 (555) 546-1206\u202c", "US"}, {"٥٥٥٥٤٦١٢٠٦", "US"}, {"+800 1234 5678", ""},
		{"tel:+1-555-546-1206;ext=12", "US"}, {"+", "ZZ"}, {strings.Repeat("9", 300), "US"},
	} {
		f.Add(s.number, s.country)
	}
	f.Fuzz(func(t *testing.T, number, country string) {
		for _, p := range []Policy{
			{DefaultCountry: country, DisallowImpossible: true, DisallowPremium: true},
			{DefaultCountry: country},
		} {
			n, err := p.Check(number)
			if n.Raw != number {
				t.Fatalf("Raw = %q, want %q", n.Raw, number)
			}
			var rej *Rejection
			var ce *ConfigError
			switch {
			case err == nil:
				if p.DisallowImpossible && !strings.HasPrefix(n.E164, "+") {
					t.Fatalf("accepted %q with E164 %q", number, n.E164)
				}
			case errors.As(err, &rej):
				if !p.DisallowImpossible || rej.Message == "" {
					t.Fatalf("unexpected rejection %v", err)
				}
			case errors.As(err, &ce):
				if KnownCountry(country) || ce.Message("s") == "" {
					t.Fatalf("unexpected config error %v", err)
				}
			default:
				t.Fatalf("unexpected error %T %v", err, err)
			}
			if n.E164 != "" && n.E164 != Normalize(number, country) {
				t.Fatalf("E164 %q != Normalize %q", n.E164, Normalize(number, country))
			}
		}
		info, err := Lookup(number, country)
		if err == nil && (info.E164 == "" || info.TimeZones == nil || (info.Valid && !info.Possible)) {
			t.Fatalf("Lookup = %+v", info)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []struct{ number, country string }{
		{"555-546-1206", "US"}, {"(555) 546-1206", "us"}, {"+1 555 546 1206", ""},
		{"john doe", "US"}, {"", ""}, {"+44 (0) 20 7946 0958", "GB"}, {"０３-１２３４-５６７８", "JP"},
	} {
		f.Add(s.number, s.country)
	}
	f.Fuzz(func(t *testing.T, number, country string) {
		key := Normalize(number, country)
		if key != Normalize(number, country) {
			t.Fatalf("Normalize(%q, %q) is not deterministic", number, country)
		}
		if strings.ContainsFunc(key, isSeparator) {
			t.Fatalf("Normalize(%q, %q) = %q keeps a separator", number, country, key)
		}
	})
}

func FuzzCompileGroup(f *testing.F) {
	for _, s := range []struct{ pattern, value string }{
		{`\+12345`, "+12345"}, {`\+33.*`, "+33123"}, {`a)|(b`, "ab"}, {`(?m)^a$`, "a\nb"},
		{`(?=a)`, "a"}, {`(a+)+$`, strings.Repeat("a", 64) + "!"}, {`\Q+1\E.*`, "+1 555"},
		{`a{1000}`, strings.Repeat("a", 1000)}, {``, ""},
	} {
		f.Add(s.pattern, s.value)
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		g, errs := CompileGroup("g", map[string]string{"e": pattern})
		plain, plainErr := regexp.Compile(pattern)
		if (len(errs) == 0) != (plainErr == nil) {
			t.Fatalf("CompileGroup errors %v, regexp.Compile error %v", errs, plainErr)
		}
		entry, ok := g.Match(value)
		if ok && (entry != "e" || !plain.MatchString(value)) {
			t.Fatalf("Match(%q) = %q, %v for %q but the pattern does not occur in it", value, entry, ok, pattern)
		}
		// Where wrapping the pattern in anchors is sound (no \Q quote to
		// swallow the wrapper), it must agree with the group.
		if plainErr == nil && !strings.Contains(pattern, `\Q`) {
			if anchored, err := regexp.Compile(`\A(?:` + pattern + `)\z`); err == nil && anchored.MatchString(value) != ok {
				t.Fatalf("pattern %q value %q: group says %v, anchored regexp says %v", pattern, value, ok, !ok)
			}
		}
		rej := g.CheckRequest(value, map[string]string{"k": value})
		if rej != nil && rej.Entry != "e" {
			t.Fatalf("CheckRequest = %+v", rej)
		}
	})
}
