package server_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEventsForReporting(t *testing.T) {
	p := newPlatform(t)
	h := newHarness(t, dispatchConfig(p)+usersSection)
	id := h.start("ors", map[string]any{"_customer_number": num(), "_originating_interaction_id": "00F0000X", "_desired_time": ts(time.Hour)})
	h.json("POST", "/1/service/callback/ors", map[string]any{"_customer_number": "+19005551234", "_originating_interaction_id": "00F0000Y"}).
		wantError(t, 400, 40040, "NUMBER_REJECTED", "…")

	r := h.asAdmin("GET", "/1/events", "", "")
	var evs []map[string]any
	if err := json.Unmarshal(r.body, &evs); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(evs) != 2 {
		t.Fatalf("events %s", r.body)
	}
	acc, rej := evs[0], evs[1]
	props := acc["properties"].(map[string]any)
	if acc["type"] != "accepted" || acc["_id"] != id || acc["to"] != "SCHEDULED" || acc["_service_name"] != "ors" ||
		props["_originating_interaction_id"] != "00F0000X" || props["_CB_SERVICE_ID"] != id ||
		props["_CB_T_SERVICE_START"] != strconv.FormatInt(t0.Add(time.Hour).Unix(), 10) ||
		props["_CB_T_CALLBACK_ACCEPTED"] != strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("accepted event %v", acc)
	}
	rp := rej["properties"].(map[string]any)
	if rej["type"] != "rejected" || rp["code"] != "40040" || rp["_originating_interaction_id"] != "00F0000Y" || !strings.Contains(rp["message"].(string), "premium") {
		t.Errorf("rejected event %v", rej)
	}
	// The execution platform receives the reporting keys too.
	h.clock.Set(t0.Add(time.Hour))
	h.srv.Dispatcher().RunOnce(t.Context())
	if body := p.posts[0]; body["_CB_SERVICE_ID"] != id || body["_originating_interaction_id"] != "00F0000X" {
		t.Errorf("submission lacks the reporting keys: %v", body)
	}
	// Later events repeat them; filter by callback and after a sequence.
	seq := int64(evs[0]["seq"].(float64))
	r = h.asAdmin("GET", "/1/events?_id="+id+"&after="+strconv.FormatInt(seq, 10), "", "")
	var later []map[string]any
	_ = json.Unmarshal(r.body, &later)
	if len(later) != 2 || later[1]["type"] != "submitted" || later[1]["properties"].(map[string]any)["_CB_SERVICE_ID"] != id {
		t.Errorf("later events %s", r.body)
	}
	h.asAdmin("GET", "/1/events?after=x", "", "").wantError(t, 400, 40010, "BAD_PARAMETER", "Invalid after [x]: must be an event sequence number")
}

func TestEventStream(t *testing.T) {
	h := newHarness(t, baseConfig+usersSection)
	first := h.start("cb", map[string]any{"_customer_number": num(), "_desired_time": ts(time.Hour)})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", h.base+"/1/events/stream", nil)
	req.SetBasicAuth("admin", "s3cret")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %s", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() (id, typ, data string) {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("stream ended")
				}
				switch {
				case strings.HasPrefix(l, "id: "):
					id = l[4:]
				case strings.HasPrefix(l, "event: "):
					typ = l[7:]
				case strings.HasPrefix(l, "data: "):
					data = l[6:]
				case l == "" && data != "":
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no event within 10 s")
			}
		}
	}
	if _, typ, data := next(); typ != "accepted" || !strings.Contains(data, first) {
		t.Fatalf("first event %s %s", typ, data)
	}
	// A change made after the stream opened arrives on it.
	h.do("DELETE", "/1/service/callback/cb/"+first, "", "").wantOK(t)
	if _, typ, data := next(); typ != "completed" || !strings.Contains(data, `"_callback_reason":"CANCELLED"`) {
		t.Fatalf("second event %s %s", typ, data)
	}
}
