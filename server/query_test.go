package server_test

import (
	"strings"
	"testing"
	"time"
)

func TestQuery(t *testing.T) {
	h := newHarness(t, strings.Replace(baseConfig, "[callback]", "[callback]\nreturned-keys = _desired_time,_callback_state,_ors_session_id,_device_os", 1))
	a := h.start("cb", map[string]any{"_customer_number": "555-5461206", "_desired_time": ts(time.Hour), "_device_os": "comet", "_secret": "x"})
	b := h.start("cb", map[string]any{"_customer_number": "555-5461206", "_desired_time": ts(2 * time.Hour)})
	c := h.start("short", map[string]any{"_customer_number": "555-5461206", "_desired_time": ts(3 * time.Hour)})
	d := h.start("cb", map[string]any{"_customer_number": "5555550999", "_desired_time": ts(4 * time.Hour)})
	h.do("DELETE", "/1/service/callback/cb/"+b, "", "").wantOK(t)
	h.json("PUT", "/1/service/callback/cb/"+a, map[string]any{"_ors_session_id": "S-1"}).wantOK(t)

	cases := []struct {
		name, path string
		want       []string
	}{
		{"ByService", "/1/service/callback/cb?_customer_number=555-5461206", []string{a, b}},
		{"AllServices", "/1/service/callback?_customer_number=555-5461206", []string{a, b, c}},
		{"ByID", "/1/service/callback?_id=" + c, []string{c}},
		{"ByIDInService", "/1/service/callback/cb?_id=" + a, []string{a}},
		{"State", "/1/service/callback?_customer_number=555-5461206&_callback_state=COMPLETED", []string{b}},
		{"NotState", "/1/service/callback?_customer_number=555-5461206&_callback_state=!COMPLETED", []string{a, c}},
		{"DesiredFrom", "/1/service/callback?_customer_number=555-5461206&_desired_time_from=" + ts(2*time.Hour), []string{b, c}},
		{"DesiredTo", "/1/service/callback?_customer_number=555-5461206&_desired_time_to=" + ts(2*time.Hour), []string{a, b}},
		{"OperandOR", "/1/service/callback?_customer_number=5555550999&_id=" + a + "&operand=OR", []string{a, d}},
		{"OperandAND", "/1/service/callback?_customer_number=5555550999&_id=" + a + "&operand=AND", nil},
		{"NoMatch", "/1/service/callback/cb?_customer_number=5555550000", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", tc.path, "", "")
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if strings.TrimSpace(string(r.body))[0] != '[' {
				t.Fatalf("not a JSON array: %s", r.body)
			}
			recs := r.records(t)
			var got []string
			for _, rec := range recs {
				got = append(got, rec["_id"])
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("RecordKeys", func(t *testing.T) {
		rec := h.get(a)
		for k, v := range map[string]string{"_ors_session_id": "S-1", "_device_os": "comet", "_customer_number": "555-5461206",
			"url": "/1/service/callback/cb/" + a, "_service_name": "cb"} {
			if rec[k] != v {
				t.Errorf("%s = %q, want %q", k, rec[k], v)
			}
		}
		if _, ok := rec["_secret"]; ok {
			t.Errorf("a _xxx property outside returned-keys was returned: %v", rec)
		}
	})
}

func TestQueryErrors(t *testing.T) {
	h := newHarness(t, baseConfig)
	cases := []struct{ name, path, message string }{
		{"ErrNoProperties", "/1/service/callback/cb", "No lookup possible. No properties to look for."},
		{"ErrOnlyFilters", "/1/service/callback/cb?_callback_state=SCHEDULED", "No lookup possible. No properties to look for."},
		{"ErrNotALookupKey", "/1/service/callback/cb?firstname=Bob", "No such lookup possible for firstname"},
		{"ErrBadState", "/1/service/callback/cb?_customer_number=5555550001&_callback_state=DONE", "Invalid _callback_state [DONE]: must be one of SCHEDULED, QUEUED, ROUTING, PROCESSING, PAUSED, COMPLETED"},
		{"ErrBadOperand", "/1/service/callback/cb?_customer_number=5555550001&operand=XOR", "Invalid operand [XOR]: must be AND or OR"},
		{"ErrBadTime", "/1/service/callback/cb?_customer_number=5555550001&_desired_time_from=yesterday", "Invalid _desired_time_from [yesterday]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z"},
		{"ErrUnknownService", "/1/service/callback/ghost?_customer_number=5555550001", "Service undefined: ghost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.do("GET", c.path, "", "").wantError(t, 400, 40010, "BAD_PARAMETER", c.message)
		})
	}
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	h := newHarness(t, baseConfig)
	h.do("GET", "/1/nothing/here", "", "").wantError(t, 404, 40400, "NOT_FOUND", "No such resource: /genesys/1/nothing/here")
	r := h.do("PATCH", "/1/service/callback/cb", "", "")
	r.wantError(t, 405, 40500, "METHOD_NOT_ALLOWED", "Method PATCH is not allowed on /genesys/1/service/callback/cb")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") || !strings.Contains(allow, "GET") {
		t.Errorf("Allow %q", allow)
	}
}
