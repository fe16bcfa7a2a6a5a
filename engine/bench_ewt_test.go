package engine_test

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/engine"
)

// The EWT replay (BenchmarkEWTAccuracy): ewtAgents auto-answer agents,
// talk times drawn from a log-normal distribution of mean ewtMeanTalk
// (σ = 0.5 of the logarithm: most calls 2-6 minutes, a few over 10), and
// callbacks arriving as a Poisson process for ewtArrivals at a rate of
// rho × the agents' capacity (ewtAgents / ewtMeanTalk).
const (
	ewtAgents   = 20
	ewtMeanTalk = 4 * time.Minute
	ewtArrivals = time.Hour
	ewtSigma    = 0.5
)

// BenchmarkEWTAccuracy measures how far the EWT the engine gives a
// callback entering its queue (_ewt_at_offer) is from the wait it then
// has (from entering the queue to its invitation). The estimate is
// Stats' (see stats.go): AHT × (ahead + 1 − free) / staffed, AHT the
// moving average of the queue's handle times (3 minutes until a call
// ends). Each iteration replays one simulated hour of arrivals, seeded
// by the iteration's number, on the ManualClock, event by event: the
// clock jumps to the next arrival or hang-up, the engine does what that
// makes it do (writes on the real SQLite file), and only once it is
// still does the clock move again; nothing sleeps for business time.
// The agents hang up themselves (Engine.Hangup) when a call's drawn talk
// time is over; the simulated dialer's own talk timer is a day. Run with
//
//	go test -run '^$' -bench BenchmarkEWTAccuracy -benchtime 3x ./engine
//
// and read the per-run lines it logs (-v shows them).
func BenchmarkEWTAccuracy(b *testing.B) {
	for _, rho := range []float64{0.8, 0.95, 1.05} {
		b.Run(fmt.Sprintf("rho=%.2f", rho), func(b *testing.B) {
			var all []ewtSample
			seed := uint64(0)
			for b.Loop() {
				seed++
				run := replayEWT(b, rho, seed)
				b.Logf("seed %d: %s", seed, summarize(run))
				all = append(all, run...)
			}
			s := summarizeSamples(all)
			b.ReportMetric(float64(s.n), "callbacks")
			b.ReportMetric(s.meanWait, "wait-s-mean")
			b.ReportMetric(s.mae, "mae-s")
			b.ReportMetric(s.bias, "bias-s")
			b.ReportMetric(s.medianAbs, "abs-err-s-p50")
			b.ReportMetric(s.p90Abs, "abs-err-s-p90")
			b.ReportMetric(s.waitedMAE, "mae-s-waited")
			b.ReportMetric(s.waitedBias, "bias-s-waited")
			b.ReportMetric(s.relMAE, "mae/mean-wait")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// ewtSample is one callback: the EWT it was given and the wait it had.
type ewtSample struct{ ewt, wait float64 }

// simEvent is the next thing to happen: an arrival (agent == "") or the
// end of a call.
type simEvent struct {
	at        time.Time
	arrival   int
	agent, id string
}

type simQueue []simEvent

func (q simQueue) Len() int           { return len(q) }
func (q simQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q simQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)        { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// replayEWT runs one simulated hour and returns its samples.
func replayEWT(b *testing.B, rho float64, seed uint64) []ewtSample {
	ctx := context.Background()
	f := newFixture(b, benchConfig(ewtAgents, true, "_urs_queued_ttl = 86400", "talk_seconds = 86400"))
	rng := rand.New(rand.NewPCG(seed, 13))
	rate := rho * ewtAgents / ewtMeanTalk.Seconds() // arrivals per second
	mu := math.Log(ewtMeanTalk.Seconds()) - ewtSigma*ewtSigma/2
	var arrivals []time.Time
	talks := map[string]time.Duration{} // callback id → its talk time
	var talkOf []time.Duration
	for at := 0.0; ; {
		at += rng.ExpFloat64() / rate
		if at >= ewtArrivals.Seconds() {
			break
		}
		arrivals = append(arrivals, t0.Add(time.Duration(at*1000)*time.Millisecond))
		talkOf = append(talkOf, time.Duration(math.Exp(mu+ewtSigma*rng.NormFloat64())*1000)*time.Millisecond)
	}

	tr := newTracker(f.clock)
	for i := range ewtAgents {
		name := agentName(i)
		events, stop, err := f.eng.Subscribe(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(stop)
		go tr.follow(name, events)
		f.ready(name)
	}
	q := &simQueue{}
	for i, at := range arrivals {
		heap.Push(q, simEvent{at: at, arrival: i})
	}
	entered := map[string]time.Time{}
	submitted, ended := 0, 0
	for q.Len() > 0 {
		ev := heap.Pop(q).(simEvent)
		f.clock.Set(ev.at)
		f.eng.Tick()
		if ev.agent == "" {
			id := f.submit(fmt.Sprintf("+1415%07d", ev.arrival))
			talks[id], entered[id] = talkOf[ev.arrival], ev.at
			submitted++
		} else {
			tr.hangingUp(ev.agent)
			if err := f.eng.Hangup(ctx, ev.agent, ev.id); err != nil {
				b.Fatalf("%s hangs up %s: %v", ev.agent, ev.id, err)
			}
			ended++
		}
		for _, t := range tr.settle(b, min(ewtAgents, submitted-ended)) {
			heap.Push(q, simEvent{at: ev.at.Add(talks[t.id]), agent: t.agent, id: t.id})
		}
		if tr.allOffered(len(arrivals)) {
			break // every callback was offered: the calls left do not matter
		}
	}
	if !tr.allOffered(len(arrivals)) {
		b.Fatalf("%d of %d callbacks offered", len(tr.offers()), len(arrivals))
	}
	var out []ewtSample
	for id, offered := range tr.offers() {
		cb := f.get(id)
		ewt, err := strconv.Atoi(cb.Properties[callbackd.KeyEWTAtOffer])
		if err != nil {
			b.Fatalf("%s: %s = %q", id, callbackd.KeyEWTAtOffer, cb.Properties[callbackd.KeyEWTAtOffer])
		}
		out = append(out, ewtSample{ewt: float64(ewt), wait: offered.Sub(entered[id]).Seconds()})
	}
	return out
}

// tracker follows the agents' desktops to know when the engine is still:
// every agent either talking (its call connected) or idle (READY, no
// callback), and as many talking as there are agents and callbacks.
type tracker struct {
	clock *callbackd.ManualClock
	mu    sync.Mutex
	phase map[string]string // agent → idle, pending, talking
	fresh []talk            // calls connected since the last settle
	offer map[string]time.Time
}

type talk struct{ agent, id string }

func newTracker(clock *callbackd.ManualClock) *tracker {
	return &tracker{clock: clock, phase: map[string]string{}, offer: map[string]time.Time{}}
}

// follow reads one agent's events.
func (t *tracker) follow(agent string, events <-chan engine.AgentEvent) {
	for ev := range events {
		d, _ := ev.Data.(map[string]any)
		t.mu.Lock()
		switch {
		case ev.Type == "invitation":
			t.phase[agent] = "pending"
			deadline, _ := callbackd.ParseTime(d["deadline"].(string))
			t.offer[d["callback"].(string)] = deadline.Add(-time.Duration(d["timeout"].(int64)) * time.Second)
		case ev.Type == "call" && d["status"] == "connected":
			t.phase[agent] = "talking"
			t.fresh = append(t.fresh, talk{agent, d["callback"].(string)})
		case ev.Type == "state" && d["state"] == string(callbackd.AgentReady) && d["callback"] == "":
			t.phase[agent] = "idle"
		}
		t.mu.Unlock()
	}
}

func (t *tracker) hangingUp(agent string) {
	t.mu.Lock()
	t.phase[agent] = "pending"
	t.mu.Unlock()
}

// settle waits until the engine is still with want agents talking, and
// returns the calls connected meanwhile.
func (t *tracker) settle(b *testing.B, want int) []talk {
	deadline := time.Now().Add(10 * time.Second)
	for {
		t.mu.Lock()
		talking, pending := 0, 0
		for _, p := range t.phase {
			switch p {
			case "talking":
				talking++
			case "pending":
				pending++
			}
		}
		if pending == 0 && talking == want {
			out := t.fresh
			t.fresh = nil
			t.mu.Unlock()
			return out
		}
		t.mu.Unlock()
		if time.Now().After(deadline) {
			b.Fatalf("the engine did not settle: %d talking, %d pending, want %d talking", talking, pending, want)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func (t *tracker) offers() map[string]time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.offer
}

func (t *tracker) allOffered(n int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.offer) == n
}

// ewtSummary is the error of the estimates (estimate − wait, seconds).
type ewtSummary struct {
	n, waited                 int
	meanWait, mae, bias       float64
	medianAbs, p90Abs, relMAE float64
	waitedMAE, waitedBias     float64
}

func summarizeSamples(s []ewtSample) ewtSummary {
	out := ewtSummary{n: len(s)}
	if len(s) == 0 {
		return out
	}
	abs := make([]float64, len(s))
	for i, x := range s {
		e := x.ewt - x.wait
		abs[i] = math.Abs(e)
		out.meanWait += x.wait
		out.mae += abs[i]
		out.bias += e
		if x.ewt > 0 || x.wait > 0 {
			out.waited++
			out.waitedMAE += abs[i]
			out.waitedBias += e
		}
	}
	slices.Sort(abs)
	n := float64(len(s))
	out.medianAbs, out.p90Abs = abs[len(abs)/2], abs[len(abs)*9/10]
	if out.meanWait > 0 {
		out.relMAE = out.mae / out.meanWait
	}
	out.meanWait, out.mae, out.bias = out.meanWait/n, out.mae/n, out.bias/n
	if out.waited > 0 {
		out.waitedMAE /= float64(out.waited)
		out.waitedBias /= float64(out.waited)
	}
	return out
}

func summarize(s []ewtSample) string {
	x := summarizeSamples(s)
	return fmt.Sprintf("%d callbacks (%d waited or were told to), mean wait %.0f s, MAE %.0f s, bias %+.0f s, |error| p50 %.0f s p90 %.0f s; over those that waited: MAE %.0f s, bias %+.0f s",
		x.n, x.waited, x.meanWait, x.mae, x.bias, x.medianAbs, x.p90Abs, x.waitedMAE, x.waitedBias)
}
