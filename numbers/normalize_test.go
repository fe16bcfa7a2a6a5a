package numbers

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		number  string
		country string
		want    string
	}{
		{"SameKey dashes", "555-546-1206", "US", "+15555461206"},
		{"SameKey digits", "5555461206", "US", "+15555461206"},
		{"SameKey parentheses", "(555) 546-1206", "US", "+15555461206"},
		{"SameKey international", "+1 555 546 1206", "US", "+15555461206"},
		{"SameKey E.164", "+15555461206", "US", "+15555461206"},
		{"SameKey national prefix 1", "1-555-546-1206", "US", "+15555461206"},
		{"SameKey lower-case country", "555.546.1206", "us", "+15555461206"},
		{"SameKey invisible marks", "\u202a+1 555 546 1206\u202c", "US", "+15555461206"},
		{"SameKey Arabic-Indic digits", "٥٥٥٥٤٦١٢٠٦", "US", "+15555461206"},
		{"SameKey extension dropped", "+1 555 546 1206 ext. 12", "US", "+15555461206"},
		{"SameKey plus number without country", "+1 555 546 1206", "", "+15555461206"},
		{"NationalPrefix of the default country", "06 12 34 56 78", "FR", "+33612345678"},
		{"ForeignNumber keeps its country", "+44 20 7946 0958", "US", "+442079460958"},
		{"Fallback without country", "555-546-1206", "", "5555461206"},
		{"Fallback unknown country", "(555) 546 1206", "USA", "5555461206"},
		{"Fallback letters kept", "abc", "US", "abc"},
		{"Fallback distinct words stay distinct", "john doe", "US", "johndoe"},
		{"Fallback plus kept", "555+546 1206", "US", "555+5461206"},
		{"Fallback too long", "1234567890 1234567890", "US", "12345678901234567890"},
		{"Empty", "", "US", ""},
		{"Blank", " \t", "US", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.number, tt.country); got != tt.want {
				t.Errorf("Normalize(%q, %q) = %q, want %q", tt.number, tt.country, got, tt.want)
			}
			if got := Normalize(tt.number, tt.country); got != tt.want {
				t.Errorf("Normalize(%q, %q) again (remembered) = %q, want %q", tt.number, tt.country, got, tt.want)
			}
		})
	}
}

// TestNormalizeAgreesWithCheck pins that the key a record is stored under
// (Check's E164) is the key a later lookup computes (Normalize), also
// when Check left its answer for Normalize to reuse.
func TestNormalizeAgreesWithCheck(t *testing.T) {
	for _, number := range []string{"555-546-1206", "+44 20 7946 0958", "1 (900) 555-1234", "111", "\u202a+1 555 546 1206\u202c", "٥٥٥٥٤٦١٢٠٦"} {
		for _, country := range []string{"US", "us", "FR"} {
			n, _ := Policy{DefaultCountry: country}.Check(number)
			fresh := normalize(number, canonicalCountry(country))
			if got := Normalize(number, country); got != n.E164 || got != fresh {
				t.Errorf("Normalize(%q, %s) = %q, Check E164 = %q, computed afresh %q", number, country, got, n.E164, fresh)
			}
		}
	}
}
