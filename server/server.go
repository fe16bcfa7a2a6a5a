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
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/dispatch"
	"github.com/callbackd/callbackd/engine"
	"github.com/callbackd/callbackd/httpapi"
	"github.com/callbackd/callbackd/inifile"
	"github.com/callbackd/callbackd/ors"
	"github.com/callbackd/callbackd/postgres"
	"github.com/callbackd/callbackd/prom"
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
	// Clock, when set, is the node's clock as is: tests inject a
	// callbackd.ManualClock. Left nil, a node on PostgreSQL follows the
	// database's clock (postgres.Clock over LocalClock), so that all nodes
	// agree on what is due and when a lease ends, and a node on SQLite
	// uses LocalClock.
	Clock callbackd.Clock
	// LocalClock is this machine's clock (default callbackd.SystemClock);
	// tests skew it to play a node whose NTP is broken.
	LocalClock callbackd.Clock
	// Logger, when set, is used as is (tests); otherwise the logger is
	// built from [server] log_format and log_level, writing to LogOutput
	// (default os.Stderr). Either way, lines logged with a request's
	// context carry its request_id.
	Logger    *slog.Logger
	LogOutput io.Writer
	// NoDispatch keeps the dispatch loop stopped (tests drive it).
	NoDispatch bool
	// Sleep replaces the dispatcher's waits between attempts (tests).
	Sleep func(ctx context.Context, d time.Duration) bool
	// Executor, when set, replaces the HTTP executor (package ors) for
	// submissions and cancels: benchmarks use an in-process one to tell
	// the cost of the dispatcher and the store from that of HTTP.
	Executor callbackd.Executor
	// EngineGrace is how long a node that wins the engine's lead on a
	// shared store waits before it runs the engine (default 5 s; tests
	// shorten it).
	EngineGrace time.Duration
}

// Server is a running callbackd.
type Server struct {
	opts       Options
	log        *slog.Logger
	cfg        atomic.Pointer[callbackd.Config]
	store      callbackd.Store
	manager    *callbacks.Manager
	dispatcher *dispatch.Dispatcher
	engine     *engine.Engine
	// elector elects the engine's node on a shared store (leader.go).
	elector      callbackd.EngineElector
	stopCampaign context.CancelFunc
	campaignDone chan struct{}
	fatal        chan error
	journal      io.Closer // the simulated dialer's journal file
	metrics      *prom.Metrics
	http         *http.Server
	ln           net.Listener
	served       chan error

	reloadMu sync.Mutex
	stamp    fileStamp

	// What a node does among several (node.go).
	dbClock  *postgres.Clock
	registry callbackd.NodeRegistry
	node     callbackd.Node
	beatMu   sync.Mutex // guards disagree and lastSkew
	disagree string     // the last disagreement logged, "" when none
	lastSkew time.Duration
	chores   context.CancelFunc
	choresOK chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open loads the configuration and opens the store. It does not listen
// yet: call Start.
func Open(ctx context.Context, opts Options) (*Server, error) {
	if opts.LocalClock == nil {
		opts.LocalClock = callbackd.SystemClock{}
	}
	s := &Server{opts: opts, fatal: make(chan error, 1)}
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
	logger := opts.Logger
	if logger == nil {
		logger = NewLogger(cmp.Or[io.Writer](opts.LogOutput, os.Stderr), cfg.Server.LogFormat, cfg.Server.LogLevel)
	}
	s.log = slog.New(httpapi.LogHandler(logger.Handler()))
	raw, err := OpenStore(ctx, cfg.Storage.URL)
	if err != nil {
		return nil, err
	}
	s.store = raw
	if err := s.joinNodes(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	// Everything but Close goes through the timing wrapper.
	s.metrics = prom.New(prom.Options{Store: raw, Clock: s.opts.Clock, Logger: s.log})
	store := s.metrics.Store()
	var hand callbackd.Executor = ors.New(ors.Options{Token: cfg.Executor.Token, URLFor: ors.ConfiguredURL(s.Config), Conns: cfg.Dispatcher.Workers})
	if opts.Executor != nil {
		hand = opts.Executor
	}
	stats := engine.NewStats(s.Config)
	policy := &callbacks.Policy{Store: store, Clock: s.opts.Clock, Config: s.Config, EWT: stats}
	agents, ok := store.(callbackd.AgentStore)
	if !ok {
		_ = raw.Close()
		return nil, fmt.Errorf("storage: %T keeps no agents", raw)
	}
	dialer, journal, err := newDialer(cfg.Dialer, s.opts.Clock)
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	s.journal = journal
	eo := engine.Options{Store: store, Agents: agents, Dialer: dialer,
		Clock: s.opts.Clock, Config: s.Config, Policy: policy, Logger: s.log, Stats: stats}
	if s.elector, _ = raw.(callbackd.EngineElector); s.elector != nil {
		eo.LastEventSeq = s.elector.LastEventSeq
	}
	s.engine = engine.New(eo)
	exec := callbackd.Executors{Config: s.Config, ByType: map[string]callbackd.Executor{
		callbackd.TypeORS: hand, callbackd.TypeBuiltin: s.engine,
	}}
	s.dispatcher = dispatch.New(dispatch.Options{
		Store: store, Executor: exec, Clock: s.opts.Clock, Config: s.Config, Logger: s.log, Policy: policy,
		Owner: s.node.ID, Lease: cfg.Dispatcher.Lease, Batch: cfg.Dispatcher.Batch,
		Workers: cfg.Dispatcher.Workers, MaxPerSecond: cfg.Dispatcher.MaxPerSecond,
		ProgressURL: s.progressURL, Sleep: opts.Sleep, Observer: s.metrics,
	})
	s.manager = &callbacks.Manager{Policy: policy, Executor: exec, Submitter: s.dispatcher, Queue: s.engine}
	api := &httpapi.Server{Manager: s.manager, Agents: s.engine, Config: s.Config, Logger: s.log,
		Metrics: s.metrics.Handler(), Observer: s.metrics}
	s.http = &http.Server{
		Handler:           s.forwardToLeader(api.Handler(cfg.Server.BasePath)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(api.CloseStreams) // event streams never end by themselves
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

// Store is the open store (not timed by the metrics).
func (s *Server) Store() callbackd.Store { return s.store }

// Logger is the server's logger (the command logs its shutdown with it).
func (s *Server) Logger() *slog.Logger { return s.log }

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.Config().Server.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln // before the engine's campaign, which publishes this address
	if err := s.startEngine(); err != nil {
		s.ln = nil
		_ = ln.Close()
		return fmt.Errorf("engine: %w", err)
	}
	s.logWarnings(s.Config())
	s.served = make(chan error, 1)
	go func() { s.served <- s.http.Serve(ln) }()
	if !s.opts.NoDispatch {
		s.dispatcher.Start()
	}
	s.startChores()
	s.log.Info("callbackd listening", "addr", ln.Addr().String(), "base_path", s.Config().Server.BasePath, "store", redactURL(s.Config().Storage.URL))
	return nil
}

// Engine is the built-in execution engine (tests drive its Tick).
func (s *Server) Engine() *engine.Engine { return s.engine }

// Dispatcher is the dispatch loop (tests drive RunOnce themselves).
func (s *Server) Dispatcher() *dispatch.Dispatcher { return s.dispatcher }

// progressURL is where a platform reports a callback's progress.
func (s *Server) progressURL(cb *callbackd.Callback) string {
	return s.apiBase() + "/1/service/callback/" + url.PathEscape(cb.Service) + "/" + url.PathEscape(cb.ID)
}

// apiBase is where platforms and operators reach this node's API: the
// public URL (default http://{listen}) with the base path.
func (s *Server) apiBase() string {
	cfg := s.Config()
	base := cfg.Server.PublicURL
	if base == "" {
		addr := cfg.Server.Listen
		if s.ln != nil {
			addr = s.ln.Addr().String()
		}
		base = "http://" + addr
	}
	return base + cfg.Server.BasePath
}

// nodeID names this process in dispatcher leases: host and pid, plus a
// random suffix so a restarted process never mistakes an old lease for its
// own.
func nodeID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
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
		s.dispatcher.Stop() // finishes and records submissions in flight
		s.stopEngine()      // hangs up; the next start (or leader) takes up what was running
		_ = s.journal.Close()
		s.stopChores(ctx)
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
