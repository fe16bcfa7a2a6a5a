package loadgen

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one run measured. Latencies are in milliseconds in JSON.
type Result struct {
	Label       string  `json:"label"`
	URL         string  `json:"url"`
	Service     string  `json:"service"`
	Mix         string  `json:"mix"`
	Connections int     `json:"connections"`
	Rate        float64 `json:"target_rate"` // 0: closed loop
	Elapsed     float64 `json:"elapsed_s"`
	// Preloaded callbacks were created over HTTP before the clock started,
	// in PreloadSeconds.
	Preloaded      int     `json:"preloaded,omitempty"`
	PreloadSeconds float64 `json:"preload_s,omitempty"`
	// All sums every op; Ops has one line per op of the mix.
	All OpStats   `json:"all"`
	Ops []OpStats `json:"ops"`
	// Errors counts failed requests by op, HTTP status and spec code.
	Errors []ErrorCount `json:"errors"`
	// NotSent counts open-loop requests due within the run that were
	// never sent: the service fell behind the target rate.
	NotSent int `json:"not_sent,omitempty"`
	// Fallbacks counts reschedules and cancels sent as scheduled starts
	// because the run had no callback left to work on.
	Fallbacks int `json:"fallbacks,omitempty"`
	// Created lists callbacks created (and cancelled) by the measured
	// requests, with Options.KeepIDs.
	Created []CreatedID `json:"-"`
}

// OpStats is one line of the report.
type OpStats struct {
	Op       string  `json:"op"`
	Requests int     `json:"requests"`
	OK       int     `json:"ok"`
	Failed   int     `json:"failed"`
	PerSec   float64 `json:"per_s"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p99_9_ms"`
	Max      float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func opStats(name string, samples []time.Duration, ok int, secs float64) OpStats {
	l := summarise(samples)
	s := OpStats{Op: name, Requests: len(samples), OK: ok, Failed: len(samples) - ok,
		P50: ms(l.P50), P90: ms(l.P90), P99: ms(l.P99), P999: ms(l.P999), Max: ms(l.Max)}
	if secs > 0 {
		s.PerSec = float64(len(samples)) / secs
	}
	return s
}

// summarise fills the op lines, the total and the errors from the merged
// tally.
func (r *Result) summarise(t *tally, elapsed time.Duration) {
	secs := elapsed.Seconds()
	var all []time.Duration
	ok := 0
	for op := range numOps {
		if len(t.samples[op]) == 0 {
			continue
		}
		all = append(all, t.samples[op]...)
		ok += t.ok[op]
		r.Ops = append(r.Ops, opStats(op.String(), t.samples[op], t.ok[op], secs))
	}
	r.All = opStats("all", all, ok, secs)
	r.Errors = t.errorCounts()
}

// Report is what `callbackd bench` prints: the run against the service
// and, when asked, the same load against the baseline just before it.
type Report struct {
	Target   *Result `json:"target"`
	Baseline *Result `json:"baseline,omitempty"`
	// Ratio compares them: throughput and latencies of the target divided
	// by the baseline's. The machine's noise hits both runs alike, so the
	// ratio is the figure to compare across machines and runs.
	Ratio *Ratio `json:"ratio,omitempty"`
}

// Ratio is target / baseline.
type Ratio struct {
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P99        float64 `json:"p99"`
}

// NewReport pairs a run with its baseline (which may be nil).
func NewReport(target, baseline *Result) *Report {
	r := &Report{Target: target, Baseline: baseline}
	if baseline != nil {
		r.Ratio = &Ratio{
			Throughput: div(target.All.PerSec, baseline.All.PerSec),
			P50:        div(target.All.P50, baseline.All.P50),
			P99:        div(target.All.P99, baseline.All.P99),
		}
	}
	return r
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteText writes the report for a person.
func (r *Report) WriteText(w io.Writer) {
	if r.Baseline != nil {
		r.Baseline.WriteText(w)
		fmt.Fprintln(w)
	}
	r.Target.WriteText(w)
	if r.Ratio != nil {
		fmt.Fprintf(w, "\n%s / %s: throughput %.2f, p50 latency %.2f, p99 latency %.2f\n",
			r.Target.Label, r.Baseline.Label, r.Ratio.Throughput, r.Ratio.P50, r.Ratio.P99)
	}
}

// WriteText writes one run: its settings, a line per op, the errors.
func (r *Result) WriteText(w io.Writer) {
	loop := "closed loop (as fast as answers come)"
	if r.Rate > 0 {
		loop = fmt.Sprintf("open loop at %.0f req/s", r.Rate)
	}
	fmt.Fprintf(w, "%s: %s service %s, mix %s, %d connections, %s\n", r.Label, r.URL, r.Service, r.Mix, r.Connections, loop)
	if r.Preloaded > 0 {
		fmt.Fprintf(w, "created %d scheduled callbacks before the run in %.1fs (%.0f/s)\n", r.Preloaded, r.PreloadSeconds, div(float64(r.Preloaded), r.PreloadSeconds))
	}
	fmt.Fprintf(w, "%d requests in %.2fs: %.0f req/s, %d failed\n", r.All.Requests, r.Elapsed, r.All.PerSec, r.All.Failed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\trequests\tok\tfailed\treq/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	for _, s := range append(r.Ops, r.All) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			s.Op, s.Requests, s.OK, s.Failed, s.PerSec, s.P50, s.P90, s.P99, s.P999, s.Max)
	}
	_ = tw.Flush()
	if r.NotSent > 0 {
		fmt.Fprintf(w, "not sent: %d requests due within the run (the service fell behind the target rate)\n", r.NotSent)
	}
	if r.Fallbacks > 0 {
		fmt.Fprintf(w, "%d reschedules/cancels were sent as scheduled starts: no callback of the run was left to work on\n", r.Fallbacks)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, e := range r.Errors {
			what := strings.TrimSpace(fmt.Sprintf("%d %d %s", e.Status, e.Code, e.Phrase))
			if e.Status == 0 {
				what = "no answer: " + e.Transport
			} else if e.Code == 0 {
				what = fmt.Sprintf("%d %s", e.Status, e.Transport)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", e.Op, what, e.Count)
		}
		_ = tw.Flush()
	}
}
