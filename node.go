package callbackd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// Node is one callbackd process as the store that several processes share
// knows it. Nodes publish themselves with a heartbeat, so that an operator
// (and every node) can see which nodes are alive and which configuration
// each one runs.
type Node struct {
	// ID names the node; it is also the owner of its dispatcher leases.
	ID string
	// Addr is where the node serves its API (its public URL).
	Addr string
	// Config is the Fingerprint of the configuration in force.
	Config string
	// StartedAt is when the node started; SeenAt its last heartbeat.
	StartedAt time.Time
	SeenAt    time.Time
}

// NodeRegistry is implemented by stores that several nodes share (the
// PostgreSQL store). A single-node store (SQLite) has no use for it.
type NodeRegistry interface {
	// Heartbeat records n (keyed by n.ID) as alive at n.SeenAt, forgets
	// nodes not seen for a day, and returns every node it knows, the
	// caller included, by id. Returns SERVICE_UNAVAILABLE when the store
	// cannot be reached.
	Heartbeat(ctx context.Context, n Node) ([]Node, error)
	// Leave removes a node that stops cleanly.
	Leave(ctx context.Context, id string) error
}

// nodeLocalSections are the sections that may differ between nodes of one
// deployment without changing what clients see: each node's address,
// database credentials and dispatcher tuning. The Fingerprint leaves them
// out, so that it only tells apart configurations that behave differently.
var nodeLocalSections = map[string]bool{"server": true, "storage": true, "dispatcher": true}

// fingerprint hashes the options of the sections every node must share,
// in a canonical order (sections by name, options by key), so that two
// files that differ only in layout, comments or order get the same value.
// The one order that changes behaviour is kept: [dialer]'s outcome.*
// rules, where the first match wins, are hashed in file order.
func fingerprint(sections []Section) string {
	var shared []Section
	for _, s := range sections {
		if !nodeLocalSections[s.Name] {
			shared = append(shared, s)
		}
	}
	sort.SliceStable(shared, func(i, j int) bool { return shared[i].Name < shared[j].Name })
	h := sha256.New()
	for _, s := range shared {
		keys := append([]KeyValue(nil), s.Keys...)
		sort.SliceStable(keys, func(i, j int) bool { return keyBefore(s.Name, keys[i].Key, keys[j].Key) })
		h.Write([]byte("[" + s.Name + "]\x00"))
		for _, kv := range keys {
			h.Write([]byte(kv.Key + "\x00" + kv.Value + "\x00"))
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// keyBefore orders a section's options for the fingerprint: by key, except
// that [dialer]'s outcome rules all rank alike after the other options, so
// that a stable sort leaves them in file order.
func keyBefore(section, a, b string) bool {
	if section == "dialer" {
		ra, rb := strings.HasPrefix(a, outcomePrefix), strings.HasPrefix(b, outcomePrefix)
		if ra || rb {
			return !ra && rb
		}
	}
	return a < b
}

// EngineElector is implemented by stores that several nodes share (the
// PostgreSQL store): it elects the one node that runs the built-in
// engine, so that each callback is offered, and each attempt dialled, by
// one process. The other nodes hand callbacks over through the store and
// forward the agent API to the leader.
type EngineElector interface {
	// TryLeadEngine makes n the engine's leader if no live node is, and
	// records n (its id and address) as the leader. It returns nil, nil
	// when another node leads. The lease lasts until Release, or until
	// the store loses this node (Lost closes).
	TryLeadEngine(ctx context.Context, n Node) (EngineLease, error)
	// EngineLeader returns the node recorded as the leader, or
	// ErrNotFound. The record may name a node that just died: callers
	// treat an unreachable leader as "no leader yet".
	EngineLeader(ctx context.Context) (Node, error)
	// LastEventSeq is the newest event's number: the leader follows the
	// events after it to learn of other nodes' hand-overs and cancels.
	LastEventSeq(ctx context.Context) (int64, error)
}

// EngineLease is a node's hold on the engine's leadership.
type EngineLease interface {
	// Lost is closed when the lease can no longer be vouched for (the
	// store's connection failed): the leader must stop at once.
	Lost() <-chan struct{}
	// Release gives the lease up.
	Release()
}
