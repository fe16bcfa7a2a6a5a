package numbers

import (
	"errors"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Type names as libphonenumber spells them, indexed by PhoneNumberType, so
// that operators can look them up in its documentation.
var typeNames = [...]string{
	phonenumbers.FIXED_LINE:           "FIXED_LINE",
	phonenumbers.MOBILE:               "MOBILE",
	phonenumbers.FIXED_LINE_OR_MOBILE: "FIXED_LINE_OR_MOBILE",
	phonenumbers.TOLL_FREE:            "TOLL_FREE",
	phonenumbers.PREMIUM_RATE:         "PREMIUM_RATE",
	phonenumbers.SHARED_COST:          "SHARED_COST",
	phonenumbers.VOIP:                 "VOIP",
	phonenumbers.PERSONAL_NUMBER:      "PERSONAL_NUMBER",
	phonenumbers.PAGER:                "PAGER",
	phonenumbers.UAN:                  "UAN",
	phonenumbers.VOICEMAIL:            "VOICEMAIL",
	phonenumbers.UNKNOWN:              "UNKNOWN",
}

// typeName names t, "UNKNOWN" for anything the table does not know.
func typeName(t phonenumbers.PhoneNumberType) string {
	if int(t) >= 0 && int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "UNKNOWN"
}

// canonicalCountry turns a configured _default_country into the upper-case
// form libphonenumber expects ("us" and " US " both mean US).
func canonicalCountry(country string) string {
	return strings.ToUpper(strings.TrimSpace(country))
}

// KnownCountry reports whether country (any case) is an ISO 3166 alpha-2
// code the phone number metadata knows, so that the configuration loader
// can refuse a _default_country such as "USA" before a request finds out.
func KnownCountry(country string) bool {
	return phonenumbers.GetSupportedRegions()[canonicalCountry(country)]
}

// stripInvisible removes Unicode format characters (left-to-right marks,
// zero-width spaces, byte order marks). Phones and web pages wrap copied
// numbers in them ("\u202a+1 555 546 1206\u202c"); they are invisible to
// the person who sent the number, so they never count against it, and
// libphonenumber refuses them.
func stripInvisible(s string) string {
	if strings.IndexFunc(s, isInvisible) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isInvisible(r) {
			return -1
		}
		return r
	}, s)
}

func isInvisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// isSeparator reports whether r is one of the characters people write
// between the digits of a phone number: spaces, dashes, dots, slashes,
// parentheses and brackets (ASCII or full-width).
func isSeparator(r rune) bool {
	switch r {
	case '.', '(', ')', '/', '[', ']', '．', '（', '）', '／', '［', '］':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || isInvisible(r)
}

func isPlus(r rune) bool { return r == '+' || r == '＋' }

// hasOnlyExpectedChars reports whether s holds nothing but decimal digits
// (any script, as libphonenumber reads them), separators, and at most one
// plus sign before the first digit. Everything else (letters, "*", "#",
// ",", ";", an "ext." suffix, a "tel:" prefix) is one of the "unexpected
// characters" of _disallow_impossible_phone_numbers: a dialer cannot call
// it back as written.
func hasOnlyExpectedChars(s string) bool {
	seenDigitOrPlus := false
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			seenDigitOrPlus = true
		case isPlus(r):
			if seenDigitOrPlus {
				return false
			}
			seenDigitOrPlus = true
		case isSeparator(r):
		default:
			return false
		}
	}
	return true
}

// errLibraryPanic stands for a panic inside libphonenumber.
var errLibraryPanic = errors.New("the phone number library could not read it")

// parse parses number with the default country. libphonenumber is a port
// of a large Java library; a panic inside it must never take a request
// down, so one is turned into a parse failure.
func parse(number, country string) (pn *phonenumbers.PhoneNumber, err error) {
	defer func() {
		if r := recover(); r != nil {
			pn, err = nil, errLibraryPanic
		}
	}()
	pn, err = phonenumbers.Parse(stripInvisible(number), country)
	if err != nil {
		return nil, err
	}
	return pn, nil
}

// facts is what the policy needs to know about a parsed number, computed
// in one place so that a library panic in any of the calls is contained.
type facts struct {
	e164     string
	region   string
	typ      phonenumbers.PhoneNumberType
	possible bool // a full number of a length its country has
	valid    bool
}

// describe computes the facts of pn. The type lookup is the slow part (a
// regular expression per number type, and for +1 numbers per NANP country),
// so validity is derived from it instead of asking the library twice:
// IsValidNumber is exactly "GetNumberType is not UNKNOWN".
func describe(pn *phonenumbers.PhoneNumber, country string) (f facts, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			f, ok = facts{}, false
		}
	}()
	f.e164 = phonenumbers.Format(pn, phonenumbers.E164)
	region := phonenumbers.GetRegionCodeForNumber(pn)
	f.region = regionOf(pn, region, country)
	f.possible = phonenumbers.IsPossibleNumberWithReason(pn) == phonenumbers.IS_POSSIBLE
	// GetNumberType looks the region up again (for +1, trying each of 25
	// NANP countries) and, without one, answers UNKNOWN: skip it then.
	if region != "" {
		f.typ = phonenumbers.GetNumberType(pn)
	} else {
		f.typ = phonenumbers.UNKNOWN
	}
	f.valid = f.typ != phonenumbers.UNKNOWN
	return f, true
}

// regionOf is the region a number belongs to, given libphonenumber's
// answer. It only names one for valid numbers; for the others (the
// fictional 555 numbers) the default country is the best answer when it
// shares the number's calling code.
func regionOf(pn *phonenumbers.PhoneNumber, region, country string) string {
	if region != "" {
		return region
	}
	if country != "" && phonenumbers.GetCountryCodeForRegion(country) == int(pn.GetCountryCode()) {
		return country
	}
	return ""
}
