package numbers

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Normalize is the key under which customer numbers are compared (lookup
// keys, duplicate and per-number limits): the E.164 form when number
// parses with country (an ISO 3166 code, any case), so "555-546-1206",
// "(555) 546-1206" and "+1 555 546 1206" with US are one customer,
// +15555461206. An extension is dropped: the customer is the same.
//
// A number that does not parse (no country and no leading +, letters
// only, too long) keeps everything but its separators (spaces, dashes,
// dots, slashes, parentheses, invisible marks), so an exact re-send, or a
// re-send formatted differently, still finds the same records and two
// different strings never collapse into an empty key.
//
// It never fails and never panics; it costs one parse, or none for a
// number seen just before (see memo.go).
func Normalize(number, country string) string {
	country = canonicalCountry(country)
	if v, ok := normalized.get(number, country); ok {
		return v
	}
	v := normalize(number, country)
	normalized.put(number, country, v)
	return v
}

func normalize(number, country string) string {
	if pn, err := parse(number, country); err == nil {
		if e164, ok := formatE164(pn); ok {
			return e164
		}
	}
	return strings.Map(func(r rune) rune {
		if isSeparator(r) {
			return -1
		}
		return r
	}, number)
}

// formatE164 formats pn, containing any panic of the library.
func formatE164(pn *phonenumbers.PhoneNumber) (s string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s, ok = "", false
		}
	}()
	return phonenumbers.Format(pn, phonenumbers.E164), true
}
