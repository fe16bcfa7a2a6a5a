package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
)

// dummyHash is compared against when the user is unknown, so that an
// unknown user takes as long to refuse as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("callbackd-no-such-user"), bcrypt.DefaultCost)

// Failed authentications allowed per client (remote address) and window
// before the client is refused without checking, with 429 and
// Retry-After. bcrypt's cost already makes each guess slow; this makes a
// guessing run hopeless.
const (
	authFailures = 10
	authWindow   = 5 * time.Minute
)

// requireUser protects admin routes with Basic authentication against the
// [users] section (bcrypt hashes). Without users, the admin API refuses
// everyone. Besides the Authorization header, a JSON body may carry the
// spec's auth object: {"auth":{"username":..,"password":..}} or the
// encoded form {"auth":{"encoded":"base64(username:password)"}}.
func (s *Server) requireUser(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := clientOf(r)
		if s.authBlocked(w, r, client) {
			return
		}
		name, password, ok := r.BasicAuth()
		if !ok {
			name, password, ok = s.bodyAuth(w, r)
		}
		if !ok || !s.verify(name, password) {
			s.authFailed(w, r, client, name, authAdmin)
			return
		}
		next(w, r)
	}
}

// authBlocked answers 429 to a client over its failed attempts.
func (s *Server) authBlocked(w http.ResponseWriter, r *http.Request, client string) bool {
	wait := s.auth.blocked(client, s.now())
	if wait <= 0 {
		return false
	}
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, callbackd.Errorf(callbackd.CodeTooManyRequests, map[string]any{"retry_after": int(wait / time.Second)},
		"Too many failed authentication attempts; retry in %d seconds", secs))
	return true
}

// Who a route authenticates, for authFailed's log line and answer.
const (
	authAdmin = "admin"
	authAgent = "agent"
)

// authFailed counts a failed attempt, logs it and answers 401.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, client, name, who string) {
	s.auth.fail(client, s.now())
	s.Logger.WarnContext(r.Context(), who+" authentication failed", "request_id", RequestID(r.Context()), "user", name, "remote", client, "path", r.URL.Path)
	w.Header().Set("WWW-Authenticate", `Basic realm="callbackd", charset="UTF-8"`)
	msg := "Authentication required: use Basic authentication with a user of the [users] section"
	if who == authAgent {
		msg = "Authentication required: use Basic authentication as the agent, or with a user of the [users] section"
	}
	s.writeError(w, r, callbackd.Errorf(callbackd.CodeUnauthorized, nil, "%s", msg))
}

// verify checks a [users] user's password.
func (s *Server) verify(name, password string) bool {
	hash, known := s.Config().Users[name]
	return s.verifyHash(name, password, hash, known)
}

// verifyHash checks a password against a bcrypt hash in constant time,
// remembering passwords already verified against the current hash so
// that a screen polling every few seconds does not pay bcrypt's cost each
// time. An unknown name is compared against a dummy hash, so that it
// takes as long to refuse as a wrong password.
func (s *Server) verifyHash(name, password, hash string, known bool) bool {
	if !known {
		hash = string(dummyHash)
	}
	key := sha256.Sum256([]byte(name + "\x00" + password + "\x00" + hash))
	if known {
		if _, ok := s.verified.Load(key); ok {
			return true
		}
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !known {
		return false
	}
	s.verified.Store(key, struct{}{})
	return true
}

// bodyAuth reads the auth object of a JSON body and puts the body back for
// the handler.
func (s *Server) bodyAuth(w http.ResponseWriter, r *http.Request) (name, password string, ok bool) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Body == nil || (mt != "application/json" && mt != "") {
		return "", "", false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.Config().Server.MaxBodyBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", "", false
	}
	var v struct {
		Auth *struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Encoded  string `json:"encoded"`
		} `json:"auth"`
	}
	if json.Unmarshal(body, &v) != nil || v.Auth == nil {
		return "", "", false
	}
	if v.Auth.Encoded != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v.Auth.Encoded, "Basic "))
		if err != nil {
			return "", "", false
		}
		name, password, ok = strings.Cut(string(raw), ":")
		return name, password, ok
	}
	return v.Auth.Username, v.Auth.Password, v.Auth.Username != ""
}

// clientOf is the address failed attempts are counted against.
func clientOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// authLimiter counts failed authentications per client in fixed windows.
type authLimiter struct {
	mu      sync.Mutex
	clients map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

// blocked says how long the client must wait, or 0.
func (l *authLimiter) blocked(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.clients[client]
	if f == nil || f.n < authFailures {
		return 0
	}
	if wait := f.start.Add(authWindow).Sub(now); wait > 0 {
		return wait
	}
	delete(l.clients, client)
	return 0
}

func (l *authLimiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[string]*failures{}
	}
	if len(l.clients) > 100000 { // forget expired windows before growing further
		for k, f := range l.clients {
			if now.Sub(f.start) > authWindow {
				delete(l.clients, k)
			}
		}
	}
	f := l.clients[client]
	if f == nil || now.Sub(f.start) > authWindow {
		f = &failures{start: now}
		l.clients[client] = f
	}
	f.n++
}
