// Package storetest is the one test suite every callbackd.Store backend
// must pass, unchanged: SQLite today, PostgreSQL for several nodes. A
// backend's own test calls Run with a function that opens a fresh, empty
// store on a real database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// Opener returns a new, empty store; the suite closes it.
type Opener func(t *testing.T) callbackd.Store

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newCallback builds a SCHEDULED callback for the tests.
func newCallback(id, service, number string, desired time.Time) *callbackd.Callback {
	return &callbackd.Callback{
		ID: id, Service: service, State: callbackd.StateScheduled, CustomerNumber: number,
		DesiredTime: desired, ExpirationTime: desired.Add(24 * time.Hour),
		CreatedAt: t0, UpdatedAt: t0,
		Properties: map[string]string{"firstname": "Bob", "_device_os": "comet"},
		Lookup:     map[string]string{callbackd.KeyCustomerNumber: number},
	}
}

func create(t *testing.T, s callbackd.Store, cb *callbackd.Callback) {
	t.Helper()
	if err := s.CreateCallback(context.Background(), cb, []callbackd.Event{cb.Accepted(cb.CreatedAt, "test")}); err != nil {
		t.Fatalf("CreateCallback(%s): %v", cb.ID, err)
	}
}

type namedTest struct {
	name string
	fn   func(t *testing.T, s callbackd.Store)
}

// Run runs every test of the suite against stores from open.
func Run(t *testing.T, open Opener) {
	tests := []namedTest{
		{"CreateGetRoundTrip", testRoundTrip},
		{"CreateDuplicateIsConflict", testDuplicate},
		{"GetMissingIsNotFound", testGetMissing},
		{"UpdateWritesRecordAndEvents", testUpdate},
		{"UpdateErrorLeavesNothing", testUpdateError},
		{"UpdateMissingIsNotFound", testUpdateMissing},
		{"ConcurrentUpdatesAreSerialised", testConcurrentUpdates},
		{"FindByLookupIsOrWas", testFindIsOrWas},
		{"FindAndOr", testFindAndOr},
		{"FindFilters", testFindFilters},
		{"FindByID", testFindByID},
		{"EventsInOrder", testEvents},
	}
	tests = append(tests, holdTests()...)
	tests = append(tests, rateTests()...)
	tests = append(tests, claimTests()...)
	tests = append(tests, expiryTests()...)
	tests = append(tests, adminTests()...)
	tests = append(tests, countTests()...)
	tests = append(tests, batchTests()...)
	tests = append(tests, agentTests()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

func testRoundTrip(t *testing.T, s callbackd.Store) {
	cb := newCallback("cb-1", "svc", "5551234", t0.Add(time.Hour))
	cb.SessionID = "ors-1"
	cb.SubmitAttempts = 2
	cb.Properties["note"] = "comma, \"quote\"\nnewline ünïcode"
	create(t, s, cb)
	got, err := s.GetCallback(context.Background(), "cb-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != cb.ID || got.Service != "svc" || got.State != callbackd.StateScheduled ||
		got.CustomerNumber != "5551234" || !got.DesiredTime.Equal(cb.DesiredTime) ||
		!got.ExpirationTime.Equal(cb.ExpirationTime) || got.SessionID != "ors-1" || got.SubmitAttempts != 2 ||
		!got.CreatedAt.Equal(t0) || !got.UpdatedAt.Equal(t0) {
		t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, cb)
	}
	for k, v := range cb.Properties {
		if got.Properties[k] != v {
			t.Errorf("property %s = %q, want %q", k, got.Properties[k], v)
		}
	}
	if got.DesiredTime.Location() != time.UTC {
		t.Errorf("desired time location %v, want UTC", got.DesiredTime.Location())
	}
}

func testDuplicate(t *testing.T, s callbackd.Store) {
	create(t, s, newCallback("dup", "svc", "1", t0))
	err := s.CreateCallback(context.Background(), newCallback("dup", "svc", "2", t0), nil)
	if !errors.Is(err, callbackd.ErrConflict) {
		t.Fatalf("second create: err = %v, want ErrConflict", err)
	}
	got, _ := s.GetCallback(context.Background(), "dup")
	if got.CustomerNumber != "1" {
		t.Fatalf("conflicting create overwrote the record: %+v", got)
	}
}

func testGetMissing(t *testing.T, s callbackd.Store) {
	if _, err := s.GetCallback(context.Background(), "nope"); !errors.Is(err, callbackd.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testUpdate(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("u", "svc", "111", t0))
	now := t0.Add(time.Minute)
	got, err := s.UpdateCallback(ctx, "u", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, now, "test")
		cb.Properties["extra"] = "x"
		delete(cb.Properties, "firstname")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != callbackd.StateCompleted {
		t.Fatalf("returned state %s", got.State)
	}
	stored, _ := s.GetCallback(ctx, "u")
	if stored.State != callbackd.StateCompleted || stored.Reason != callbackd.ReasonCancelled ||
		!stored.UpdatedAt.Equal(now) || stored.Properties["extra"] != "x" {
		t.Fatalf("stored %+v", stored)
	}
	if _, ok := stored.Properties["firstname"]; ok {
		t.Fatal("removed property still stored")
	}
	evs, err := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Type != callbackd.EventCompleted || evs[1].From != callbackd.StateScheduled ||
		evs[1].To != callbackd.StateCompleted || evs[1].Reason != callbackd.ReasonCancelled || !evs[1].Time.Equal(now) {
		t.Fatalf("events %+v", evs)
	}
}

func testUpdateError(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("e", "svc", "111", t0))
	boom := errors.New("boom")
	_, err := s.UpdateCallback(ctx, "e", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		cb.State = callbackd.StateCompleted
		cb.Properties["half"] = "written"
		return []callbackd.Event{{Time: t0, CallbackID: "e", Service: "svc", Type: callbackd.EventCompleted}}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	stored, _ := s.GetCallback(ctx, "e")
	if stored.State != callbackd.StateScheduled || stored.Properties["half"] != "" {
		t.Fatalf("aborted update left a half-written record: %+v", stored)
	}
	evs, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "e"})
	if len(evs) != 1 {
		t.Fatalf("aborted update wrote events: %+v", evs)
	}
}

func testUpdateMissing(t *testing.T, s callbackd.Store) {
	_, err := s.UpdateCallback(context.Background(), "nope", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		t.Error("fn called for a missing record")
		return nil, nil
	})
	if !errors.Is(err, callbackd.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testConcurrentUpdates(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("c", "svc", "1", t0))
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateCallback(ctx, "c", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				k, _ := strconv.Atoi(cb.Properties["counter"])
				cb.Properties["counter"] = strconv.Itoa(k + 1)
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.GetCallback(ctx, "c")
	if got.Properties["counter"] != strconv.Itoa(n) {
		t.Fatalf("counter = %s after %d concurrent increments: lost updates", got.Properties["counter"], n)
	}
}

func ids(cbs []*callbackd.Callback) string {
	out := ""
	for i, cb := range cbs {
		if i > 0 {
			out += ","
		}
		out += cb.ID
	}
	return out
}

func find(t *testing.T, s callbackd.Store, q callbackd.Query) string {
	t.Helper()
	got, err := s.FindCallbacks(context.Background(), q)
	if err != nil {
		t.Fatalf("FindCallbacks(%+v): %v", q, err)
	}
	return ids(got)
}

func testFindIsOrWas(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("a", "svc", "111", t0))
	_, err := s.UpdateCallback(ctx, "a", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		cb.CustomerNumber = "222"
		cb.Lookup = map[string]string{callbackd.KeyCustomerNumber: "222"}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, number := range []string{"111", "222"} {
		if got := find(t, s, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: number}}}); got != "a" {
			t.Errorf("lookup %s = %q, want a (is or was equal)", number, got)
		}
	}
}

func testFindAndOr(t *testing.T, s callbackd.Store) {
	for i, spec := range []struct{ number, account string }{{"1", "x"}, {"1", "y"}, {"2", "x"}} {
		cb := newCallback(fmt.Sprintf("cb%d", i), "svc", spec.number, t0.Add(time.Duration(i)*time.Minute))
		cb.Lookup["account"] = spec.account
		create(t, s, cb)
	}
	both := []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "1"}, {Key: "account", Value: "x"}}
	if got := find(t, s, callbackd.Query{Lookups: both}); got != "cb0" {
		t.Errorf("AND = %q, want cb0", got)
	}
	if got := find(t, s, callbackd.Query{Lookups: both, Any: true}); got != "cb0,cb1,cb2" {
		t.Errorf("OR = %q, want cb0,cb1,cb2", got)
	}
	sameKey := []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "2"}, {Key: callbackd.KeyCustomerNumber, Value: "1"}, {Key: "account", Value: "y"}}
	if got := find(t, s, callbackd.Query{Lookups: sameKey}); got != "cb1" {
		t.Errorf("values of one key OR-ed, keys AND-ed = %q, want cb1", got)
	}
	if got := find(t, s, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: "account", Value: "zzz"}}}); got != "" {
		t.Errorf("no match = %q", got)
	}
}

func testFindFilters(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		svc := "s1"
		if i == 3 {
			svc = "s2"
		}
		create(t, s, newCallback(fmt.Sprintf("f%d", i), svc, "9", t0.Add(time.Duration(i)*time.Hour)))
	}
	_, err := s.UpdateCallback(ctx, "f1", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		ev, err := cb.Transition(callbackd.StateCompleted, callbackd.ReasonCancelled, t0, "test")
		return []callbackd.Event{ev}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	number := []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "9"}}
	cases := []struct {
		name string
		q    callbackd.Query
		want string
	}{
		{"All", callbackd.Query{Lookups: number}, "f0,f1,f2,f3"},
		{"Service", callbackd.Query{Lookups: number, Service: "s2"}, "f3"},
		{"State", callbackd.Query{Lookups: number, States: []callbackd.State{callbackd.StateCompleted}}, "f1"},
		{"NotState", callbackd.Query{Lookups: number, States: []callbackd.State{callbackd.StateCompleted}, NotStates: true}, "f0,f2,f3"},
		{"From", callbackd.Query{Lookups: number, DesiredFrom: t0.Add(2 * time.Hour)}, "f2,f3"},
		{"To", callbackd.Query{Lookups: number, DesiredTo: t0.Add(time.Hour)}, "f0,f1"},
		{"Limit", callbackd.Query{Lookups: number, Limit: 2}, "f0,f1"},
		{"NoLookupWithService", callbackd.Query{Service: "s1", States: []callbackd.State{callbackd.StateScheduled}}, "f0,f2"},
	}
	for _, c := range cases {
		if got := find(t, s, c.q); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func testFindByID(t *testing.T, s callbackd.Store) {
	create(t, s, newCallback("id-1", "svc", "1", t0))
	create(t, s, newCallback("id-2", "svc", "2", t0.Add(time.Minute)))
	if got := find(t, s, callbackd.Query{Lookups: []callbackd.KeyValue{{Key: callbackd.KeyID, Value: "id-2"}}}); got != "id-2" {
		t.Errorf("by _id = %q", got)
	}
	q := callbackd.Query{Lookups: []callbackd.KeyValue{{Key: callbackd.KeyID, Value: "id-2"}, {Key: callbackd.KeyCustomerNumber, Value: "1"}}, Any: true}
	if got := find(t, s, q); got != "id-1,id-2" {
		t.Errorf("_id OR number = %q", got)
	}
}

func testEvents(t *testing.T, s callbackd.Store) {
	ctx := context.Background()
	create(t, s, newCallback("ev1", "svc", "1", t0))
	create(t, s, newCallback("ev2", "svc", "2", t0))
	evs, err := s.ListEvents(ctx, callbackd.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].CallbackID != "ev1" || evs[1].CallbackID != "ev2" || evs[0].Seq >= evs[1].Seq ||
		evs[0].Type != callbackd.EventAccepted || evs[0].To != callbackd.StateScheduled {
		t.Fatalf("events %+v", evs)
	}
	after, _ := s.ListEvents(ctx, callbackd.EventQuery{AfterSeq: evs[0].Seq})
	if len(after) != 1 || after[0].CallbackID != "ev2" {
		t.Fatalf("after seq: %+v", after)
	}
	rejected := callbackd.Event{Time: t0, CallbackID: "never-stored", Service: "svc", Type: callbackd.EventRejected, Source: "api",
		Properties: map[string]string{"code": "40040"}}
	if err := s.AppendEvents(ctx, []callbackd.Event{rejected}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ListEvents(ctx, callbackd.EventQuery{CallbackID: "never-stored"})
	if len(got) != 1 || got[0].Type != callbackd.EventRejected || got[0].Properties["code"] != "40040" || got[0].Seq <= evs[1].Seq {
		t.Fatalf("appended event %+v", got)
	}
}
