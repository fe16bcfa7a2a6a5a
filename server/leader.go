package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// How nodes sharing a store elect the one that runs the built-in engine
// (docs/engine.md, "Several nodes"): every node campaigns for the
// engine's lock; the winner waits engineGrace, so that a leader whose
// connection died has stopped (it notices within the store's lease
// check, about 3 s), then recovers the store and runs the engine. The
// others hand callbacks over through the store and forward the agent API
// (and the live queue views) to the leader. A leader that loses its lease
// stops its engine and the process exits with an error: a supervisor
// restarts it as a follower, with nothing of the old term left in memory.
const (
	// campaignEvery is how often a follower tries to take the lead.
	campaignEvery = 2 * time.Second
	// defaultEngineGrace is the wait between winning the lock and
	// starting the engine.
	defaultEngineGrace = 5 * time.Second
)

// startEngine runs the engine now on a single-node store, or campaigns
// for it on a shared one.
func (s *Server) startEngine() error {
	if s.elector == nil {
		return s.engine.Start(context.Background())
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopCampaign, s.campaignDone = cancel, make(chan struct{})
	go s.campaign(ctx)
	return nil
}

// campaign tries to take the engine's lead until it does or the server
// stops, then runs the engine until the lease is lost.
func (s *Server) campaign(ctx context.Context) {
	defer close(s.campaignDone)
	for {
		node := s.node
		node.Addr = s.apiBase()
		lease, err := s.elector.TryLeadEngine(ctx, node)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("engine: campaign failed; retrying", "error", err)
		case lease != nil:
			s.lead(ctx, lease)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(campaignEvery):
		}
	}
}

// lead runs the engine for one lease.
func (s *Server) lead(ctx context.Context, lease callbackd.EngineLease) {
	defer lease.Release()
	grace := s.opts.EngineGrace
	if grace == 0 {
		grace = defaultEngineGrace
	}
	s.log.Info("engine: this node leads the built-in engine; starting it after the grace period", "grace", grace)
	select {
	case <-ctx.Done():
		return
	case <-lease.Lost():
		s.fail(errors.New("engine: lost the engine's lease before starting"))
		return
	case <-time.After(grace):
	}
	if err := s.engine.Start(ctx); err != nil {
		s.fail(err)
		return
	}
	s.log.Info("engine: running on this node")
	select {
	case <-ctx.Done():
		s.engine.Stop() // before the lease goes: no other node may run it meanwhile
	case <-lease.Lost():
		s.engine.Stop()
		s.fail(errors.New("engine: lost the engine's lease (the store's connection failed); stopped the engine"))
	}
}

// fail reports an error the process must exit for (Fatal).
func (s *Server) fail(err error) {
	s.log.Error("fatal", "error", err)
	select {
	case s.fatal <- err:
	default:
	}
}

// Fatal delivers an error after which the process must stop: the command
// shuts down and exits non-zero, and its supervisor restarts it.
func (s *Server) Fatal() <-chan error { return s.fatal }

// stopEngine stops the campaign or the engine.
func (s *Server) stopEngine() {
	if s.stopCampaign != nil {
		s.stopCampaign()
		<-s.campaignDone
		return
	}
	s.engine.Stop()
}

// leaderRoute reports whether a path is one a node that does not run the
// engine forwards to the one that does: the agent API and the views of the live queues.
func leaderRoute(base, path string) bool {
	p := strings.TrimPrefix(path, base)
	return strings.HasPrefix(p, "/1/agents") || strings.HasSuffix(p, "/check-queue-position") ||
		p == "/1/service/ewt-for-vq" || p == "/2/ewt"
}

// forwardToLeader wraps the API: on a shared store, while another node
// runs the engine, its routes are proxied there (event streams included).
// With no leader reachable they answer 503 in the spec's format.
func (s *Server) forwardToLeader(next http.Handler) http.Handler {
	if s.elector == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := s.Config().Server.BasePath
		if s.engine.Leading() || !leaderRoute(base, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		leader, err := s.elector.EngineLeader(r.Context())
		target, perr := url.Parse(leader.Addr)
		if err != nil || perr != nil || leader.ID == s.node.ID || target.Host == "" {
			s.unavailable(w, r, "The built-in engine is starting on another node; retry in a few seconds")
			return
		}
		proxy := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
				pr.Out.URL.Path, pr.Out.URL.RawPath = r.URL.Path, r.URL.RawPath
				pr.SetXForwarded()
			},
			FlushInterval: -1, // server-sent events go through as they come
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				s.log.Warn("engine: forwarding to the leader failed", "leader", leader.ID, "error", err)
				s.unavailable(w, r, "The node running the built-in engine cannot be reached; retry in a few seconds")
			},
		}
		proxy.ServeHTTP(w, r)
	})
}

// unavailable answers 503 SERVICE_UNAVAILABLE in the spec's format.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Retry-After", "2")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"code":50300,"phrase":"SERVICE_UNAVAILABLE","message":"` + msg + `","exception":"com.genesyslab.gsg.services.callback.CallbackExceptionUnknown","properties":{}}`))
}
