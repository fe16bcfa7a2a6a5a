package server

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/postgres"
)

// What a node does when several share one PostgreSQL database (see
// docs/multinode.md): it takes the database's clock, so that every node
// agrees on what is due and when a lease ends; and it publishes itself
// (id, address, configuration fingerprint) with a heartbeat, so that nodes
// running different configurations are noticed.
const (
	// heartbeatEvery is how often a node publishes itself.
	heartbeatEvery = 10 * time.Second
	// nodeGone is how long a node may miss heartbeats before the others
	// stop counting it as alive.
	nodeGone = 3 * heartbeatEvery
	// clockSyncEvery is how often the database's clock is sampled again.
	// The local oscillator drifts by at most a few milliseconds meanwhile.
	clockSyncEvery = 30 * time.Second
	// skewWarning is the local clock's offset from the database's that is
	// worth a warning: callbackd is not affected, but whatever else runs
	// on the machine (logs, other services) is.
	skewWarning = time.Second
	// choreTimeout bounds one heartbeat or clock sample.
	choreTimeout = 5 * time.Second
)

// joinNodes picks the node's clock and names the node. A node on a store
// that several nodes share (PostgreSQL) follows the database's clock
// unless a clock was injected.
func (s *Server) joinNodes(ctx context.Context) error {
	s.registry, _ = s.store.(callbackd.NodeRegistry)
	if s.opts.Clock == nil {
		s.opts.Clock = s.opts.LocalClock
		if pg, ok := s.store.(*postgres.Store); ok {
			clk, err := postgres.NewClock(ctx, pg, s.opts.LocalClock)
			if err != nil {
				return fmt.Errorf("clock: %w", err)
			}
			s.dbClock, s.opts.Clock = clk, clk
			s.log.Info("clock: following the database's clock", "offset", clk.Offset().Round(time.Millisecond), "uncertainty", clk.Uncertainty())
			s.checkSkew()
		}
	}
	s.node = callbackd.Node{ID: nodeID(), StartedAt: s.opts.Clock.Now().UTC()}
	return nil
}

// NodeID names this node in leases and in the nodes table.
func (s *Server) NodeID() string { return s.node.ID }

// Clock is the node's clock: the injected one, or the database's.
func (s *Server) Clock() callbackd.Clock { return s.opts.Clock }

// Heartbeat publishes this node (address, configuration fingerprint, now)
// to a store that several nodes share and returns the nodes alive (seen
// within nodeGone), by id. When they run different configurations it logs
// a warning, once per change of the picture, and a notice when they agree
// again. On a single-node store it does nothing.
func (s *Server) Heartbeat(ctx context.Context) ([]callbackd.Node, error) {
	if s.registry == nil {
		return nil, nil
	}
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	n := s.node
	n.Addr, n.Config, n.SeenAt = s.apiBase(), s.Config().Fingerprint, s.opts.Clock.Now().UTC()
	all, err := s.registry.Heartbeat(ctx, n)
	if err != nil {
		s.log.Warn("heartbeat failed", "node", n.ID, "error", err)
		return nil, err
	}
	var live []callbackd.Node
	for _, m := range all {
		if !m.SeenAt.Before(n.SeenAt.Add(-nodeGone)) {
			live = append(live, m)
		}
	}
	s.checkAgreement(n, live)
	return live, nil
}

// checkAgreement logs when the live nodes' configurations start or stop
// differing. The picture names each fingerprint with its nodes, so that an
// operator sees which nodes missed a rollout.
func (s *Server) checkAgreement(self callbackd.Node, live []callbackd.Node) {
	byConfig := map[string][]string{}
	for _, m := range live {
		byConfig[m.Config] = append(byConfig[m.Config], m.ID+" ("+m.Addr+")")
	}
	if len(byConfig) <= 1 {
		if s.disagree != "" {
			s.log.Info("nodes: all live nodes run the same configuration again", "config", self.Config, "nodes", len(live))
			s.disagree = ""
		}
		return
	}
	configs := make([]string, 0, len(byConfig))
	for c := range byConfig {
		configs = append(configs, c)
	}
	sort.Strings(configs)
	var parts []string
	for _, c := range configs {
		parts = append(parts, c+": "+strings.Join(byConfig[c], ", "))
	}
	picture := strings.Join(parts, "; ")
	if picture == s.disagree {
		return
	}
	s.disagree = picture
	s.log.Warn("nodes: live nodes run different configurations; put the same file on every node (docs/multinode.md)",
		"node", self.ID, "config", self.Config, "configs", picture)
}

// SyncClock samples the database's clock again (when the node follows it)
// and warns when the machine's own clock is off. A failure leaves the
// node on its last sample.
func (s *Server) SyncClock(ctx context.Context) error {
	if s.dbClock == nil {
		return nil
	}
	if err := s.dbClock.Sync(ctx); err != nil {
		s.log.Warn("clock: cannot read the database's clock; going on from the last reading", "error", err)
		return err
	}
	s.checkSkew()
	return nil
}

// checkSkew warns when the local clock is off the database's by more than
// skewWarning, again only when the offset changed by as much.
func (s *Server) checkSkew() {
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	off := s.dbClock.Offset()
	if off.Abs() < skewWarning || (off-s.lastSkew).Abs() < skewWarning {
		return
	}
	s.lastSkew = off
	s.log.Warn("clock: this machine's clock is off the database's; callbackd follows the database, but fix NTP here",
		"database_minus_local", off.Round(time.Millisecond))
}

// startChores runs the heartbeat and the clock samples in the background
// until stopChores, after a first heartbeat so that the node is listed as
// soon as it serves.
func (s *Server) startChores() {
	if s.registry == nil && s.dbClock == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.chores, s.choresOK = cancel, make(chan struct{})
	s.beat(ctx)
	go func() {
		defer close(s.choresOK)
		beat, sample := time.NewTicker(heartbeatEvery), time.NewTicker(clockSyncEvery)
		defer beat.Stop()
		defer sample.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-beat.C:
				s.beat(ctx)
			case <-sample.C:
				sctx, cancel := context.WithTimeout(ctx, choreTimeout)
				_ = s.SyncClock(sctx)
				cancel()
			}
		}
	}()
}

// beat is one heartbeat within choreTimeout; its failure is logged.
func (s *Server) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, choreTimeout)
	defer cancel()
	_, _ = s.Heartbeat(ctx)
}

// stopChores ends the background loop and removes the node from the
// nodes table: it stopped cleanly, nobody needs to wonder where it went.
func (s *Server) stopChores(ctx context.Context) {
	if s.chores != nil {
		s.chores()
		<-s.choresOK
	}
	if s.registry != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), choreTimeout)
		defer cancel()
		if err := s.registry.Leave(lctx, s.node.ID); err != nil {
			s.log.Warn("nodes: could not leave the nodes table", "node", s.node.ID, "error", err)
		}
	}
}
