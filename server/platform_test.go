package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// platform is a fake orchestration platform speaking
// docs/executor-protocol.md. It counts submissions per idempotency key and
// answers from a script of statuses (200 once the script is exhausted).
type platform struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	script   []int
	posts    []map[string]string
	keys     map[string]int
	cancels  []string
	cancelSt int
	// hold, when set, makes the next submission wait until it is closed.
	hold     chan struct{}
	received chan struct{}
}

func newPlatform(t *testing.T) *platform {
	p := &platform{t: t, keys: map[string]int{}, cancelSt: http.StatusNoContent}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *platform) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var body map[string]string
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			p.t.Errorf("platform: body is not a flat JSON object of strings: %s", b)
		}
		p.mu.Lock()
		key := r.Header.Get("Idempotency-Key")
		p.keys[key]++
		p.posts = append(p.posts, body)
		n := len(p.posts)
		status := 200
		if len(p.script) > 0 {
			status, p.script = p.script[0], p.script[1:]
		}
		hold, received := p.hold, p.received
		p.hold = nil
		p.mu.Unlock()
		if hold != nil {
			close(received)
			<-hold
		}
		if status != 200 {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"message":"platform says %d"}`, status)
			return
		}
		fmt.Fprintf(w, `{"_ors_session_id":"S-%d"}`, n)
	case http.MethodDelete:
		p.mu.Lock()
		p.cancels = append(p.cancels, strings.TrimPrefix(r.URL.Path, "/ors/"))
		st := p.cancelSt
		p.mu.Unlock()
		w.WriteHeader(st)
	}
}

func (p *platform) url() string { return p.srv.URL + "/ors" }

// submissions returns the keys received, in order.
func (p *platform) submissions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, b := range p.posts {
		out = append(out, b["_idempotency_key"])
	}
	return out
}

// duplicates returns keys received more than once.
func (p *platform) duplicates() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k, n := range p.keys {
		if n > 1 {
			out = append(out, k)
		}
	}
	return out
}
