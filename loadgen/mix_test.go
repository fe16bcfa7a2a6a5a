package loadgen

import (
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" start=70, query=10,avail2=5,reschedule=10,cancel=5 ")
	if err != nil {
		t.Fatal(err)
	}
	want := Mix{OpStart: 70, OpQuery: 10, OpAvail2: 5, OpReschedule: 10, OpCancel: 5}
	if m != want {
		t.Fatalf("ParseMix = %v, want %v", m, want)
	}
	if got := m.String(); got != "start=70,query=10,avail2=5,reschedule=10,cancel=5" {
		t.Errorf("String() = %q", got)
	}
	if !m.usesPool() {
		t.Error("a mix with reschedule and cancel must use the pool")
	}
	if m, _ := ParseMix("start=1,start-now=1,avail1=0"); m.usesPool() {
		t.Error("starts and availability need no callbacks of the run")
	}
}

func TestParseMixRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ name, mix, want string }{
		{"Empty", "", "mix is empty"},
		{"NoWeight", "start", `mix entry "start": want op=weight`},
		{"UnknownOp", "start=1,delete=2", `unknown op "delete" (ops: start, start-now, query, avail1, avail2, reschedule, cancel)`},
		{"NotANumber", "start=seventy", `weight "seventy" is not a non-negative integer`},
		{"Negative", "start=-1", `weight "-1" is not a non-negative integer`},
		{"Fraction", "start=0.5", `weight "0.5" is not a non-negative integer`},
		{"Twice", "start=1,query=1,start=2", "op start given twice"},
		{"AllZero", "start=0,query=0", "every weight is 0"},
		{"TrailingComma", "start=1,", `mix entry "": want op=weight`},
		{"Huge", "start=2000000", "weight above 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMix(tc.mix)
			if err == nil {
				t.Fatalf("ParseMix(%q) accepted", tc.mix)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseMix(%q) = %q, want it to say %q", tc.mix, err, tc.want)
			}
		})
	}
}

func TestCycleHasExactCountsSpreadEvenly(t *testing.T) {
	m, _ := ParseMix("start=70,query=10,avail2=5,reschedule=10,cancel=5")
	c := m.cycle()
	if len(c) != 20 { // weights divided by their gcd, 5
		t.Fatalf("cycle of %d ops, want 20: %v", len(c), c)
	}
	counts := map[Op]int{}
	for _, op := range c {
		counts[op]++
	}
	want := map[Op]int{OpStart: 14, OpQuery: 2, OpAvail2: 1, OpReschedule: 2, OpCancel: 1}
	for op, n := range want {
		if counts[op] != n {
			t.Errorf("%s appears %d times per cycle, want %d", op, counts[op], n)
		}
	}
	// Spread, not bunched: two ops of equal weight alternate.
	m, _ = ParseMix("start=3,cancel=3")
	if got := m.cycle(); len(got) != 2 || got[0] == got[1] {
		t.Errorf("start=3,cancel=3 cycle = %v, want one of each", got)
	}
	m, _ = ParseMix("start=3,cancel=1")
	if got := m.cycle(); got[0] != OpStart || got[len(got)-1] == got[len(got)-2] && got[len(got)-1] == OpCancel {
		t.Errorf("start=3,cancel=1 cycle = %v", got)
	}
}
