package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestForgetMe erases a customer and then looks for the number
// everywhere: every API that shows data, and the bytes of the database
// file and its WAL.
func TestForgetMe(t *testing.T) {
	h := adminHarness(t)
	n := num()       // national spelling, as the customer typed it
	e164 := "+1" + n // how the operator asks to forget it
	keep := num()    // another customer, untouched
	busy := num()    // a customer whose callback is being dialled
	a := h.start("support", map[string]any{"_customer_number": n, "_desired_time": ts(time.Hour), "note": "call " + n})
	// strict in-queue checking: a second request is refused, and the
	// refusal is recorded with the number in its message.
	h.json("POST", "/1/service/callback/support", map[string]any{"_customer_number": n, "_desired_time": ts(2 * time.Hour)}).
		wantError(t, 429, 40001, "NUMBER_ALREADY_BOOKED", "…")
	b := h.start("sales", map[string]any{"_customer_number": e164, "_desired_time": ts(3 * time.Hour)})
	h.setState("sales", b, "COMPLETED")
	kept := h.start("sales", map[string]any{"_customer_number": keep, "_desired_time": ts(time.Hour)})
	dialled := h.start("support", map[string]any{"_customer_number": busy})
	h.setState("support", dialled, "PROCESSING")

	body := `{"_id":["` + dialled + `","no-such-id"],"_customer_number":["` + e164 + `","+15555599999"]}`
	got := h.admin("/1/admin/callback/ops/delete", body).wantOK(t)
	want := `{"errors":[{"_id":"` + dialled + `","code":40020,"message":"Callback ` + dialled + ` cannot be deleted - _callback_state=PROCESSING","phrase":"INVALID_OPERATION"}],` +
		`"success":[{"_id":"no-such-id","reason":"no callback(s) to delete"},{"_id":"` + a + `"},{"_id":"` + b + `"},` +
		`{"_customer_number":"+15555599999","reason":"no callback(s) to delete"}]}`
	if js, _ := json.Marshal(got); string(js) != want {
		t.Fatalf("answer\n%s\nwant\n%s", js, want)
	}

	// Nothing of the customer through the API.
	for _, id := range []string{a, b} {
		if recs := h.do("GET", "/1/service/callback?_id="+id, "", "").records(t); len(recs) != 0 {
			t.Errorf("query by id finds %v", recs)
		}
	}
	if recs := h.do("GET", "/1/service/callback/support?_customer_number="+n, "", "").records(t); len(recs) != 0 {
		t.Errorf("query by number finds %v", recs)
	}
	views := map[string]response{
		"events":  h.asAdmin("GET", "/1/events", "", ""),
		"queues":  h.asAdmin("GET", "/1/admin/callback/queues?end_time="+ts(72*time.Hour), "", ""),
		"export":  h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"CANCELLED"}`),
		"by-keep": h.do("GET", "/1/service/callback/sales?_customer_number="+keep, "", ""),
	}
	for name, r := range views {
		if bytes.Contains(r.body, []byte(n)) || bytes.Contains(r.body, []byte(a)) || bytes.Contains(r.body, []byte(b)) {
			t.Errorf("%s still shows the customer: %s", name, r.body)
		}
	}
	if !bytes.Contains(views["by-keep"].body, []byte(kept)) || !bytes.Contains(views["events"].body, []byte(kept)) {
		t.Errorf("the other customer was erased too")
	}
	// The number may book again: its in-queue place and daily uses are gone.
	h.start("support", map[string]any{"_customer_number": n, "_desired_time": ts(time.Hour)})
	h.admin("/1/admin/callback/ops/delete", `{"_customer_number":["`+n+`"]}`).wantOK(t)

	// Nothing of it on disk either: deleted rows are overwritten and the
	// WAL truncated.
	for _, path := range []string{h.dbPath, h.dbPath + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(n)) {
			t.Errorf("%s still holds %s", path, n)
		}
	}
	// The refused callback in execution keeps its data, and says so.
	if rec := h.get(dialled); rec["_customer_number"] != busy {
		t.Errorf("callback in execution was touched: %v", rec)
	}
}

func TestForgetMeErrors(t *testing.T) {
	h := newHarness(t, "[service.ids]\n_customer_lookup_keys = _customer_id\n"+usersSection)
	got := h.admin("/1/admin/callback/ops/delete", `{"_customer_number":["132456"]}`).wantOK(t)
	want := `{"errors":[{"code":40010,"message":"No such lookup possible for _customer_number","non-existing-lookup-key":"132456","phrase":"BAD_PARAMETER"}],"success":[]}`
	if js, _ := json.Marshal(got); string(js) != want {
		t.Errorf("answer\n%s\nwant\n%s", js, want)
	}
	h.admin("/1/admin/callback/ops/delete", `{}`).wantError(t, 400, 40010, "BAD_PARAMETER", "No lookup possible. No properties to look for.")
	h.admin("/1/admin/callback/ops/delete", `{"_id":[{"x":1}]}`).wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid _id: must be an array of strings")
	h.admin("/1/admin/callback/ops/delete", `{"_id":`).wantError(t, 400, 40010, "BAD_PARAMETER", "Malformed JSON body: …")
}

func TestReportCancelled(t *testing.T) {
	h := adminHarness(t)
	h.admin("/1/admin/callback/reportcancelled", `{}`).wantError(t, 400, 40010, "BAD_PARAMETER", "Callback reason is missing.")
	if r := h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"CANCELLED_BY_ADMIN"}`); r.status != 204 || len(r.body) != 0 {
		t.Fatalf("nothing cancelled: %d %q, want 204", r.status, r.body)
	}
	tricky := "Smith, \"Bob\"\nsecond line"
	a := h.start("support", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour), "note": tricky})
	b := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(2 * time.Hour), "_urs_virtual_queue": "VQ_1"})
	byCustomer := h.start("sales", map[string]any{"_customer_number": num(), "_desired_time": ts(3 * time.Hour)})
	h.admin("/1/admin/callback/cancel", `{"reason":"CANCELLED_BY_ADMIN","ids":["`+a+`","`+b+`"]}`).wantOK(t)
	h.do("DELETE", "/1/service/callback/sales/"+byCustomer, "", "").wantOK(t)

	r := h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"CANCELLED_BY_ADMIN","exported_properties":[]}`)
	if r.status != 200 || r.header.Get("Content-Disposition") != `attachment; filename="report.csv"` || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recA, recB := h.get(a), h.get(b)
	want := [][]string{
		{"_desired_time", "_service_name", "_customer_number", "_target", "_vq_for_outbound_calls", "_urs_virtual_queue"},
		{ts(time.Hour), "support", recA["_customer_number"], "Billing@Stat_Server.GA", "", ""},
		{ts(2 * time.Hour), "sales", recB["_customer_number"], "", "", "VQ_1"},
	}
	if js, wjs := mustJSON(rows), mustJSON(want); js != wjs {
		t.Errorf("default export\n%s\nwant\n%s", js, wjs)
	}

	r = h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"CANCELLED_BY_ADMIN","exported_properties":["_service_id,_desired_time","note"]}`)
	rows, err = csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	want = [][]string{{"_service_id", "_desired_time", "note"}, {a, ts(time.Hour), tricky}, {b, ts(2 * time.Hour), ""}}
	if js, wjs := mustJSON(rows), mustJSON(want); js != wjs {
		t.Errorf("chosen columns\n%s\nwant\n%s", js, wjs)
	}
	// From 30 days back: a month later, nothing is left to export.
	h.clock.Advance(31 * 24 * time.Hour)
	if r := h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"CANCELLED_BY_ADMIN"}`); r.status != 204 {
		t.Errorf("after 31 days: %d %s, want 204", r.status, r.body)
	}
	h.admin("/1/admin/callback/reportcancelled", `{"callback_reason":"WHATEVER"}`).wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid callback_reason [WHATEVER]: not a reason of the Callback API")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
