package server_test

import (
	"strings"
	"testing"
	"time"
)

const policyConfig = `
[service.cb]

[service.strict]
_enable_in_queue_checking = strict

[service.open]
_enable_in_queue_checking = false
_disallow_impossible_phone_numbers = false
_disallow_premium_phone_numbers = false

[service.fr]
_default_country = FR

[service.guarded]
_exceptions = Callback_exceptions

[pattern.Callback_exceptions]
exception1 = \+1555555\d{4}
exception2 = \+12345
email = .*@badrobot\.com
`

func TestNumberPolicy(t *testing.T) {
	h := newHarness(t, policyConfig)
	cases := []struct {
		name, service, number string
		status, code          int
		phrase, message       string
	}{
		{"ErrPremium", "cb", "+19005551234", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [+19005551234] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers"},
		{"ErrPremiumNational", "cb", "1-900-555-1234", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [+19005551234] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers"},
		{"ErrImpossible", "cb", "111", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [111] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers"},
		{"ErrLetters", "cb", "555-CALL-NOW", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [555-CALL-NOW] is disallowed, because it is invalid. Check option _disallow_impossible_phone_numbers"},
		{"ErrFrenchPremium", "fr", "08 99 23 45 67", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [+33899234567] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers"},
		{"ErrException", "guarded", "12345", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [12345] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception2}"},
		{"ErrExceptionNational", "guarded", "555-555-0199", 400, 40040, "NUMBER_REJECTED",
			"Customer Number [+15555550199] is not allowed. Check option 'exceptions' : details={Callback_exceptions=exception1}"},
		{"OKFictional555", "cb", "555-546-1206", 200, 0, "", ""},
		{"OKFrenchMobile", "fr", "06 12 34 56 78", 200, 0, "", ""},
		{"OKChecksOff", "open", "111", 200, 0, "", ""},
		{"OKGuardedOther", "guarded", "555-546-1207", 200, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.json("POST", "/1/service/callback/"+c.service, map[string]any{"_customer_number": c.number})
			if c.status == 200 {
				r.wantOK(t)
				return
			}
			r.wantError(t, c.status, c.code, c.phrase, c.message)
		})
	}
	t.Run("ErrExceptionOnOtherParameter", func(t *testing.T) {
		h.json("POST", "/1/service/callback/guarded", map[string]any{"_customer_number": num(), "email": "spam@badrobot.com"}).
			wantError(t, 400, 40040, "NUMBER_REJECTED", "Parameter [email=spam@badrobot.com] is not allowed. Check option 'exceptions' : details={Callback_exceptions=email}")
	})
	t.Run("ErrUpdateToPremium", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
		h.json("PUT", "/1/service/callback/cb/"+id, map[string]any{"_customer_number": "+19005551234"}).
			wantError(t, 400, 40040, "NUMBER_REJECTED", "Customer Number [+19005551234] is disallowed, because it's a premium number. Check option _disallow_premium_phone_numbers")
	})
}

func TestInQueueChecking(t *testing.T) {
	h := newHarness(t, policyConfig)
	booked := func(t *testing.T, service string, max int) {
		h.json("POST", "/1/service/callback/"+service, map[string]any{"_customer_number": "+1 555 546 1206"}).
			wantError(t, 429, 40001, "NUMBER_ALREADY_BOOKED",
				"There is already "+string(rune('0'+max))+" or more Callbacks QUEUED for this number, please refer to _enable_in_queue_checking for detail.")
	}
	t.Run("TrueAllowsTwo", func(t *testing.T) {
		// Immediate and scheduled both count; spellings of one number match.
		h.start("cb", map[string]any{"_customer_number": "555-546-1206"})
		second := h.start("cb", map[string]any{"_customer_number": "5555461206", "_desired_time": ts(3 * time.Hour)})
		m := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": "+1 555 546 1206"}).wantError(t, 429, 40001, "NUMBER_ALREADY_BOOKED", "…")
		if p := m["properties"].(map[string]any); p["max_queued"] != float64(2) {
			t.Errorf("properties %v, want max_queued 2", p)
		}
		booked(t, "cb", 2)
		// Cancelling one frees a place.
		h.do("DELETE", "/1/service/callback/cb/"+second, "", "").wantOK(t)
		h.start("cb", map[string]any{"_customer_number": "+1 555 546 1206"})
	})
	t.Run("StrictAllowsOne", func(t *testing.T) {
		first := h.start("strict", map[string]any{"_customer_number": "555-546-1206"})
		booked(t, "strict", 1)
		h.json("PUT", "/1/service/callback/strict/"+first, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "AGENT_CONNECTED"}).wantOK(t)
		h.start("strict", map[string]any{"_customer_number": "555-546-1206"})
	})
	t.Run("FalseAllowsAny", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			h.start("open", map[string]any{"_customer_number": "555-546-1206"})
		}
	})
}

func TestLookupByAnySpelling(t *testing.T) {
	h := newHarness(t, policyConfig)
	id := h.start("cb", map[string]any{"_customer_number": "555-546-1206", "_desired_time": ts(time.Hour)})
	for _, q := range []string{"5555461206", "%2B1%20555%20546%201206", "(555)%20546-1206", "555-546-1206"} {
		for _, path := range []string{"/1/service/callback/cb?_customer_number=" + q, "/1/service/callback?_customer_number=" + q} {
			r := h.do("GET", path, "", "")
			recs := r.records(t)
			if len(recs) != 1 || recs[0]["_id"] != id {
				t.Errorf("GET %s: %s", path, r.body)
				continue
			}
			if recs[0]["_customer_number"] != "555-546-1206" {
				t.Errorf("number not kept as sent: %v", recs[0])
			}
		}
	}
}

func TestPatternConfigErrors(t *testing.T) {
	_, err := loadConfigText(t, "[service.a]\n_exceptions = g\n[pattern.g]\nok = \\+1\\d+\nbad = (unclosed\nlook = (?=x)y\n")
	if err == nil {
		t.Fatal("bad regexes accepted")
	}
	for _, want := range []string{`[pattern.g] bad = "(unclosed"`, `[pattern.g] look = "(?=x)y"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s in:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), "[pattern.g] ok =") {
		t.Errorf("a good pattern was reported: %s", err)
	}
	if _, err := loadConfigText(t, "[service.a]\n_default_country = XX\n"); err == nil || !strings.Contains(err.Error(), `_default_country = "XX"`) {
		t.Errorf("unknown country: %v", err)
	}
}

func TestPhoneNumberQuery(t *testing.T) {
	h := newHarness(t, policyConfig)
	r := h.do("GET", "/1/phonenumber?number=06%2012%2034%2056%2078&country=FR", "", "")
	m := r.wantOK(t)
	if m["e164"] != "+33612345678" || m["type"] != "MOBILE" || m["countryCode"] != float64(33) || m["region"] != "FR" || m["valid"] != true {
		t.Errorf("French mobile: %s", r.body)
	}
	if tz, _ := m["timeZones"].([]any); len(tz) != 1 || tz[0] != "Europe/Paris" {
		t.Errorf("time zones %v", m["timeZones"])
	}
	m = h.do("GET", "/1/phonenumber?number=1-900-555-1234", "", "").wantOK(t)
	if m["type"] != "PREMIUM_RATE" || m["e164"] != "+19005551234" {
		t.Errorf("premium: %v", m)
	}
	h.do("GET", "/1/phonenumber?number=abc", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Cannot parse phone number [abc]: the string supplied did not seem to be a phone number")
	h.do("GET", "/1/phonenumber", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Missing parameter number")
	h.do("GET", "/1/phonenumber?number=123&country=ZZ", "", "").
		wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid country [ZZ]: use an ISO 3166 alpha-2 code such as US or FR")
}
