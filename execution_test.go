package callbackd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestExecuted(t *testing.T) {
	tests := []struct {
		name string
		opts callbackd.ServiceOptions
		want bool
	}{
		{"BuiltinAlways", callbackd.ServiceOptions{Type: callbackd.TypeBuiltin}, true},
		{"ORSWithAddress", callbackd.ServiceOptions{Type: callbackd.TypeORS, ORS: "http://ors:4421"}, true},
		{"ORSWithoutAddressOnlyStores", callbackd.ServiceOptions{Type: callbackd.TypeORS}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opts.Executed(); got != tt.want {
				t.Fatalf("Executed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExecutionPlan(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	opts := callbackd.ServiceOptions{RequestExecutionTimeBuffer: 2 * time.Minute}
	tests := []struct {
		name      string
		desired   time.Time
		ewt       time.Duration
		wantState callbackd.State
		wantDue   time.Time
	}{
		{"NowIsImmediate", now, 0, callbackd.StateQueued, now},
		{"WithinBufferIsImmediate", now.Add(119 * time.Second), 0, callbackd.StateQueued, now},
		{"PastBufferIsScheduled", now.Add(10 * time.Minute), 0, callbackd.StateScheduled, now.Add(8 * time.Minute)},
		{"EWTMakesItImmediate", now.Add(10 * time.Minute), 9 * time.Minute, callbackd.StateQueued, now},
		{"EWTMovesDueEarlier", now.Add(30 * time.Minute), 5 * time.Minute, callbackd.StateScheduled, now.Add(23 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, due := callbackd.ExecutionPlan(opts, tt.desired, now, tt.ewt)
			if st != tt.wantState || !due.Equal(tt.wantDue) {
				t.Fatalf("ExecutionPlan = %s, %s; want %s, %s", st, due, tt.wantState, tt.wantDue)
			}
		})
	}
}

// recordingExecutor remembers what reached it.
type recordingExecutor struct {
	name      string
	submitted *[]string
}

func (r recordingExecutor) Submit(_ context.Context, s callbackd.Submission) (string, error) {
	*r.submitted = append(*r.submitted, r.name+":"+s.Callback.ID)
	return r.name + "-session", nil
}

func (r recordingExecutor) Cancel(_ context.Context, cb *callbackd.Callback) error {
	*r.submitted = append(*r.submitted, r.name+":cancel:"+cb.ID)
	return nil
}

func TestExecutorsRouteByType(t *testing.T) {
	var got []string
	cfg, err := callbackd.NewConfig([]callbackd.Section{
		{Name: "service.engine", Keys: []callbackd.KeyValue{{Key: "_type", Value: "builtin"}}},
		{Name: "service.platform", Keys: []callbackd.KeyValue{{Key: "_type", Value: "ors"}, {Key: "_ors", Value: "http://ors:4421"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	x := callbackd.Executors{Config: func() *callbackd.Config { return cfg }, ByType: map[string]callbackd.Executor{
		"builtin": recordingExecutor{"builtin", &got}, "ors": recordingExecutor{"ors", &got},
	}}
	ctx := context.Background()
	a := &callbackd.Callback{ID: "a", Service: "engine"}
	b := &callbackd.Callback{ID: "b", Service: "platform"}
	if s, err := x.Submit(ctx, callbackd.Submission{Callback: a, Options: cfg.Services["engine"].Options}); err != nil || s != "builtin-session" {
		t.Fatalf("Submit(engine) = %q, %v", s, err)
	}
	if _, err := x.Submit(ctx, callbackd.Submission{Callback: b, Options: cfg.Services["platform"].Options}); err != nil {
		t.Fatal(err)
	}
	if err := x.Cancel(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := x.Cancel(ctx, b); err != nil {
		t.Fatal(err)
	}
	want := []string{"builtin:a", "ors:b", "builtin:cancel:a", "ors:cancel:b"}
	if len(got) != len(want) {
		t.Fatalf("routed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("routed %v, want %v", got, want)
		}
	}
	_, err = x.Submit(ctx, callbackd.Submission{Callback: a, Options: callbackd.ServiceOptions{Type: "chatbot"}})
	var se *callbackd.SubmitError
	if !errors.As(err, &se) || se.Retryable {
		t.Fatalf("Submit(unknown type) = %v, want a permanent *SubmitError", err)
	}
}

func TestUnclaimRestoresAttempt(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cb := &callbackd.Callback{ID: "x", State: callbackd.StateScheduled, DueAt: now}
	if _, err := cb.Claim(now, "node", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if cb.SubmitAttempts != 1 || cb.LeaseOwner != "node" {
		t.Fatalf("after Claim: attempts %d, lease %q", cb.SubmitAttempts, cb.LeaseOwner)
	}
	cb.Unclaim(now, now.Add(time.Minute))
	if cb.SubmitAttempts != 0 || cb.LeaseOwner != "" || !cb.LeaseUntil.IsZero() || !cb.DueAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after Unclaim: attempts %d, lease %q until %s, due %s", cb.SubmitAttempts, cb.LeaseOwner, cb.LeaseUntil, cb.DueAt)
	}
	if key := callbackd.IdempotencyKey(cb.ID, cb.SubmitAttempts+1); key != "x-1" {
		t.Fatalf("next key %q, want x-1 (the same key: nothing was sent)", key)
	}
}
