package ors_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// request is what the fake platform saw of one call.
type request struct {
	Method  string
	Path    string // decoded
	RawPath string // as sent, escapes kept
	Query   string
	Header  http.Header
	Body    map[string]string
}

// recorder is an httptest server that records every request and answers
// with the handler under test.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
}

func newRecorder(t *testing.T, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(data)) // the answer may read it too
		req := request{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone()}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &req.Body); err != nil {
				t.Errorf("request body is not a JSON object of strings: %v: %s", err, data)
			}
		}
		rec.mu.Lock()
		rec.requests = append(rec.requests, req)
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// only returns the one request the platform received.
func (rec *recorder) only(t *testing.T) request {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.requests) != 1 {
		t.Fatalf("platform received %d requests, want 1", len(rec.requests))
	}
	return rec.requests[0]
}

// all returns every request received so far.
func (rec *recorder) all() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.requests...)
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.requests)
}

// answer writes a fixed status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// dedupPlatform behaves as docs/executor-protocol.md says a platform must:
// at most one session per Idempotency-Key (a repeated key answers the same
// session), and at most one live session per callback _id (a new attempt
// for a callback whose session still runs answers that session).
type dedupPlatform struct {
	mu      sync.Mutex
	byKey   map[string]string
	liveFor map[string]string // callback _id -> live session
	started int
}

func newDedupPlatform() *dedupPlatform {
	return &dedupPlatform{byKey: map[string]string{}, liveFor: map[string]string{}}
}

func (p *dedupPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		answer(http.StatusBadRequest, `{"message":"body is not JSON"}`)(w, r)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	p.mu.Lock()
	defer p.mu.Unlock()
	status := http.StatusOK
	session, seen := p.byKey[key]
	if !seen {
		session, seen = p.liveFor[body["_id"]]
	}
	if !seen {
		p.started++
		session = "sess-" + strconv.Itoa(p.started)
		p.liveFor[body["_id"]] = session
		status = http.StatusCreated
	}
	p.byKey[key] = session
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"_ors_session_id": session})
}

// sessions is how many sessions the platform started.
func (p *dedupPlatform) sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

// finish ends the live session of a callback, as when the platform
// reports COMPLETED.
func (p *dedupPlatform) finish(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.liveFor, id)
}
