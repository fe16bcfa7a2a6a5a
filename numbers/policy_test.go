package numbers

import (
	"errors"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	strict := Policy{DefaultCountry: "US", DisallowImpossible: true, DisallowPremium: true}
	lenient := Policy{DefaultCountry: "US"}
	fictional := Number{E164: "+15555461206", Region: "US", Type: "UNKNOWN"}

	tests := []struct {
		name    string
		policy  Policy
		number  string
		want    Number // Raw is filled in from number
		wantMsg string // "" means accepted
		option  string
	}{
		{name: "OK fictional 555 with dashes", policy: strict, number: "555-546-1206", want: fictional},
		{name: "OK fictional 555 digits only", policy: strict, number: "5555461206", want: fictional},
		{name: "OK fictional 555 with parentheses", policy: strict, number: "(555) 546-1206", want: fictional},
		{name: "OK fictional 555 international", policy: strict, number: "+1 555 546 1206", want: fictional},
		{name: "OK bidi marks of a copied number", policy: strict, number: "\u202a+1 (555) 546-1206\u202c", want: fictional},
		{name: "OK Arabic-Indic digits", policy: strict, number: "٥٥٥٥٤٦١٢٠٦", want: fictional},
		{name: "OK lower-case country", policy: Policy{DefaultCountry: " us ", DisallowImpossible: true, DisallowPremium: true}, number: "5555461206", want: fictional},
		{name: "OK valid US number", policy: strict, number: "201-555-0123",
			want: Number{E164: "+12015550123", Region: "US", Type: "FIXED_LINE_OR_MOBILE", Valid: true}},
		{name: "OK foreign number with plus", policy: strict, number: "+44 20 7946 0958",
			want: Number{E164: "+442079460958", Region: "GB", Type: "FIXED_LINE", Valid: true}},
		{name: "OK national number of the default country", policy: Policy{DefaultCountry: "FR", DisallowImpossible: true, DisallowPremium: true}, number: "06 12 34 56 78",
			want: Number{E164: "+33612345678", Region: "FR", Type: "MOBILE", Valid: true}},
		{name: "OK toll free is not premium", policy: strict, number: "800-234-5678",
			want: Number{E164: "+18002345678", Region: "US", Type: "TOLL_FREE", Valid: true}},

		{name: "ErrImpossible too short", policy: strict, number: "111",
			want:    Number{E164: "+1111", Region: "US", Type: "UNKNOWN"},
			wantMsg: "Customer Number [111] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible too long", policy: strict, number: "55554612067",
			want:    Number{E164: "+155554612067", Region: "US", Type: "UNKNOWN"},
			wantMsg: "Customer Number [55554612067] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible local number without area code", policy: strict, number: "546-1206",
			want:    Number{E164: "+15461206", Region: "US", Type: "UNKNOWN"},
			wantMsg: "Customer Number [546-1206] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible not a number", policy: strict, number: "abc",
			wantMsg: "Customer Number [abc] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible empty", policy: strict, number: "",
			wantMsg: "Customer Number [] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible unparseable length", policy: strict, number: "12345678901234567890",
			wantMsg: "Customer Number [12345678901234567890] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible extension", policy: strict, number: "+1 555 546 1206 ext. 12",
			want:    fictional,
			wantMsg: "Customer Number [+1 555 546 1206 ext. 12] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible vanity letters", policy: strict, number: "1-800-FLOWERS",
			want:    Number{E164: "+18003569377", Region: "US", Type: "TOLL_FREE", Valid: true},
			wantMsg: "Customer Number [1-800-FLOWERS] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible tel URI", policy: strict, number: "tel:+15555461206",
			want:    fictional,
			wantMsg: "Customer Number [tel:+15555461206] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible star and hash", policy: strict, number: "*5555461206#",
			wantMsg: "Customer Number [*5555461206#] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible plus after digits", policy: strict, number: "555+5461206",
			wantMsg: "Customer Number [555+5461206] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},
		{name: "ErrImpossible unknown calling code", policy: strict, number: "+999 123 456 789",
			wantMsg: "Customer Number [+999 123 456 789] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers", option: OptionImpossible},

		{name: "ErrPremium US 1-900", policy: strict, number: "+19005551234",
			want:    Number{E164: "+19005551234", Region: "US", Type: "PREMIUM_RATE", Valid: true},
			wantMsg: "Customer Number [+19005551234] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers", option: OptionPremium},
		{name: "ErrPremium national form shows E.164", policy: strict, number: "1 (900) 555-1234",
			want:    Number{E164: "+19005551234", Region: "US", Type: "PREMIUM_RATE", Valid: true},
			wantMsg: "Customer Number [+19005551234] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers", option: OptionPremium},
		{name: "ErrPremium French 089", policy: Policy{DefaultCountry: "fr", DisallowPremium: true}, number: "08 91 12 34 56",
			want:    Number{E164: "+33891123456", Region: "FR", Type: "PREMIUM_RATE", Valid: true},
			wantMsg: "Customer Number [+33891123456] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers", option: OptionPremium},
		{name: "ErrPremium shared cost", policy: Policy{DefaultCountry: "DE", DisallowPremium: true}, number: "0180 1 2345",
			want:    Number{E164: "+4918012345", Region: "DE", Type: "SHARED_COST", Valid: true},
			wantMsg: "Customer Number [+4918012345] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers", option: OptionPremium},
		{name: "ErrPremium foreign premium with plus", policy: strict, number: "+44 901 234 5678",
			want:    Number{E164: "+449012345678", Region: "GB", Type: "PREMIUM_RATE", Valid: true},
			wantMsg: "Customer Number [+449012345678] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers", option: OptionPremium},

		{name: "OK premium when only impossible is disallowed", policy: Policy{DefaultCountry: "US", DisallowImpossible: true}, number: "+19005551234",
			want: Number{E164: "+19005551234", Region: "US", Type: "PREMIUM_RATE", Valid: true}},
		{name: "OK impossible when only premium is disallowed", policy: Policy{DefaultCountry: "US", DisallowPremium: true}, number: "111",
			want: Number{E164: "+1111", Region: "US", Type: "UNKNOWN"}},
		{name: "OK unparseable when only premium is disallowed", policy: Policy{DefaultCountry: "US", DisallowPremium: true}, number: "abc"},
		{name: "OK anything with both off", policy: lenient, number: "abc"},
		{name: "OK premium with both off", policy: lenient, number: "+19005551234",
			want: Number{E164: "+19005551234", Region: "US", Type: "PREMIUM_RATE", Valid: true}},
		{name: "OK both off without country keeps E.164 of plus numbers", policy: Policy{}, number: "+1 555 546 1206",
			want: Number{E164: "+15555461206", Type: "UNKNOWN"}},
		{name: "OK both off without country cannot parse national numbers", policy: Policy{}, number: "555-546-1206"},
		{name: "OK both off with unknown country", policy: Policy{DefaultCountry: "USA"}, number: "555-546-1206"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Check(tt.number)
			want := tt.want
			want.Raw = tt.number
			if got != want {
				t.Errorf("Check(%q) = %+v, want %+v", tt.number, got, want)
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Check(%q) error = %v, want nil", tt.number, err)
				}
				return
			}
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Check(%q) error = %v (%T), want *Rejection", tt.number, err, err)
			}
			if rej.Message != tt.wantMsg || err.Error() != tt.wantMsg {
				t.Errorf("message = %q, want %q", rej.Message, tt.wantMsg)
			}
			if rej.Option != tt.option || rej.Number != tt.number {
				t.Errorf("Option, Number = %q, %q, want %q, %q", rej.Option, rej.Number, tt.option, tt.number)
			}
		})
	}
}

func TestPolicyCheckConfigError(t *testing.T) {
	tests := []struct {
		name    string
		policy  Policy
		want    ConfigError
		message string
		err     string
	}{
		{
			name:    "ErrMissingCountry impossible",
			policy:  Policy{DisallowImpossible: true},
			want:    ConfigError{Option: OptionImpossible},
			message: "Service option cb-sales / _default_country is not configured. But option _disallow_impossible_phone_numbers is set. We cannot validate phone numbers without knowing the country.",
			err:     "numbers: _default_country is not configured but _disallow_impossible_phone_numbers is set",
		},
		{
			name:    "ErrMissingCountry premium",
			policy:  Policy{DefaultCountry: "  ", DisallowPremium: true},
			want:    ConfigError{Option: OptionPremium},
			message: "Service option cb-sales / _default_country is not configured. But option _disallow_premium_phone_numbers is set. We cannot validate phone numbers without knowing the country.",
			err:     "numbers: _default_country is not configured but _disallow_premium_phone_numbers is set",
		},
		{
			name:    "ErrMissingCountry both names impossible",
			policy:  Policy{DisallowImpossible: true, DisallowPremium: true},
			want:    ConfigError{Option: OptionImpossible},
			message: "Service option cb-sales / _default_country is not configured. But option _disallow_impossible_phone_numbers is set. We cannot validate phone numbers without knowing the country.",
			err:     "numbers: _default_country is not configured but _disallow_impossible_phone_numbers is set",
		},
		{
			name:    "ErrUnknownCountry",
			policy:  Policy{DefaultCountry: "USA", DisallowPremium: true},
			want:    ConfigError{Option: OptionPremium, Country: "USA"},
			message: "Service option cb-sales / _default_country=USA is not an ISO 3166 country code. But option _disallow_premium_phone_numbers is set. We cannot validate phone numbers without knowing the country.",
			err:     "numbers: _default_country=USA is not an ISO 3166 country code but _disallow_premium_phone_numbers is set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Check("5555461206")
			if got != (Number{Raw: "5555461206"}) {
				t.Errorf("Number = %+v, want only Raw", got)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v (%T), want *ConfigError", err, err)
			}
			if *ce != tt.want {
				t.Errorf("ConfigError = %+v, want %+v", *ce, tt.want)
			}
			if m := ce.Message("cb-sales"); m != tt.message {
				t.Errorf("Message = %q, want %q", m, tt.message)
			}
			if ce.Error() != tt.err {
				t.Errorf("Error = %q, want %q", ce.Error(), tt.err)
			}
		})
	}
}

func TestMissingCountryMessage(t *testing.T) {
	got := MissingCountryMessage("{service}", OptionPremium)
	want := "Service option {service} / _default_country is not configured. But option _disallow_premium_phone_numbers is set. We cannot validate phone numbers without knowing the country."
	if got != want {
		t.Errorf("MissingCountryMessage = %q, want %q", got, want)
	}
}

func TestKnownCountry(t *testing.T) {
	tests := []struct {
		country string
		want    bool
	}{
		{"US", true}, {"us", true}, {" fr ", true}, {"GB", true},
		{"", false}, {"USA", false}, {"ZZ", false}, {"001", false}, {"UK", false},
	}
	for _, tt := range tests {
		if got := KnownCountry(tt.country); got != tt.want {
			t.Errorf("KnownCountry(%q) = %v, want %v", tt.country, got, tt.want)
		}
	}
}

func TestRejectionProperties(t *testing.T) {
	r := &Rejection{Option: OptionPremium, Message: "m", Number: "+19005551234"}
	if got := r.Properties(); len(got) != 1 || got["option"] != OptionPremium {
		t.Errorf("Properties = %v, want only option", got)
	}
	r = &Rejection{Option: OptionExceptions, Group: "Callback_exceptions", Entry: "exception2", Param: "_customer_number"}
	got := r.Properties()
	want := map[string]any{"option": "_exceptions", "group": "Callback_exceptions", "entry": "exception2", "parameter": "_customer_number"}
	if len(got) != len(want) {
		t.Fatalf("Properties = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Properties[%q] = %v, want %v", k, got[k], v)
		}
	}
}
