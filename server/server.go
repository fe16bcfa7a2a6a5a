// Package server wires callbackd together: configuration (with live
// reload), the store, the use cases and the HTTP API. cmd/callbackd is a
// thin shell around it, and the end-to-end tests run it for real on port 0
// with a temporary database.
//
// Shutdown is ordered: stop accepting connections and let in-flight
// requests finish, then close the store, so every acknowledged write is
// committed before the process exits.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/httpapi"
	"github.com/callbackd/callbackd/inifile"
	"github.com/callbackd/callbackd/postgres"
	"github.com/callbackd/callbackd/sqlite"
)

// Options are what the command line decides.
type Options struct {
	// ConfigPath is the INI file.
	ConfigPath string
	// Listen and StoreURL override the file's [server] listen and
	// [storage] url when set.
	Listen   string
	StoreURL string
	Clock    callbackd.Clock
	Logger   *slog.Logger
}

// Server is a running callbackd.
type Server struct {
	opts    Options
	log     *slog.Logger
	cfg     atomic.Pointer[callbackd.Config]
	store   callbackd.Store
	manager *callbacks.Manager
	http    *http.Server
	ln      net.Listener
	served  chan error

	reloadMu sync.Mutex
	stamp    fileStamp

	closeOnce sync.Once
	closeErr  error
}

// Open loads the configuration and opens the store. It does not listen
// yet: call Start.
func Open(ctx context.Context, opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = callbackd.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger}
	stamp, err := statFile(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	cfg, err := s.load()
	if err != nil {
		return nil, err
	}
	s.stamp = stamp
	s.cfg.Store(cfg)
	store, err := OpenStore(ctx, cfg.Storage.URL)
	if err != nil {
		return nil, err
	}
	s.store = store
	s.manager = &callbacks.Manager{Store: store, Clock: opts.Clock, Config: s.Config}
	api := &httpapi.Server{Manager: s.manager, Config: s.Config, Logger: s.log}
	s.http = &http.Server{
		Handler:           api.Handler(cfg.Server.BasePath),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// load reads and validates the configuration file and applies the
// command-line overrides.
func (s *Server) load() (*callbackd.Config, error) {
	cfg, err := inifile.Load(s.opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	if s.opts.Listen != "" {
		cfg.Server.Listen = s.opts.Listen
	}
	if s.opts.StoreURL != "" {
		cfg.Storage.URL = s.opts.StoreURL
	}
	return cfg, nil
}

// OpenStore opens the store a URL names: sqlite:PATH or postgres://...
func OpenStore(ctx context.Context, url string) (callbackd.Store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, url)
	}
	return nil, fmt.Errorf("storage: unsupported url %q: use sqlite:PATH or postgres://...", redactURL(url))
}

// Config is the configuration in force.
func (s *Server) Config() *callbackd.Config { return s.cfg.Load() }

// Manager runs the use cases (the load tool and benchmarks preload
// through it).
func (s *Server) Manager() *callbacks.Manager { return s.manager }

// Store is the open store.
func (s *Server) Store() callbackd.Store { return s.store }

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.Config().Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	s.served = make(chan error, 1)
	go func() { s.served <- s.http.Serve(ln) }()
	s.log.Info("callbackd listening", "addr", ln.Addr().String(), "base_path", s.Config().Server.BasePath, "store", redactURL(s.Config().Storage.URL))
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting connections, waits for in-flight requests
// (until ctx ends), then closes the store. It is safe to call twice.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() {
		var herr error
		if s.ln != nil {
			herr = s.http.Shutdown(ctx)
			if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
				herr = errors.Join(herr, err)
			}
		}
		s.closeErr = errors.Join(herr, s.store.Close())
		s.log.Info("callbackd stopped")
	})
	return s.closeErr
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}
