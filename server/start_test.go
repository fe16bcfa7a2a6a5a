package server_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestStartScheduledJSON(t *testing.T) {
	h := newHarness(t, baseConfig)
	r := h.json("POST", "/1/service/callback/cb", map[string]any{
		"_customer_number": "5555555115", "usr_customer_name": "Bob Markel", "usr_reason": "billing question",
		"_device_notification_id": "b164", "_device_os": "comet", "_desired_time": ts(2 * time.Hour),
	})
	body := r.wantOK(t)
	if len(body) != 1 || body["_id"] == "" {
		t.Fatalf("scheduled callback answered %v, want only _id", body)
	}
	id := body["_id"].(string)
	if !regexp.MustCompile(`^[A-Za-z0-9-]{20,}$`).MatchString(id) {
		t.Errorf("id %q is not URL-safe", id)
	}
	rec := h.get(id)
	want := map[string]string{
		"_id": id, "_service_name": "cb", "_callback_state": "SCHEDULED", "_customer_number": "5555555115",
		"_desired_time": ts(2 * time.Hour), "desired_time": ts(2 * time.Hour),
		"_expiration_time": ts(26 * time.Hour), "usr_customer_name": "Bob Markel",
		"url": "/1/service/callback/cb/" + id, "_url": "/1/service/callback/cb/" + id,
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("record %s = %q, want %q", k, rec[k], v)
		}
	}
	if _, ok := rec["_callback_reason"]; ok {
		t.Errorf("a SCHEDULED record carries _callback_reason: %v", rec)
	}
	cb := h.stored(id)
	if cb.Properties["_device_os"] != "comet" || cb.Properties["_device_notification_id"] != "b164" {
		t.Errorf("_xxx properties not kept: %v", cb.Properties)
	}
}

func TestStartImmediateAnswersDialog(t *testing.T) {
	h := newHarness(t, baseConfig)
	body := h.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": "5555555115"}).wantOK(t)
	want := map[string]string{
		"_dialog_id": "0", "_dialogId": "0", "ID": "0", "_action": "ConfirmationDialog", "Action": "ConfirmationDialog",
		"_text": "You will receive the call shortly", "Text": "You will receive the call shortly",
		"_ok_title": "Ok", "_okTitle": "Ok", "OkTitle": "Ok",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %q", k, body[k], v)
		}
	}
	for k, v := range body {
		if _, ok := v.(string); !ok {
			t.Errorf("value of %s is %T, want string (clients expect a flat object of strings)", k, v)
		}
	}
	if st := h.get(body["_id"].(string))["_callback_state"]; st != "QUEUED" {
		t.Errorf("immediate callback state %s, want QUEUED", st)
	}
}

// TestStartImmediateRule checks spec 001's rule: immediate when
// desired < now + _request_execution_time_buffer + EWT.
func TestStartImmediateRule(t *testing.T) {
	cfg := strings.Replace(baseConfig, "static-ewt = 0", "static-ewt = 600", 1)
	h := newHarness(t, cfg)
	cases := []struct {
		name    string
		service string
		desired time.Duration
		want    string
	}{
		{"InsideDefaultBuffer", "cb", 119 * time.Second, "QUEUED"},
		{"AtDefaultBuffer", "cb", 120 * time.Second, "SCHEDULED"},
		{"InsideServiceBuffer", "short", 299 * time.Second, "QUEUED"},
		{"AfterServiceBuffer", "short", 301 * time.Second, "SCHEDULED"},
		{"EWTExtendsWindow", "ewt", 719 * time.Second, "QUEUED"},
		{"AfterBufferPlusEWT", "ewt", 721 * time.Second, "SCHEDULED"},
		{"SlightlyPastIsImmediate", "cb", -30 * time.Second, "QUEUED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := h.start(c.service, map[string]any{"_customer_number": num(), "_desired_time": ts(c.desired)})
			if got := h.get(id)["_callback_state"]; got != c.want {
				t.Errorf("state %s, want %s", got, c.want)
			}
		})
	}
}

func TestStartBodyFormats(t *testing.T) {
	h := newHarness(t, baseConfig)
	t.Run("FormURLEncoded", func(t *testing.T) {
		// What the web widgets send: odd keys and empty values are kept.
		r := h.do("POST", "/1/service/callback/cb", "application/x-www-form-urlencoded",
			"_customer_number=5555551234&firstname=Ann&Subject=Loan&userData%5Bk%5D=v&_call_direction=&_desired_time="+ts(time.Hour))
		id := r.wantOK(t)["_id"].(string)
		cb := h.stored(id)
		if cb.CustomerNumber != "5555551234" || cb.Properties["firstname"] != "Ann" || cb.Properties["Subject"] != "Loan" ||
			cb.Properties["userData[k]"] != "v" || cb.State != callbackd.StateScheduled {
			t.Fatalf("stored %+v", cb)
		}
		if v, ok := cb.Properties["_call_direction"]; !ok || v != "" {
			t.Errorf("empty _call_direction not kept: %q %v", v, ok)
		}
	})
	t.Run("Multipart", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("_customer_number", "5555559876")
		_ = mw.WriteField("note", "multi")
		mw.Close()
		id := h.do("POST", "/1/service/callback/cb", mw.FormDataContentType(), buf.String()).wantOK(t)["_id"].(string)
		if cb := h.stored(id); cb.CustomerNumber != "5555559876" || cb.Properties["note"] != "multi" {
			t.Fatalf("stored %+v", cb)
		}
	})
	t.Run("JSONBooleansNumbersAndObjects", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_wait_for_agent": true, "flag": "false",
			"count": 42, "nested": map[string]any{"a": 1}, "none": nil})
		p := h.stored(id).Properties
		if p["_wait_for_agent"] != "true" || p["flag"] != "false" || p["count"] != "42" || p["nested"] != `{"a":1}` || p["none"] != "" {
			t.Fatalf("properties %v", p)
		}
	})
	t.Run("ClientHeadersAreHarmless", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.base+"/1/service/callback/cb", strings.NewReader(`{"_customer_number":"5555550001"}`))
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		for _, k := range []string{"apikey", "x-api-key", "gms_user", "ContactCenterId"} {
			req.Header.Set(k, "something")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("ErrMalformedJSON", func(t *testing.T) {
		h.do("POST", "/1/service/callback/cb", "application/json", `{"_customer_number":`).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Malformed JSON body: unexpected end of input")
	})
	t.Run("ErrJSONNotAnObject", func(t *testing.T) {
		h.do("POST", "/1/service/callback/cb", "application/json", `["_customer_number"]`).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Malformed JSON body: the body must be a JSON object")
	})
	t.Run("ErrWrongContentType", func(t *testing.T) {
		h.do("POST", "/1/service/callback/cb", "text/plain", "_customer_number=5555550001").
			wantError(t, 400, 40010, "BAD_PARAMETER", `Unsupported Content-Type "text/plain": send application/json, application/x-www-form-urlencoded or multipart/form-data`)
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		big := `{"_customer_number":"5555550001","pad":"` + strings.Repeat("x", 70<<10) + `"}`
		h.do("POST", "/1/service/callback/cb", "application/json", big).
			wantError(t, 400, 40010, "BAD_PARAMETER", "Request body is larger than 65536 bytes")
	})
}

func TestStartErrors(t *testing.T) {
	h := newHarness(t, baseConfig)
	idRE := `[0-9a-f-]{36}`
	cases := []struct {
		name    string
		service string
		params  map[string]any
		status  int
		code    int
		phrase  string
		message string // a regular expression
		props   map[string]any
	}{
		{"ErrMissingCustomerNumber", "cb", map[string]any{"firstname": "Bob"}, 400, 40010, "BAD_PARAMETER",
			`Callback ` + idRE + ` does not contain the mandatory customer lookup keys _customer_number`, map[string]any{"keys": "_customer_number"}},
		{"ErrMissingMandatoryKey", "keys", map[string]any{"_customer_number": num()}, 400, 40010, "BAD_PARAMETER",
			`Callback ` + idRE + ` does not contain the mandatory customer lookup keys _customer_id`, map[string]any{"keys": "_customer_id"}},
		{"ErrDesiredTimeInPast", "cb", map[string]any{"_customer_number": num(), "_desired_time": ts(-2 * time.Hour)}, 400, 40010, "BAD_PARAMETER",
			fmt.Sprintf(`Callback %s contains _desired_time property in the past \(-60s < -7200s < 2592000s\) - epoch %ds`, idRE, t0.Add(-2*time.Hour).Unix()), nil},
		{"ErrDesiredTimeTooFar", "cb", map[string]any{"_customer_number": num(), "_desired_time": ts(31 * 24 * time.Hour)}, 400, 40010, "BAD_PARAMETER",
			fmt.Sprintf(`Callback request contains _desired_time property too far in future \(-60s < 2678400s < 2592000s\) - epoch %ds`, t0.Add(31*24*time.Hour).Unix()), nil},
		{"ErrDesiredTimeMalformed", "cb", map[string]any{"_customer_number": num(), "_desired_time": "tomorrow"}, 400, 40010, "BAD_PARAMETER",
			`Invalid _desired_time \[tomorrow\]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z`, map[string]any{"option": "_desired_time"}},
		{"ErrDesiredTimeWithoutZone", "cb", map[string]any{"_customer_number": num(), "_desired_time": "2026-03-02T10:00:00"}, 400, 40010, "BAD_PARAMETER",
			`Invalid _desired_time \[2026-03-02T10:00:00\]: …`, nil},
		{"ErrForcedStateUnknown", "cb", map[string]any{"_customer_number": num(), "_callback_state": "SLEEPING"}, 400, 40010, "BAD_PARAMETER",
			`Invalid _callback_state \[SLEEPING\]: must be one of SCHEDULED, QUEUED, ROUTING, PROCESSING, PAUSED, COMPLETED`, nil},
		{"ErrUnknownService", "nope", map[string]any{"_customer_number": num()}, 400, 40010, "BAD_PARAMETER",
			`Service undefined: nope`, map[string]any{"service": "nope"}},
		{"ErrNotACallbackService", "hours", map[string]any{"_customer_number": num()}, 500, 50020, "BAD_CONFIGURATION",
			`Service hours has option _service != callback`, map[string]any{"service": "hours"}},
		{"ErrNoCountryForNumberCheck", "nocountry", map[string]any{"_customer_number": num()}, 500, 50020, "BAD_CONFIGURATION",
			`Service option nocountry / _default_country is not configured\. But option _disallow_premium_phone_numbers is set\. We cannot validate phone numbers without knowing the country\.`, map[string]any{"service": "nocountry"}},
		{"ErrBadRequestOption", "cb", map[string]any{"_customer_number": num(), "_ttl": "soon"}, 400, 40010, "BAD_PARAMETER",
			`Invalid value \[soon\] for option _ttl: must be a non-negative integer \(seconds\)`, map[string]any{"option": "_ttl"}},
		{"ErrTokenWithoutValue", "tokens", map[string]any{"_customer_number": num(), "my_token": "Stat_Server1"}, 500, 50020, "BAD_CONFIGURATION",
			`Option service.tokens / _ttl is invalid: no value for \$ttl_token\$ in the request`, map[string]any{"service": "tokens"}},
		{"ErrRedirectLoopFromRequest", "over", map[string]any{"_customer_number": num(), "_redirect": "back"}, 500, 50040, "SERVICE_REDIRECT_FAILED",
			`Redirect over -> back -> over failed: redirect loop`, nil},
		{"ErrRedirectToUnknown", "over", map[string]any{"_customer_number": num(), "_redirect": "ghost"}, 500, 50040, "SERVICE_REDIRECT_FAILED",
			`Redirect over -> ghost failed: Service undefined: ghost`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.json("POST", "/1/service/callback/"+c.service, c.params)
			m := r.wantError(t, c.status, c.code, c.phrase, "…")
			if !regexp.MustCompile("^" + strings.ReplaceAll(c.message, "…", ".*") + "$").MatchString(m["message"].(string)) {
				t.Errorf("message %q\n does not match %q", m["message"], c.message)
			}
			props := m["properties"].(map[string]any)
			for k, v := range c.props {
				if props[k] != v {
					t.Errorf("properties[%s] = %v, want %v", k, props[k], v)
				}
			}
		})
	}
	// Nothing refused was stored.
	r := h.do("GET", "/1/service/callback/cb?_customer_number=5555550001", "", "")
	if recs := r.records(t); len(recs) != 0 {
		t.Fatalf("refused requests left %d records", len(recs))
	}
}

func TestStartOptionsFromRequest(t *testing.T) {
	h := newHarness(t, baseConfig)
	desired := 2 * time.Hour
	t.Run("UnsetOptionTakenFromRequest", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(desired), "_ttl": "60"})
		if got := h.get(id)["_expiration_time"]; got != ts(desired+time.Minute) {
			t.Errorf("expiration %s, want desired + 60s", got)
		}
	})
	t.Run("ConfiguredOptionIgnored", func(t *testing.T) {
		id := h.start("short", map[string]any{"_customer_number": num(), "_desired_time": ts(desired), "_ttl": "60"})
		if got := h.get(id)["_expiration_time"]; got != ts(desired+600*time.Second) {
			t.Errorf("expiration %s, want the service's _ttl=600", got)
		}
	})
	t.Run("OverwritableOptionWins", func(t *testing.T) {
		id := h.start("over", map[string]any{"_customer_number": num(), "_desired_time": ts(desired), "_ttl": "7"})
		if got := h.get(id)["_expiration_time"]; got != ts(desired+7*time.Second) {
			t.Errorf("expiration %s, want the request's _ttl=7", got)
		}
	})
	t.Run("PolicyOptionNotTakenFromRequest", func(t *testing.T) {
		// _redirect is unset in "cb" but may only come from a request when
		// _overwritable_options lists it.
		id := h.start("cb", map[string]any{"_customer_number": num(), "_redirect": "short", "_ors": "http://attacker.example", "_wait_for_agent": "false"})
		if svc := h.get(id)["_service_name"]; svc != "cb" {
			t.Errorf("service %s: a request switched the redirect of a service that does not allow it", svc)
		}
		p := h.stored(id).Properties
		if _, ok := p["_ors"]; ok {
			t.Errorf("a refused option was stored as a property: %v", p)
		}
		if _, ok := p["_redirect"]; ok {
			t.Errorf("a refused option was stored as a property: %v", p)
		}
		if p["_wait_for_agent"] != "false" {
			t.Errorf("an allowed option was not kept: %v", p)
		}
	})
	t.Run("TokenSubstitution", func(t *testing.T) {
		id := h.start("tokens", map[string]any{"_customer_number": num(), "_desired_time": ts(desired), "ttl_token": "30", "my_token": "Stat_Server1"})
		if got := h.get(id)["_expiration_time"]; got != ts(desired+30*time.Second) {
			t.Errorf("expiration %s, want _ttl=$ttl_token$ replaced by 30", got)
		}
	})
	t.Run("NoCountryWithChecksOff", func(t *testing.T) {
		h.start("nocountry2", map[string]any{"_customer_number": num()})
	})
	t.Run("ForcedState", func(t *testing.T) {
		id := h.start("cb", map[string]any{"_customer_number": num(), "_callback_state": "processing"})
		if got := h.get(id)["_callback_state"]; got != "PROCESSING" {
			t.Errorf("state %s, want PROCESSING", got)
		}
		id = h.start("cb", map[string]any{"_customer_number": num(), "_callback_state": "COMPLETED", "_callback_reason": "AGENT_CONNECTED"})
		if rec := h.get(id); rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "AGENT_CONNECTED" {
			t.Errorf("record %v", rec)
		}
	})
	t.Run("MandatoryKeyOtherThanNumber", func(t *testing.T) {
		id := h.start("keys", map[string]any{"_customer_id": "C-42"})
		r := h.do("GET", "/1/service/callback/keys?_customer_id=C-42", "", "")
		if recs := r.records(t); len(recs) != 1 || recs[0]["_id"] != id || recs[0]["_customer_id"] != "C-42" {
			t.Fatalf("lookup by _customer_id: %s", r.body)
		}
	})
}

func TestStartRedirect(t *testing.T) {
	h := newHarness(t, baseConfig)
	id := h.start("old", map[string]any{"_customer_number": num()})
	if svc := h.get(id)["_service_name"]; svc != "cb" {
		t.Fatalf("redirected callback stored in %s, want cb", svc)
	}
	// The spec's way of switching the redirection off for one request.
	r := h.do("POST", `/1/service/callback/old?_redirect=%22%22`, "application/json", `{"_customer_number":"5555550002"}`)
	id = r.wantOK(t)["_id"].(string)
	if svc := h.get(id)["_service_name"]; svc != "old" {
		t.Fatalf(`_redirect="" left the callback in %s, want old`, svc)
	}
	// The client still addresses it through the service it called.
	h.do("DELETE", "/1/service/callback/old/"+h.start("old", map[string]any{"_customer_number": "5555550003"}), "", "").wantOK(t)
}

func TestStartCopyFromID(t *testing.T) {
	h := newHarness(t, baseConfig)
	orig := h.start("cb", map[string]any{"_customer_number": "5555555115", "firstname": "Bob", "topic": "loan", "_desired_time": ts(time.Hour)})
	h.json("PUT", "/1/service/callback/cb/"+orig, map[string]any{"_ors_session_id": "S1"}).wantOK(t)

	t.Run("ErrNotCompleted", func(t *testing.T) {
		h.json("POST", "/1/service/callback/cb", map[string]any{"_copy_from_id": orig}).
			wantError(t, 400, 40020, "INVALID_OPERATION", "Request cannot be processed because callback "+orig+" to copy is not COMPLETED. Check parameter _copy_from_id")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		m := h.json("POST", "/1/service/callback/cb", map[string]any{"_copy_from_id": "missing-id"}).
			wantError(t, 400, 40030, "CALLBACK_NOT_FOUND", "Callback missing-id to copy from cannot be found")
		if p := m["properties"].(map[string]any); p["id"] != "missing-id" || p["service"] != "cb" || p["time"] != ts(0) {
			t.Errorf("properties %v", p)
		}
	})
	t.Run("OK", func(t *testing.T) {
		h.json("PUT", "/1/service/callback/cb/"+orig, map[string]any{"_callback_state": "COMPLETED", "_callback_reason": "FAIL_CALL_TO_CUSTOMER"}).wantOK(t)
		h.clock.Advance(time.Hour)
		id := h.start("cb", map[string]any{"_copy_from_id": orig, "topic": "mortgage", "_desired_time": ts(3 * time.Hour)})
		cb := h.stored(id)
		if cb.CustomerNumber != "5555555115" || cb.Properties["firstname"] != "Bob" || cb.Properties["topic"] != "mortgage" {
			t.Errorf("copy did not merge properties: %+v", cb)
		}
		if cb.State != callbackd.StateScheduled || cb.Reason != "" || cb.SessionID != "" || !cb.DesiredTime.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("copy carried state, reason, session or time over: %+v", cb)
		}
	})
}
