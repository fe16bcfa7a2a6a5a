// Package pgtest gives tests outside package postgres (the server's and the
// command's multi-node tests) what postgres/store_test.go gives its own: the
// test database or a clear skip, a fresh schema per test, and a TCP proxy
// that a test can cut to make the database go away.
//
// The database is $CALLBACKD_TEST_POSTGRES, by default PostgreSQL on
// 127.0.0.1:5432 (trust auth, database "test", user postgres). When it
// cannot be reached the test is skipped with a message saying so, except
// under CI=true, where a skipped multi-node test would be a silent hole:
// there it fails.
package pgtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	reachOnce sync.Once
	reachErr  error
	schemaSeq atomic.Int64
)

// URL returns the base URL of the test database, or skips the test (fails
// it under CI=true) when the database cannot be reached.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CALLBACKD_TEST_POSTGRES")
	if base == "" {
		base = defaultURL
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reachErr = err
	})
	if reachErr != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v; start it or set CALLBACKD_TEST_POSTGRES", redact(base), reachErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return base
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(keyword/value connection string)"
}

// Schema creates an empty, uniquely named schema, dropped when the test
// ends, and returns a URL whose search_path points at it (every store
// opened on it migrates and works there, isolated from other tests) and
// the schema's name, which is also the connections' application_name.
func Schema(t testing.TB) (string, string) {
	t.Helper()
	base := URL(t)
	name := fmt.Sprintf("callbackd_mn_%d_%d_%d", os.Getpid(), schemaSeq.Add(1), rand.N(1_000_000))
	ident := pgx.Identifier{name}.Sanitize()
	Exec(t, base, `CREATE SCHEMA `+ident)
	t.Cleanup(func() { Exec(t, base, `DROP SCHEMA `+ident+` CASCADE`) })
	return WithParams(base, "search_path", name, "application_name", name), name
}

// Exec runs one statement on its own connection to the database at u.
func Exec(t testing.TB, u, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Conn opens a connection to u, closed when the test ends, for tests that
// read the tables directly.
func Conn(t testing.TB, u string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// WithParams adds connection parameters to a URL.
func WithParams(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		for i := 0; i+1 < len(kv); i += 2 {
			base += " " + kv[i] + "='" + kv[i+1] + "'"
		}
		return base
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	// pgx does not read "+" as a space, as url.Values would write it.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// Proxy forwards TCP connections to the database, so that a test can make
// the database vanish for the nodes behind it (Cut) and come back
// (Restore) without touching the server other tests use.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

// NewProxy listens on a free local port and forwards to the host and port
// of the database URL u.
func NewProxy(t testing.TB, u string) *Proxy {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		t.Fatalf("pgtest: proxy needs a postgres:// URL with a host, got %s", redact(u))
	}
	p := &Proxy{t: t, target: parsed.Host, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// URL is u with its host and port replaced by the proxy's.
func (p *Proxy) URL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		p.t.Fatal(err)
	}
	parsed.Host = p.addr
	return parsed.String()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	d, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		d.Close()
		return
	}
	p.conns[c], p.conns[d] = true, true
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(d, c)
	go pipe(c, d)
}

// Cut closes the listener and every forwarded connection: new connections
// are refused and open ones are reset, as when the database host goes
// down. Calling it twice does nothing.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore listens again on the same address: the database is back.
func (p *Proxy) Restore() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger for a moment after Close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond) // waiting for the OS to free the port, not for test logic
	}
	p.t.Fatalf("pgtest: proxy cannot listen again on %s: %v", p.addr, err)
}
