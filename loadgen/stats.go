package loadgen

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Latency percentiles are computed from every sample, sorted: exact, not
// estimated, and no averages (an average hides the tail a client sees).
// A sample is 8 bytes, so a million requests cost 8 MB: cheap next to
// the run, and exact numbers make the tool's own tests exact.

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// ascending samples: the smallest sample that at least p% of the samples
// are less than or equal to. It returns 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps float error from pushing an exact rank up one:
	// 99.9/100*1000 is 999.0000000000001.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// latency summarises a set of samples.
type latency struct {
	P50, P90, P99, P999, Max time.Duration
}

// summarise sorts samples in place and reads their percentiles.
func summarise(samples []time.Duration) latency {
	slices.Sort(samples)
	l := latency{
		P50: percentile(samples, 50), P90: percentile(samples, 90),
		P99: percentile(samples, 99), P999: percentile(samples, 99.9),
	}
	if len(samples) > 0 {
		l.Max = samples[len(samples)-1]
	}
	return l
}

// ErrorKey says what went wrong with a request, as a client sees it: the
// HTTP status and the spec's error code and phrase from the JSON body, or,
// when no answer came, Status 0 and the transport's failure.
type ErrorKey struct {
	Op        string `json:"op"`
	Status    int    `json:"status"`
	Code      int    `json:"code,omitempty"`
	Phrase    string `json:"phrase,omitempty"`
	Transport string `json:"transport,omitempty"`
}

// ErrorCount is how many requests failed one way.
type ErrorCount struct {
	ErrorKey
	Count int `json:"count"`
}

// tally counts what one worker saw; workers merge theirs at the end, so
// the hot path takes no lock.
type tally struct {
	samples [numOps][]time.Duration
	ok      [numOps]int
	errors  map[ErrorKey]int
}

func newTally() *tally { return &tally{errors: map[ErrorKey]int{}} }

func (t *tally) record(op Op, latency time.Duration, fail *ErrorKey) {
	t.samples[op] = append(t.samples[op], latency)
	if fail == nil {
		t.ok[op]++
		return
	}
	fail.Op = op.String()
	t.errors[*fail]++
}

func (t *tally) merge(o *tally) {
	for op := range numOps {
		t.samples[op] = append(t.samples[op], o.samples[op]...)
		t.ok[op] += o.ok[op]
	}
	for k, n := range o.errors {
		t.errors[k] += n
	}
}

// errorCounts lists the errors, most frequent first, then by op, status
// and code, so two reports of the same run read the same.
func (t *tally) errorCounts() []ErrorCount {
	out := make([]ErrorCount, 0, len(t.errors))
	for k, n := range t.errors {
		out = append(out, ErrorCount{k, n})
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Op, b.Op), cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.Code, b.Code), cmp.Compare(a.Transport, b.Transport), cmp.Compare(a.Phrase, b.Phrase))
	})
	return out
}
