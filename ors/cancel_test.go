package ors_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/ors"
)

// fixedURL is a URLFor that always answers u.
func fixedURL(u string) func(*callbackd.Callback) string {
	return func(*callbackd.Callback) string { return u }
}

func handedOver(session string) *callbackd.Callback {
	return &callbackd.Callback{ID: "cb1", Service: "request-callback", State: callbackd.StateQueued, SessionID: session}
}

func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string // "" = cancelled
	}{
		{"OK", 200, `{}`, ""},
		{"Accepted", 202, ``, ""},
		{"NoContent", 204, ``, ""},
		{"NotFoundIsGone", 404, `{"message":"no such session"}`, ""},
		{"Gone", 410, ``, ""},
		{"ConflictAgentConnected", 409, `{"message":"customer already connected to an agent"}`, "ORS answered 409 Conflict: customer already connected to an agent"},
		{"BadRequest", 400, "unknown session format", "ORS answered 400 Bad Request: unknown session format"},
		{"Unauthorized", 401, ``, "ORS answered 401 Unauthorized"},
		{"MethodNotAllowed", 405, ``, "ORS answered 405 Method Not Allowed"},
		{"ServerError", 500, `{"message":"strategy crashed"}`, "ORS answered 500 Internal Server Error: strategy crashed"},
		{"Unavailable", 503, ``, "ORS answered 503 Service Unavailable"},
		{"RedirectNotFollowed", 307, ``, "ORS answered 307 Temporary Redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, answer(tc.status, tc.body))
			x := ors.New(ors.Options{Token: "s3cret", UserAgent: "callbackd/test", URLFor: fixedURL(rec.URL + "/api/callbacks/?tenant=t1")})
			err := x.Cancel(context.Background(), handedOver("sess/1 a"))
			if tc.want == "" && err != nil {
				t.Errorf("Cancel = %v, want nil", err)
			}
			if tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("Cancel = %v, want %q", err, tc.want)
			}
			got := rec.only(t)
			if got.Method != http.MethodDelete || got.RawPath != "/api/callbacks/sess%2F1%20a" || got.Path != "/api/callbacks/sess/1 a" || got.Query != "tenant=t1" {
				t.Errorf("request %s %s?%s, want DELETE /api/callbacks/sess%%2F1%%20a?tenant=t1", got.Method, got.RawPath, got.Query)
			}
			if a, ua := got.Header.Get("Authorization"), got.Header.Get("User-Agent"); a != "Bearer s3cret" || ua != "callbackd/test" {
				t.Errorf("Authorization %q, User-Agent %q; want Bearer s3cret, callbackd/test", a, ua)
			}
		})
	}
}

func TestCancelRefusedBeforeSending(t *testing.T) {
	for _, tc := range []struct {
		name   string
		urlFor func(*callbackd.Callback) string
		cb     *callbackd.Callback
		want   string
	}{
		{"NoSession", fixedURL("http://dialer.example.com/"), handedOver(""), "no execution session"},
		{"NoCallback", fixedURL("http://dialer.example.com/"), nil, "no execution session"},
		{"NoURLFor", nil, handedOver("s1"), "no ORS URL for service request-callback (option _ors)"},
		{"EmptyURL", fixedURL(""), handedOver("s1"), "no ORS URL for service request-callback (option _ors)"},
		{"InvalidURL", fixedURL("mailto:ops@example.com"), handedOver("s1"), "ORS URL invalid: option _ors must be an absolute http:// or https:// URL"},
		{"UnfilledToken", fixedURL("http://$host$/cb"), handedOver("s1"), "ORS URL invalid: option _ors has a $token$ without value"},
		{"DotDotSession", fixedURL("http://dialer.example.com/"), handedOver(".."), "ORS session id .. cannot be put in a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ors.New(ors.Options{URLFor: tc.urlFor}).Cancel(context.Background(), tc.cb)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Cancel = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCancelUnreachable(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusOK, ``))
	target := rec.URL + "/cb?key=secret-in-query"
	rec.Close()
	err := ors.New(ors.Options{URLFor: fixedURL(target)}).Cancel(context.Background(), handedOver("s1"))
	if err == nil || !strings.HasPrefix(err.Error(), "ORS request failed: ") || strings.Contains(err.Error(), "secret-in-query") {
		t.Errorf("Cancel = %v, want ORS request failed: … without the URL", err)
	}
}

func TestCancelContextCancelled(t *testing.T) {
	received := make(chan struct{}, 1)
	rec := newRecorder(t, hang(received))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-received
		cancel()
	}()
	err := ors.New(ors.Options{URLFor: fixedURL(rec.URL)}).Cancel(ctx, handedOver("s1"))
	if err == nil || err.Error() != "ORS request failed: context canceled" {
		t.Errorf("Cancel = %v, want ORS request failed: context canceled", err)
	}
}

func TestCancelErrorBodyBounded(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusInternalServerError, `{"message":"`+strings.Repeat("m", 2*ors.MaxResponseBytes)+`"}`))
	err := ors.New(ors.Options{URLFor: fixedURL(rec.URL)}).Cancel(context.Background(), handedOver("s1"))
	// The body is cut at MaxResponseBytes, so it is no longer JSON: its
	// start is quoted, clipped.
	want := `ORS answered 500 Internal Server Error: {"message":"` + strings.Repeat("m", 256-12) + "…"
	if err == nil || err.Error() != want {
		t.Errorf("Cancel = %v, want %q", err, want)
	}
}
