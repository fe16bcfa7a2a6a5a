package numbers

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Option names of spec 001 that this package implements. Rejections and
// configuration errors carry them so that messages and logs name the
// option an operator has to look at.
const (
	OptionImpossible     = "_disallow_impossible_phone_numbers"
	OptionPremium        = "_disallow_premium_phone_numbers"
	OptionDefaultCountry = "_default_country"
	OptionExceptions     = "_exceptions"
)

// Policy is the number part of a callback service's options. The zero
// value accepts every number, which is what a service gets with both
// _disallow_ options set to false.
type Policy struct {
	// DefaultCountry is _default_country, an ISO 3166 alpha-2 code in any
	// case: the country of numbers written without a leading +.
	DefaultCountry string
	// DisallowImpossible is _disallow_impossible_phone_numbers.
	DisallowImpossible bool
	// DisallowPremium is _disallow_premium_phone_numbers.
	DisallowPremium bool
}

// Number is what Check learned about a customer number, so that the caller
// can store and log the E.164 form next to what the client sent.
type Number struct {
	// Raw is the number exactly as the client sent it.
	Raw string
	// E164 is the number in E.164 form (+15555461206), or "" when it cannot
	// be parsed.
	E164 string
	// Region is the ISO 3166 country the number belongs to ("001" for
	// international services such as +800), or "" when unknown.
	Region string
	// Type is libphonenumber's type name (FIXED_LINE, MOBILE,
	// PREMIUM_RATE, ..., UNKNOWN), or "" when the number cannot be parsed.
	Type string
	// Valid reports whether the number is assigned to an operator per
	// libphonenumber's metadata (false for the fictional 555 numbers).
	Valid bool
}

// Check applies the policy to a customer number. It returns a *Rejection
// (NUMBER_REJECTED) when a _disallow_ option refuses the number, and a
// *ConfigError (BAD_CONFIGURATION) when such an option is set without a
// usable _default_country. The returned Number is filled as far as it is
// known, rejected or not, so that the caller can log it.
//
// With both options off Check never fails; it still fills E164 when the
// number can be parsed.
func (p Policy) Check(number string) (Number, error) {
	n := Number{Raw: number}
	country := canonicalCountry(p.DefaultCountry)
	if p.DisallowImpossible || p.DisallowPremium {
		option := OptionImpossible
		if !p.DisallowImpossible {
			option = OptionPremium
		}
		if country == "" {
			return n, &ConfigError{Option: option}
		}
		if !KnownCountry(country) {
			return n, &ConfigError{Option: option, Country: strings.TrimSpace(p.DefaultCountry)}
		}
	}

	var f facts
	pn, err := parse(number, country)
	parsed := err == nil
	if parsed {
		f, parsed = describe(pn, country)
	}
	if parsed {
		n.E164, n.Region, n.Type, n.Valid = f.e164, f.region, typeName(f.typ), f.valid
		normalized.put(number, country, f.e164) // what Normalize would compute
	}

	if p.DisallowImpossible && (!parsed || !f.possible || !hasOnlyExpectedChars(number)) {
		return n, &Rejection{
			Option:  OptionImpossible,
			Number:  number,
			Message: fmt.Sprintf("Customer Number [%s] is disallowed, because it is invalid. Check option %s", number, OptionImpossible),
		}
	}
	if p.DisallowPremium && parsed && (f.typ == phonenumbers.PREMIUM_RATE || f.typ == phonenumbers.SHARED_COST) {
		return n, &Rejection{
			Option:  OptionPremium,
			Number:  number,
			Message: fmt.Sprintf("Customer Number [%s] is disallowed, because it's a premium number. Check option %s", n.E164, OptionPremium),
		}
	}
	return n, nil
}

// ConfigError reports a _disallow_ option set on a service whose
// _default_country is missing or unknown: no request to that service can
// be checked, so the caller answers BAD_CONFIGURATION (50020) with
// Message, as the original did.
type ConfigError struct {
	// Option is the _disallow_ option that needs the country
	// (_disallow_impossible_phone_numbers when both are set).
	Option string
	// Country is the configured _default_country when it is set but not an
	// ISO 3166 code the metadata knows; "" when it is not configured.
	Country string
}

// Error is for logs; clients get Message, which names the service.
func (e *ConfigError) Error() string {
	if e.Country == "" {
		return fmt.Sprintf("numbers: %s is not configured but %s is set", OptionDefaultCountry, e.Option)
	}
	return fmt.Sprintf("numbers: %s=%s is not an ISO 3166 country code but %s is set", OptionDefaultCountry, e.Country, e.Option)
}

// Message is the client-facing text for service. A missing country gets
// spec 001's exact words; an unknown one gets the same sentence shape
// naming the bad value, which the original never described.
func (e *ConfigError) Message(service string) string {
	if e.Country == "" {
		return MissingCountryMessage(service, e.Option)
	}
	return fmt.Sprintf("Service option %s / %s=%s is not an ISO 3166 country code. But option %s is set. We cannot validate phone numbers without knowing the country.",
		service, OptionDefaultCountry, e.Country, e.Option)
}

// MissingCountryMessage is spec 001's BAD_CONFIGURATION message for a
// service that sets option (_disallow_impossible_phone_numbers or
// _disallow_premium_phone_numbers) without _default_country. It is
// exported so that a configuration check can report the same words a
// request would get.
func MissingCountryMessage(service, option string) string {
	return fmt.Sprintf("Service option %s / %s is not configured. But option %s is set. We cannot validate phone numbers without knowing the country.",
		service, OptionDefaultCountry, option)
}
