package engine

import (
	"context"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// DefaultHandleTime is the handle time assumed for a queue before any of
// its calls has ended.
const DefaultHandleTime = 3 * time.Minute

// handleWeight is the weight of the newest handle time in the queue's
// moving average: about the last 20 calls count.
const handleWeight = 0.1

// Stats is the engine's live view of its queues, and the EWT provider of
// services (callbackd.EWTProvider): the immediate-or-scheduled rule,
// ewt-for-vq and check-queue-position read it.
//
// The estimate, per virtual queue:
//
//	EWT(ahead) = 0                                  when free READY agents ≥ ahead+1
//	EWT(ahead) = AHT × (ahead + 1 − free) / staffed otherwise
//
// where ahead is the callbacks before the one asked about, free the READY
// agents serving the queue with no callback, staffed the agents serving
// it that are logged in and not NOT_READY (at least 1), and AHT the
// moving average of the queue's handle times (from the offer to the end
// of the call), DefaultHandleTime until a call has ended. It is the
// classic M/M/c approximation of a call center queue: each staffed agent
// clears one callback per AHT.
type Stats struct {
	config func() *callbackd.Config
	mu     sync.Mutex
	aht    map[string]time.Duration
	// live reads a queue's waiting, free and staffed counts from the
	// engine; nil before an engine is attached.
	live func(vq string) (waiting, free, staffed int)
}

// NewStats returns empty statistics.
func NewStats(config func() *callbackd.Config) *Stats {
	return &Stats{config: config, aht: map[string]time.Duration{}}
}

var _ callbackd.EWTProvider = (*Stats)(nil)

// observe adds a handle time to the queue's average.
func (s *Stats) observe(vq string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.aht[vq]; ok {
		s.aht[vq] = time.Duration(float64(old)*(1-handleWeight) + float64(d)*handleWeight)
	} else {
		s.aht[vq] = d
	}
}

// AHT is the queue's average handle time.
func (s *Stats) AHT(vq string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.aht[vq]; ok {
		return d
	}
	return DefaultHandleTime
}

// estimateWith applies the formula.
func estimateWith(aht time.Duration, ahead, free, staffed int) time.Duration {
	if free > ahead {
		return 0
	}
	return time.Duration(int64(aht) * int64(ahead+1-free) / int64(max(staffed, 1)))
}

// estimate is the wait of a callback with ahead callbacks before it.
// The engine's lock must not be held (live takes it).
func (s *Stats) estimate(vq string, ahead int) time.Duration {
	free, staffed := 0, 0
	if s.live != nil {
		_, free, staffed = s.live(vq)
	}
	return estimateWith(s.AHT(vq), ahead, free, staffed)
}

// QueueEWT is the wait of a callback joining the queue now.
func (s *Stats) QueueEWT(vq string) time.Duration {
	if s.live == nil {
		return s.estimate(vq, 0)
	}
	waiting, free, staffed := s.live(vq)
	return estimateWith(s.AHT(vq), waiting, free, staffed)
}

// EWT implements callbackd.EWTProvider: for a builtin service, the live
// wait of its virtual queue (GMS adds the EWT only for a service that
// names a statistic, so a service without _request_queue_time_stat gets
// 0); for any other service the [callback] static-ewt.
func (s *Stats) EWT(ctx context.Context, service, statistic string) (time.Duration, error) {
	cfg := s.config()
	if svc, ok := cfg.Service(service); ok && svc.Options.Type == callbackd.TypeBuiltin {
		if statistic == "" {
			return 0, nil
		}
		if !callbackd.ValidStatistic(statistic) {
			return 0, callbackd.BadConfiguration(service, "Unable to parse option: _request_queue_time_stat=%s", statistic)
		}
		return s.QueueEWT(svc.Options.VirtualQueue(service)), nil
	}
	return callbackd.StaticEWT{Value: cfg.Callback.StaticEWT}.EWT(ctx, service, statistic)
}

// VirtualQueueEWT implements callbackd.EWTProvider: the live wait of a
// queue some builtin service or agent uses, else the static-ewt.
func (s *Stats) VirtualQueueEWT(ctx context.Context, vq string) (time.Duration, error) {
	cfg := s.config()
	if knownQueue(cfg, vq) {
		return s.QueueEWT(vq), nil
	}
	return callbackd.StaticEWT{Value: cfg.Callback.StaticEWT}.VirtualQueueEWT(ctx, vq)
}

// knownQueue reports whether a builtin service waits in vq or an agent
// serves it.
func knownQueue(cfg *callbackd.Config, vq string) bool {
	for name, svc := range cfg.Services {
		if svc.Kind == callbackd.KindCallback && svc.Options.Type == callbackd.TypeBuiltin && svc.Options.VirtualQueue(name) == vq {
			return true
		}
	}
	for _, a := range cfg.Agents {
		for _, q := range a.Queues {
			if q == vq {
				return true
			}
		}
	}
	return false
}

// live counts a queue's waiting callbacks and its free and staffed
// agents, for Stats.
func (e *Engine) live(vq string) (waiting, free, staffed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.liveLocked(vq)
}

// liveLocked is live with e.mu held.
func (e *Engine) liveLocked(vq string) (waiting, free, staffed int) {
	if q, ok := e.queues[vq]; ok {
		waiting = q.waiting()
	}
	cfg := e.o.Config()
	for _, a := range e.agents {
		c, ok := cfg.Agents[a.Name]
		if !ok || !contains(c.Queues, vq) {
			continue
		}
		switch a.State {
		case callbackd.AgentReady:
			staffed++
			if a.sess == nil {
				free++
			}
		case callbackd.AgentReserved, callbackd.AgentBusy, callbackd.AgentAfterCallWork:
			staffed++
		}
	}
	return waiting, free, staffed
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
