package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/inifile"
	"github.com/callbackd/callbackd/server"
)

// t0 is a Monday morning; every test's clock starts there.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// baseConfig holds the services the tests use.
const baseConfig = `
[callback]
static-ewt = 0

[service.cb]
_service = callback
_type = ors

[service.short]
_ttl = 600
_request_execution_time_buffer = 300

[service.keys]
_customer_lookup_keys = _customer_number,_customer_id
_mandatory_customer_lookup_keys = _customer_id

[service.old]
_redirect = cb
_overwritable_options = _redirect

[service.over]
_overwritable_options = _redirect,_ttl
_ttl = 100

[service.back]
_redirect = over

[service.tokens]
_ttl = $ttl_token$
_target = Billing@$my_token$.GA

[service.ewt]
_request_queue_time_stat = ExpectedWaitTime;Queue;8999@SIP_Server;Environment

[service.hours]
_service = office-hours

[service.nocountry]
_default_country =
_disallow_impossible_phone_numbers = false

[service.nocountry2]
_default_country =
_disallow_premium_phone_numbers = false
_disallow_impossible_phone_numbers = false
`

type harness struct {
	t       *testing.T
	srv     *server.Server
	clock   *callbackd.ManualClock
	base    string // http://host:port/genesys
	cfgPath string
	dbPath  string
	logs    *syncBuffer
}

// syncBuffer is the server's log output: written by the server's
// goroutines (access lines are written as a request ends), read by tests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t *testing.T, config string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, clock: callbackd.NewManualClock(t0), cfgPath: filepath.Join(dir, "callbackd.ini"),
		dbPath: filepath.Join(dir, "test.db"), logs: &syncBuffer{}}
	if err := os.WriteFile(h.cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	h.open()
	return h
}

// open starts a server on the harness's configuration and database.
func (h *harness) open() {
	h.t.Helper()
	srv, err := server.Open(context.Background(), server.Options{
		ConfigPath: h.cfgPath, Listen: "127.0.0.1:0", StoreURL: "sqlite:" + h.dbPath,
		// The logger follows [server] log_format and log_level.
		Clock: h.clock, LogOutput: h.logs,
		// Tests run the dispatch loop themselves (RunOnce), and waits
		// between attempts move the clock instead of sleeping.
		NoDispatch: true,
		Sleep:      func(_ context.Context, d time.Duration) bool { h.clock.Advance(d); return true },
	})
	if err != nil {
		h.t.Fatalf("server.Open: %v", err)
	}
	if err := srv.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	h.srv = srv
	h.base = "http://" + srv.Addr() + "/genesys"
}

// restart stops the server and starts a new one on the same database.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.srv.Shutdown(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(method, path, contentType, body string) response {
	h.t.Helper()
	return h.send(method, path, contentType, body, nil)
}

// send makes a request, with Basic credentials when auth names them.
func (h *harness) send(method, path, contentType, body string, auth []string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != nil {
		req.SetBasicAuth(auth[0], auth[1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

// usersSection is a [users] section with the user admin, password s3cret
// (bcrypt's lowest cost keeps the tests fast).
var usersSection = func() string {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return "\n[users]\nadmin = " + string(hash) + "\n"
}()

// asAdmin sends a request with the admin's Basic credentials.
func (h *harness) asAdmin(method, path, contentType, body string) response {
	h.t.Helper()
	return h.send(method, path, contentType, body, []string{"admin", "s3cret"})
}

// admin POSTs a JSON body as the admin.
func (h *harness) admin(path, body string) response {
	h.t.Helper()
	return h.asAdmin("POST", path, "application/json", body)
}

// json sends v as a JSON body.
func (h *harness) json(method, path string, v any) response {
	h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.do(method, path, "application/json", string(b))
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %s", err, r.body)
	}
	return m
}

func (r response) records(t *testing.T) []map[string]string {
	t.Helper()
	var a []map[string]string
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body is not a JSON array of string maps (%v): %s", err, r.body)
	}
	return a
}

// wantOK asserts a 200 and returns the body object.
func (r response) wantOK(t *testing.T) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	return r.object(t)
}

// wantError asserts the spec's error body: status, code, phrase, and the
// message (exact, or a prefix when it ends with "…").
func (r response) wantError(t *testing.T, status, code int, phrase, message string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.object(t)
	if got := int(m["code"].(float64)); got != code {
		t.Errorf("code %d, want %d (%s)", got, code, r.body)
	}
	if m["phrase"] != phrase {
		t.Errorf("phrase %v, want %s", m["phrase"], phrase)
	}
	msg, _ := m["message"].(string)
	if prefix, ok := strings.CutSuffix(message, "…"); ok {
		if !strings.HasPrefix(msg, prefix) {
			t.Errorf("message %q, want prefix %q", msg, prefix)
		}
	} else if msg != message {
		t.Errorf("message %q\n          want %q", msg, message)
	}
	if ex, _ := m["exception"].(string); !strings.HasPrefix(ex, "com.genesyslab.gsg.services.callback.") {
		t.Errorf("exception %q", ex)
	}
	if _, ok := m["properties"].(map[string]any); !ok {
		t.Errorf("properties missing or not an object: %s", r.body)
	}
	return m
}

// start posts a JSON Start-Callback and returns the new id.
func (h *harness) start(service string, params map[string]any) string {
	h.t.Helper()
	body := h.json("POST", "/1/service/callback/"+service, params).wantOK(h.t)
	id, _ := body["_id"].(string)
	if id == "" {
		h.t.Fatalf("no _id in %v", body)
	}
	return id
}

// get returns the stored record as the by-id query shows it.
func (h *harness) get(id string) map[string]string {
	h.t.Helper()
	r := h.do("GET", "/1/service/callback?_id="+id, "", "")
	if r.status != 200 {
		h.t.Fatalf("query by id: %d %s", r.status, r.body)
	}
	recs := r.records(h.t)
	if len(recs) != 1 {
		h.t.Fatalf("query by id %s returned %d records: %s", id, len(recs), r.body)
	}
	return recs[0]
}

func (h *harness) stored(id string) *callbackd.Callback {
	h.t.Helper()
	cb, err := h.srv.Store().GetCallback(context.Background(), id)
	if err != nil {
		h.t.Fatalf("GetCallback(%s): %v", id, err)
	}
	return cb
}

var numSeq atomic.Int64

// num returns a fresh, possible US number, so tests that do not care about
// the customer stay clear of _enable_in_queue_checking.
func num() string { return fmt.Sprintf("55555%05d", numSeq.Add(1)) }

func ts(d time.Duration) string { return callbackd.FormatTime(t0.Add(d)) }

func loadConfigText(t *testing.T, text string) (*callbackd.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.ini")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return inifile.Load(path)
}

// executorOf is the server's executor (to build extra dispatchers).
func executorOf(h *harness) callbackd.Executor { return h.srv.Manager().Executor }
