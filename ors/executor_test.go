package ors_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/ors"
)

const progressURL = "http://callbackd.example/genesys/1/service/callback/request-callback/cb1"

// submission is attempt 2 of a queued callback, with service options, a
// request option, user data, and user data that tries to pass for fields
// callbackd owns.
func submission(target string) callbackd.Submission {
	desired := time.Date(2030, 6, 17, 10, 25, 0, 0, time.UTC)
	cb := &callbackd.Callback{
		ID: "cb1", Service: "request-callback", State: callbackd.StateQueued,
		CustomerNumber: "+15145551234", DesiredTime: desired, ExpirationTime: desired.Add(24 * time.Hour),
		Properties: map[string]string{"usr_customer_name": "Bob Markel"},
	}
	return callbackd.Submission{
		Callback: cb, Attempt: 2, IdempotencyKey: "cb1-2", ProgressURL: progressURL,
		Params: map[string]string{
			"_ors": target, "_target": "Billing@StatServer.GA", "_media_type": "voice",
			"_wait_for_agent": "true", "usr_customer_name": "Bob Markel", "_empty": "",
			"_id": "spoofed", "_progress_url": "http://elsewhere.example/", "_attempt": "9",
		},
	}
}

func wantSubmitError(t *testing.T, err error, retryable bool, message string) {
	t.Helper()
	var se *callbackd.SubmitError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want *callbackd.SubmitError", err, err)
	}
	if se.Retryable != retryable || se.Message != message {
		t.Errorf("SubmitError{Retryable: %v, Message: %q}, want {%v, %q}", se.Retryable, se.Message, retryable, message)
	}
}

func TestSubmitOK(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusCreated, `{"_ors_session_id":"361-738dadcb"}`))
	target := rec.URL + "/api/callbacks?tenant=t1"
	x := ors.New(ors.Options{Token: "s3cret", UserAgent: "callbackd/test"})

	id, err := x.Submit(context.Background(), submission(target))
	if err != nil || id != "361-738dadcb" {
		t.Fatalf("Submit = %q, %v; want 361-738dadcb, nil", id, err)
	}
	got := rec.only(t)
	if got.Method != http.MethodPost || got.Path != "/api/callbacks" || got.Query != "tenant=t1" {
		t.Errorf("request %s %s?%s, want POST /api/callbacks?tenant=t1 (the _ors URL as configured)", got.Method, got.Path, got.Query)
	}
	for name, want := range map[string]string{
		"Content-Type": "application/json", "Idempotency-Key": "cb1-2", "Authorization": "Bearer s3cret",
		"User-Agent": "callbackd/test", "Accept": "application/json",
	} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	want := map[string]string{
		// every parameter, as given
		"_ors": target, "_target": "Billing@StatServer.GA", "_media_type": "voice",
		"_wait_for_agent": "true", "usr_customer_name": "Bob Markel", "_empty": "",
		// the fields callbackd owns win over parameters of the same name
		"_id": "cb1", "_service_name": "request-callback", "_customer_number": "+15145551234",
		"_desired_time": "2030-06-17T10:25:00.000Z", "_expiration_time": "2030-06-18T10:25:00.000Z",
		"_attempt": "2", "_idempotency_key": "cb1-2", "_progress_url": progressURL,
	}
	if !maps.Equal(got.Body, want) {
		t.Errorf("body\n got %v\nwant %v", got.Body, want)
	}
}

func TestSubmitDefaults(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusOK, `{"_ors_session_id":"s1"}`))
	s := submission(rec.URL)
	s.IdempotencyKey = "" // built from the id and the attempt when missing
	if _, err := ors.New(ors.Options{}).Submit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	got := rec.only(t)
	if got.Path != "/" && got.Path != "" {
		t.Errorf("path = %q: callbackd must not add a path to _ors", got.Path)
	}
	if v, ok := got.Header["Authorization"]; ok {
		t.Errorf("Authorization = %q without a Token, want none", v)
	}
	if ua := got.Header.Get("User-Agent"); ua != ors.DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", ua, ors.DefaultUserAgent)
	}
	if k := got.Header.Get("Idempotency-Key"); k != "cb1-2" || got.Body["_idempotency_key"] != "cb1-2" {
		t.Errorf("key = %q / %q, want cb1-2", k, got.Body["_idempotency_key"])
	}
}

func TestSubmitSessionFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"Canonical", 200, `{"_ors_session_id":"a","sessionid":"b","id":"c"}`, "a"},
		{"Created", 201, `{"_ors_session_id":"a"}`, "a"},
		{"AnyOther2xx", 202, `{"_ors_session_id":"a"}`, "a"},
		{"SessionidFallback", 200, `{"sessionid":"b","id":"c"}`, "b"},
		{"IdFallback", 200, `{"id":"c","status":"started"}`, "c"},
		{"EmptyCanonicalFallsBack", 200, `{"_ors_session_id":"","id":"c"}`, "c"},
		{"NullCanonicalFallsBack", 200, `{"_ors_session_id":null,"sessionid":"b"}`, "b"},
		{"Number", 200, `{"id":12345678901234567890}`, "12345678901234567890"},
		{"Trimmed", 200, `{"_ors_session_id":" a "}`, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(tc.status, tc.body))
			id, err := ors.New(ors.Options{}).Submit(context.Background(), submission(rec.URL))
			if err != nil || id != tc.want {
				t.Errorf("Submit = %q, %v; want %q, nil", id, err, tc.want)
			}
		})
	}
}

func TestSubmitInvalidResponse(t *testing.T) {
	huge := `{"_ors_session_id":"s1","pad":"` + strings.Repeat("x", ors.MaxResponseBytes) + `"}`
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"NoSessionID", 200, `{"status":"started"}`, "Invalid ORS response: 200 OK answer has no _ors_session_id"},
		{"EmptyObject", 201, `{}`, "Invalid ORS response: 201 Created answer has no _ors_session_id"},
		{"EmptySessionID", 200, `{"_ors_session_id":"  "}`, "Invalid ORS response: 200 OK answer has no _ors_session_id"},
		{"ObjectSessionID", 200, `{"_ors_session_id":{"v":"s1"}}`, "Invalid ORS response: 200 OK answer has no _ors_session_id"},
		{"NotJSON", 200, `started`, "Invalid ORS response: 200 OK answer is not a JSON object"},
		{"Array", 200, `["s1"]`, "Invalid ORS response: 200 OK answer is not a JSON object"},
		{"Null", 200, `null`, "Invalid ORS response: 200 OK answer is not a JSON object"},
		{"NoBody", 204, ``, "Invalid ORS response: 204 No Content answer is not a JSON object"},
		{"SessionIDTooLong", 200, `{"_ors_session_id":"` + strings.Repeat("s", 257) + `"}`, "Invalid ORS response: 200 OK answer has an unusable _ors_session_id"},
		{"SessionIDControl", 200, `{"sessionid":"s\n1"}`, "Invalid ORS response: 200 OK answer has an unusable sessionid"},
		{"SessionIDDotDot", 200, `{"id":".."}`, "Invalid ORS response: 200 OK answer has an unusable id"},
		{"BodyTooLarge", 200, huge, "Invalid ORS response: 200 OK answer larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(tc.status, tc.body))
			id, err := ors.New(ors.Options{}).Submit(context.Background(), submission(rec.URL))
			if id != "" {
				t.Errorf("session = %q, want none", id)
			}
			wantSubmitError(t, err, false, tc.want)
		})
	}
}

func TestSubmitRefused(t *testing.T) {
	html := "<html><body>\n<h1>Bad Gateway</h1>\n" + strings.Repeat("é", 400) + "</body></html>"
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		retryable bool
		want      string
	}{
		{"BadRequestJSON", 400, `{"code":40010,"message":"Unknown target Billing@StatServer.GA"}`, false, "ORS answered 400 Bad Request: Unknown target Billing@StatServer.GA"},
		{"UnauthorizedText", 401, "bad token\n", false, "ORS answered 401 Unauthorized: bad token"},
		{"ForbiddenEmpty", 403, ``, false, "ORS answered 403 Forbidden"},
		{"NotFound", 404, `{"error":"no such route"}`, false, `ORS answered 404 Not Found: {"error":"no such route"}`},
		{"Conflict", 409, `{"message":"customer already in a call"}`, false, "ORS answered 409 Conflict: customer already in a call"},
		{"Unprocessable", 422, `{"message":""}`, false, `ORS answered 422 Unprocessable Entity: {"message":""}`},
		{"RequestTimeout", 408, ``, true, "ORS answered 408 Request Timeout"},
		{"TooManyRequests", 429, `{"message":"slow down"}`, true, "ORS answered 429 Too Many Requests: slow down"},
		{"InternalServerError", 500, `{"message":"strategy failed"}`, true, "ORS answered 500 Internal Server Error: strategy failed"},
		{"BadGatewayHTMLClipped", 502, html, true, "ORS answered 502 Bad Gateway: <html><body> <h1>Bad Gateway</h1> " + strings.Repeat("é", 256-34) + "…"},
		{"Unavailable", 503, ``, true, "ORS answered 503 Service Unavailable"},
		{"UnknownCode", 599, ``, true, "ORS answered 599"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(tc.status, tc.body))
			id, err := ors.New(ors.Options{}).Submit(context.Background(), submission(rec.URL))
			if id != "" {
				t.Errorf("session = %q, want none", id)
			}
			wantSubmitError(t, err, tc.retryable, tc.want)
		})
	}
}

func TestSubmitRedirectNotFollowed(t *testing.T) {
	moved := newRecorder(t, answer(http.StatusOK, `{"_ors_session_id":"s1"}`))
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, moved.URL, http.StatusFound)
	})
	// even with the caller's own client, which would follow it
	x := ors.New(ors.Options{Client: &http.Client{}})
	_, err := x.Submit(context.Background(), submission(rec.URL))
	wantSubmitError(t, err, false, "ORS answered 302 Found")
	if n := moved.count(); n != 0 {
		t.Errorf("redirect target received %d requests, want 0", n)
	}
}

func TestSubmitBadURL(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"Missing", "", "ORS URL missing: option _ors is not set"},
		{"Blank", "  ", "ORS URL missing: option _ors is not set"},
		{"Relative", "dialer.example.com/callbacks", "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"OtherScheme", "ftp://dialer.example.com/callbacks", "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"NoHost", "http:///callbacks", "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"Opaque", "http:dialer", "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"Unparsable", "http://user:pa ss@[::1/cb", "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"UnfilledToken", "http://$dialer_host$/callbacks", "ORS URL invalid: option _ors has a $token$ without value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ors.New(ors.Options{}).Submit(context.Background(), submission(tc.url))
			wantSubmitError(t, err, false, tc.want)
		})
	}
}

func TestSubmitNoCallback(t *testing.T) {
	_, err := ors.New(ors.Options{}).Submit(context.Background(), callbackd.Submission{Params: map[string]string{"_ors": "http://dialer.example.com/"}})
	wantSubmitError(t, err, false, "No callback to submit")
}

func TestSubmitUnreachable(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusOK, `{"_ors_session_id":"s1"}`))
	target := rec.URL + "/callbacks?key=secret-in-query"
	rec.Close() // nobody listens any more

	_, err := ors.New(ors.Options{}).Submit(context.Background(), submission(target))
	var se *callbackd.SubmitError
	if !errors.As(err, &se) || !se.Retryable || !strings.HasPrefix(se.Message, "ORS request failed: ") {
		t.Fatalf("err = %#v, want a retryable SubmitError starting with ORS request failed: ", err)
	}
	if strings.Contains(se.Message, "secret-in-query") || strings.Contains(se.Message, "/callbacks") {
		t.Errorf("message %q repeats the URL", se.Message)
	}
}

// hang answers only when the client has given up.
func hang(received chan<- struct{}) http.HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) {
		if received != nil {
			received <- struct{}{}
		}
		<-r.Context().Done()
	}
}

func TestSubmitClientTimeout(t *testing.T) {
	rec := newRecorder(t, hang(nil))
	x := ors.New(ors.Options{Client: &http.Client{Timeout: 20 * time.Millisecond}})
	_, err := x.Submit(context.Background(), submission(rec.URL))
	var se *callbackd.SubmitError
	if !errors.As(err, &se) || !se.Retryable || !strings.HasPrefix(se.Message, "ORS request failed: ") || !strings.Contains(se.Message, "Client.Timeout") {
		t.Fatalf("err = %#v, want a retryable SubmitError for the client timeout", err)
	}
}

func TestSubmitContextCancelled(t *testing.T) {
	received := make(chan struct{}, 1)
	rec := newRecorder(t, hang(received))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-received
		cancel()
	}()
	_, err := ors.New(ors.Options{}).Submit(ctx, submission(rec.URL))
	wantSubmitError(t, err, true, "ORS request failed: context canceled")
}

// TestSubmitIdempotency runs the fake platform that behaves as the protocol
// requires: callbackd may send an attempt twice (a crash between the
// platform's answer and the record of the session); the platform must
// answer the same session and start nothing new.
func TestSubmitIdempotency(t *testing.T) {
	p := newDedupPlatform()
	rec := newRecorder(t, p.ServeHTTP)
	x := ors.New(ors.Options{})
	ctx := context.Background()

	s := submission(rec.URL)
	s.Attempt, s.IdempotencyKey = 1, "cb1-1"
	first, err := x.Submit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := x.Submit(ctx, s)
	if err != nil || again != first {
		t.Errorf("repeated key: session %q, %v; want the same session %q", again, err, first)
	}
	if p.sessions() != 1 {
		t.Errorf("platform started %d sessions for one key, want 1", p.sessions())
	}
	if reqs := rec.all(); reqs[0].Header.Get("Idempotency-Key") != "cb1-1" || reqs[1].Header.Get("Idempotency-Key") != "cb1-1" {
		t.Errorf("keys %q, %q; want cb1-1 twice", reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"))
	}

	// A retry is a new attempt with a new key; while the first session is
	// live, the platform answers it rather than dialling a second time.
	s.Attempt, s.IdempotencyKey = 2, "cb1-2"
	if retried, err := x.Submit(ctx, s); err != nil || retried != first || p.sessions() != 1 {
		t.Errorf("new attempt while live: session %q, %v, %d started; want %q, 1 started", retried, err, p.sessions(), first)
	}

	// Once that session ended, a new attempt starts a new one.
	p.finish("cb1")
	s.Attempt, s.IdempotencyKey = 3, "cb1-3"
	if third, err := x.Submit(ctx, s); err != nil || third == first || p.sessions() != 2 {
		t.Errorf("new attempt after the end: session %q, %v, %d started; want a new session", third, err, p.sessions())
	}
}
