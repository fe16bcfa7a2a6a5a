package numbers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Info describes a phone number for GET /1/phonenumber, so that an
// operator or a client can see beforehand what the number policy will make
// of a number. JSON names are camelCase, like the v2 API's.
type Info struct {
	// Number is the number as given.
	Number string `json:"number"`
	// Valid reports a possible number that libphonenumber's metadata also
	// knows to be assigned (false for the fictional 555 numbers).
	Valid bool `json:"valid"`
	// Possible reports exactly what _disallow_impossible_phone_numbers
	// accepts: expected characters only, and a full number of a length its
	// country has.
	Possible bool `json:"possible"`
	// Type is libphonenumber's type name: FIXED_LINE, MOBILE,
	// FIXED_LINE_OR_MOBILE, TOLL_FREE, PREMIUM_RATE, SHARED_COST, VOIP,
	// PERSONAL_NUMBER, PAGER, UAN, VOICEMAIL or UNKNOWN.
	Type string `json:"type"`
	// E164 is the form Normalize gives: +15555461206.
	E164 string `json:"e164"`
	// CountryCode is the calling code (1 for +1).
	CountryCode int `json:"countryCode"`
	// Region is the ISO 3166 country ("001" for international services),
	// or "" when unknown.
	Region string `json:"region"`
	// TimeZones are the IANA zones the number may be in, best guess from
	// its prefix; empty, never null, when unknown.
	TimeZones []string `json:"timeZones"`
}

// ParseError is a number Lookup cannot read at all; the caller answers it
// as BAD_PARAMETER with its message, which names the number.
type ParseError struct {
	// Number is the number as given.
	Number string
	// Reason says why, in words a client can act on.
	Reason string
	// Err is the library's error, for errors.Is.
	Err error
}

// Error is the client-facing message: it names the number as given and
// says why it cannot be read.
func (e *ParseError) Error() string {
	return fmt.Sprintf("Cannot parse phone number [%s]: %s", e.Number, e.Reason)
}

// Unwrap gives the library's error (phonenumbers.ErrNotANumber, ...).
func (e *ParseError) Unwrap() error { return e.Err }

// Lookup describes number, read with the default country (ISO 3166, any
// case; "" accepts only numbers with a leading +). It fails with a
// *ParseError only when the number cannot be parsed at all; impossible
// and invalid numbers are described, with Possible or Valid false.
func Lookup(number, country string) (Info, error) {
	country = canonicalCountry(country)
	info := Info{Number: number, TimeZones: []string{}}
	pn, err := parse(number, country)
	var f facts
	ok := err == nil
	if ok {
		f, ok = describe(pn, country)
	}
	if !ok {
		return info, &ParseError{Number: number, Reason: parseReason(err, country), Err: err}
	}
	info.Possible = f.possible && hasOnlyExpectedChars(number)
	info.Valid = info.Possible && f.valid
	info.Type = typeName(f.typ)
	info.E164 = f.e164
	info.CountryCode = int(pn.GetCountryCode())
	info.Region = f.region
	info.TimeZones = timeZones(pn)
	return info, nil
}

// parseReason words a parse failure for a client.
func parseReason(err error, country string) string {
	switch {
	case err == nil:
		return "the phone number library could not read it"
	case errors.Is(err, phonenumbers.ErrNotANumber):
		return "the string supplied did not seem to be a phone number"
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && country == "":
		return "it has no leading + and no default country was given"
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode) && !KnownCountry(country):
		return fmt.Sprintf("the default country %s is not an ISO 3166 country code", country)
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "its country calling code is unknown"
	}
	return err.Error()
}

// timeZones is the library's guess, copied (the library hands out its own
// slice) and without its "Etc/Unknown" placeholder.
func timeZones(pn *phonenumbers.PhoneNumber) (zones []string) {
	zones = []string{}
	defer func() {
		if r := recover(); r != nil {
			zones = []string{}
		}
	}()
	tzs, err := phonenumbers.GetTimezonesForNumber(pn)
	if err != nil {
		return zones
	}
	for _, tz := range tzs {
		if tz != "" && !strings.EqualFold(tz, phonenumbers.UNKNOWN_TIMEZONE) {
			zones = append(zones, tz)
		}
	}
	return zones
}
