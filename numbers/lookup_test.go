package numbers

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name    string
		number  string
		country string
		want    Info
	}{
		{
			name: "ValidFixedLine", number: "+44 20 7946 0958", country: "US",
			want: Info{Number: "+44 20 7946 0958", Valid: true, Possible: true, Type: "FIXED_LINE", E164: "+442079460958", CountryCode: 44, Region: "GB", TimeZones: []string{"Europe/London"}},
		},
		{
			name: "ValidNANPNumber", number: "(201) 555-0123", country: "us",
			want: Info{Number: "(201) 555-0123", Valid: true, Possible: true, Type: "FIXED_LINE_OR_MOBILE", E164: "+12015550123", CountryCode: 1, Region: "US", TimeZones: []string{"America/New_York"}},
		},
		{
			name: "PremiumFrench", number: "08 91 12 34 56", country: "FR",
			want: Info{Number: "08 91 12 34 56", Valid: true, Possible: true, Type: "PREMIUM_RATE", E164: "+33891123456", CountryCode: 33, Region: "FR", TimeZones: []string{"Europe/Paris"}},
		},
		{
			name: "InternationalServiceHasNoZone", number: "+800 1234 5678", country: "",
			want: Info{Number: "+800 1234 5678", Valid: true, Possible: true, Type: "TOLL_FREE", E164: "+80012345678", CountryCode: 800, Region: "001", TimeZones: []string{}},
		},
		{
			name: "TooShortIsDescribed", number: "111", country: "FR",
			want: Info{Number: "111", Type: "UNKNOWN", E164: "+33111", CountryCode: 33, Region: "FR", TimeZones: []string{"Europe/Paris"}},
		},
		{
			name: "LettersAreNotPossible", number: "1-800-FLOWERS", country: "US",
			want: Info{Number: "1-800-FLOWERS", Type: "TOLL_FREE", E164: "+18003569377", CountryCode: 1, Region: "US", TimeZones: func() []string {
				pn, _ := phonenumbers.Parse("+18003569377", "")
				return timeZones(pn)
			}()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lookup(tt.number, tt.country)
			if err != nil {
				t.Fatalf("Lookup(%q, %q) error = %v", tt.number, tt.country, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q, %q) =\n %+v\nwant\n %+v", tt.number, tt.country, got, tt.want)
			}
		})
	}
}

// TestLookupFictional555 pins what a client testing with the documentation's
// example numbers sees: possible (accepted by default), not valid, NANP
// zones.
func TestLookupFictional555(t *testing.T) {
	got, err := Lookup("555-546-1206", "US")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Possible || got.Valid || got.Type != "UNKNOWN" || got.E164 != "+15555461206" || got.CountryCode != 1 || got.Region != "US" {
		t.Errorf("Lookup = %+v", got)
	}
	if len(got.TimeZones) == 0 || got.TimeZones[0] != "America/Adak" {
		t.Errorf("TimeZones = %v, want the NANP zones", got.TimeZones)
	}
}

func TestLookupParseError(t *testing.T) {
	tests := []struct {
		name    string
		number  string
		country string
		message string
		cause   error
	}{
		{"ErrNotANumber", "abc", "US", "Cannot parse phone number [abc]: the string supplied did not seem to be a phone number", phonenumbers.ErrNotANumber},
		{"ErrEmpty", "", "US", "Cannot parse phone number []: the string supplied did not seem to be a phone number", phonenumbers.ErrNotANumber},
		{"ErrNoCountry", "555-546-1206", "", "Cannot parse phone number [555-546-1206]: it has no leading + and no default country was given", phonenumbers.ErrInvalidCountryCode},
		{"ErrUnknownCountry", "555-546-1206", "usa", "Cannot parse phone number [555-546-1206]: the default country USA is not an ISO 3166 country code", phonenumbers.ErrInvalidCountryCode},
		{"ErrUnknownCallingCode", "+999 123 456 789", "US", "Cannot parse phone number [+999 123 456 789]: its country calling code is unknown", phonenumbers.ErrInvalidCountryCode},
		{"ErrTooLong", "12345678901234567890", "US", "Cannot parse phone number [12345678901234567890]: the string supplied is too long to be a phone number", phonenumbers.ErrNumTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lookup(tt.number, tt.country)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want *ParseError", err, err)
			}
			if err.Error() != tt.message {
				t.Errorf("message = %q, want %q", err.Error(), tt.message)
			}
			if !errors.Is(err, tt.cause) {
				t.Errorf("error does not wrap %v", tt.cause)
			}
			if pe.Number != tt.number {
				t.Errorf("Number = %q, want %q", pe.Number, tt.number)
			}
			if want := (Info{Number: tt.number, TimeZones: []string{}}); !reflect.DeepEqual(got, want) {
				t.Errorf("Info = %+v, want %+v", got, want)
			}
		})
	}
}

func TestInfoJSON(t *testing.T) {
	info, err := Lookup("+44 20 7946 0958", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"number":"+44 20 7946 0958","valid":true,"possible":true,"type":"FIXED_LINE","e164":"+442079460958","countryCode":44,"region":"GB","timeZones":["Europe/London"]}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	b, _ = json.Marshal(Info{TimeZones: []string{}})
	if want := `{"number":"","valid":false,"possible":false,"type":"","e164":"","countryCode":0,"region":"","timeZones":[]}`; string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

func TestTimeZonesAreACopy(t *testing.T) {
	a, _ := Lookup("+44 20 7946 0958", "")
	a.TimeZones[0] = "Mars/Olympus"
	b, _ := Lookup("+44 20 7946 0958", "")
	if b.TimeZones[0] != "Europe/London" {
		t.Errorf("second Lookup TimeZones = %v: the library's slice was modified", b.TimeZones)
	}
}
