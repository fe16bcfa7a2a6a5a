package ors_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/ors"
)

// TestSubmitReusesConnections: a dispatcher with n submissions in flight
// keeps its n connections to the platform between rounds instead of
// dialling per callback (net/http's default transport keeps 2 idle).
func TestSubmitReusesConnections(t *testing.T) {
	const n = 8
	for _, tc := range []struct {
		name  string
		conns int
	}{{"Conns", n}, {"DefaultConns", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var dialled atomic.Int64
			var arrived sync.WaitGroup
			platform := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Answer only once all n of the round are in flight, so that
				// the round needs n connections at once.
				arrived.Done()
				arrived.Wait()
				fmt.Fprintf(w, `{"_ors_session_id":"S-%s"}`, r.Header.Get("Idempotency-Key"))
			}))
			platform.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dialled.Add(1)
				}
			}
			platform.Start()
			defer platform.Close()
			x := ors.New(ors.Options{Conns: tc.conns})
			for round := range 3 {
				arrived.Add(n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s := submission(platform.URL)
						s.Callback = &callbackd.Callback{ID: fmt.Sprintf("cb%d-%d", round, i)}
						s.IdempotencyKey = ""
						if _, err := x.Submit(context.Background(), s); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			if got := dialled.Load(); got != n {
				t.Errorf("%d connections dialled for 3 rounds of %d submissions in flight, want %d (one per submission in flight)", got, n, n)
			}
		})
	}
}
