package loadgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Op is one kind of request the load tool sends.
type Op int

// The operations, in report order. Their names are what -mix takes.
const (
	OpStart      Op = iota // Start-Callback, scheduled (a desired time 1 h to 7 days ahead)
	OpStartNow             // Start-Callback, immediate (no desired time: QUEUED)
	OpQuery                // Query-Callback by the customer number of a callback of the run
	OpAvail1               // Query-Availability v1
	OpAvail2               // Query-Availability v2 with report-busy
	OpReschedule           // PUT _new_desired_time on a scheduled callback of the run
	OpCancel               // DELETE a scheduled callback of the run
	numOps
)

var opNames = [numOps]string{"start", "start-now", "query", "avail1", "avail2", "reschedule", "cancel"}

// String is the name -mix and the report use.
func (o Op) String() string {
	if o < 0 || o >= numOps {
		return "op(" + strconv.Itoa(int(o)) + ")"
	}
	return opNames[o]
}

// needsCallback reports whether the op works on a callback the run
// created: the run keeps a pool of them.
func (o Op) needsCallback() bool { return o == OpQuery || o == OpReschedule || o == OpCancel }

// Mix is the weight of each op; only the ratios matter.
type Mix [numOps]int

// ParseMix reads "start=70,query=10,avail2=5,reschedule=10,cancel=5".
// Every name must be known, every weight a non-negative integer, each
// name given once, and at least one weight positive.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := [numOps]bool{}
	if strings.TrimSpace(s) == "" {
		return m, fmt.Errorf("mix is empty: give op=weight pairs, e.g. start=70,query=30 (ops: %s)", strings.Join(opNames[:], ", "))
	}
	total := 0
	for _, part := range strings.Split(s, ",") {
		name, weight, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return m, fmt.Errorf("mix entry %q: want op=weight, e.g. start=70", part)
		}
		op, known := opByName(strings.TrimSpace(name))
		if !known {
			return m, fmt.Errorf("mix entry %q: unknown op %q (ops: %s)", part, name, strings.Join(opNames[:], ", "))
		}
		if seen[op] {
			return m, fmt.Errorf("mix entry %q: op %s given twice", part, op)
		}
		seen[op] = true
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || w < 0 {
			return m, fmt.Errorf("mix entry %q: weight %q is not a non-negative integer", part, weight)
		}
		if w > 1_000_000 {
			return m, fmt.Errorf("mix entry %q: weight above 1000000; only ratios matter", part)
		}
		m[op] = w
		total += w
	}
	if total == 0 {
		return m, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

func opByName(name string) (Op, bool) {
	for i, n := range opNames {
		if n == name {
			return Op(i), true
		}
	}
	return 0, false
}

// String writes the mix back in -mix syntax (ops with weight 0 left out).
func (m Mix) String() string {
	var parts []string
	for op, w := range m {
		if w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", Op(op), w))
		}
	}
	return strings.Join(parts, ",")
}

// usesPool reports whether any op of the mix works on the run's callbacks.
func (m Mix) usesPool() bool {
	for op, w := range m {
		if w > 0 && Op(op).needsCallback() {
			return true
		}
	}
	return false
}

// cycle lays the ops out as one round of the smooth weighted round-robin
// (as nginx balances upstreams): each op appears exactly its weight times
// per round, spread evenly, so request i runs cycle[i % len(cycle)] and a
// run of whole rounds has exactly the mix's counts. Random choice would
// drift on short runs and make the end-to-end test's counts a guess.
// Weights are divided by their greatest common divisor first, so that
// start=70,query=30 is a round of 10.
func (m Mix) cycle() []Op {
	g := 0
	for _, w := range m {
		g = gcd(g, w)
	}
	total := 0
	for op := range m {
		m[op] /= g
		total += m[op]
	}
	out := make([]Op, 0, total)
	var current [numOps]int
	for range total {
		best := -1
		for op, w := range m {
			if w == 0 {
				continue
			}
			current[op] += w
			if best < 0 || current[op] > current[best] {
				best = op
			}
		}
		current[best] -= total
		out = append(out, Op(best))
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
