// Command benchmarks runs callbackd's load benchmarks in one go and prints
// the results as Markdown (BENCHMARKS.md quotes them):
//
//	go run ./scripts/benchmarks                   # throughput: baseline, SQLite, PostgreSQL (~3 min)
//	go run ./scripts/benchmarks -scale            # and the 1,000,000-callback measurements on SQLite (~2 more min)
//	go run ./scripts/benchmarks -scale-postgres   # the same on PostgreSQL, preloaded over HTTP (~3 more min)
//	go run ./scripts/benchmarks -load=false -scale  # only the scale part
//
// It builds callbackd, starts `callbackd baseline` once, then for each
// store starts `callbackd serve -config examples/bench.ini` and runs every
// workload with `callbackd bench -baseline ...`: the baseline and the
// store are measured back to back under the same load, and the ratio of
// the two is what to compare on a shared, noisy machine. Every command is
// printed on stderr as it runs; the Markdown goes to stdout.
//
// PostgreSQL runs on -postgres (default 127.0.0.1:5432, database test) in
// a schema of its own, callbackd_bench, dropped before and after; without
// a server there, its rows are skipped with a note.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd/loadgen"
)

const (
	config   = "examples/bench.ini"
	pgSchema = "callbackd_bench"
)

// store is a store URL and its name in the tables.
type store struct{ name, url string }

// workload is one line of the throughput table.
type workload struct {
	name string
	mix  string
	// conns and requests replace -c and -d when set.
	conns, requests int
	// rate is the open-loop target per store (none: closed loop). Such a
	// run gets 4× the connections, so that at a few milliseconds per
	// request the connections are not what holds the rate back.
	rate  map[string]float64
	extra []string
}

var workloads = []workload{
	{name: "Start scheduled, as fast as possible", mix: "start=100"},
	{name: "Mixed (issue 8)", mix: "start=70,query=10,avail2=5,reschedule=10,cancel=5"},
	{name: "Start scheduled at the target rate", mix: "start=100", rate: map[string]float64{"SQLite": 15000, "PostgreSQL": 10000}},
	{name: "Availability v2, a week of 5-minute buckets, 1 connection, 1,000 requests", mix: "avail2=1", conns: 1, requests: 1000, extra: []string{"-avail-days", "7"}},
}

// args are the bench flags of a workload on a store, and its label.
func (w workload) args(store string, conns int, d time.Duration) (string, []string) {
	label := w.name
	if w.conns > 0 {
		conns = w.conns
	}
	if r := w.rate[store]; r > 0 {
		conns *= 4
		w.extra = append(w.extra, "-rate", strconv.FormatFloat(r, 'f', 0, 64))
		label = fmt.Sprintf("%s (%.0f/s open loop, %d connections)", w.name, r, conns)
	}
	end := []string{"-d", d.String()}
	if w.requests > 0 {
		end = []string{"-n", strconv.Itoa(w.requests), "-d", "0"}
	}
	args := append([]string{"-mix", w.mix, "-c", strconv.Itoa(conns)}, end...)
	return label, append(args, w.extra...)
}

func main() {
	d := flag.Duration("d", 10*time.Second, "duration of each run (baseline and callbackd each)")
	conns := flag.Int("c", 64, "connections")
	pgURL := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server (a schema "+pgSchema+" is created there and dropped)")
	load := flag.Bool("load", true, "run the throughput table (-load=false: only the scale parts)")
	scale := flag.Bool("scale", false, "also preload 1,000,000 callbacks into SQLite and measure RSS, restart-to-ready and availability")
	scalePG := flag.Bool("scale-postgres", false, "the same on PostgreSQL, preloaded over HTTP (as fast as its Start throughput: about 2 minutes at 8,500/s)")
	scaleN := flag.Int("scale-n", 1_000_000, "callbacks to preload for -scale")
	flag.Parse()
	if _, err := os.Stat("go.mod"); err != nil {
		fail("run from the repository root: %v", err)
	}
	dir, err := os.MkdirTemp("", "callbackd-benchmarks-")
	if err != nil {
		fail("%v", err)
	}
	atExit(func() { os.RemoveAll(dir) })
	defer runCleanups()
	bin := filepath.Join(dir, "callbackd")
	logCommand([]string{"go", "build", "-o", bin, "./cmd/callbackd"})
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/callbackd").CombinedOutput(); err != nil {
		fail("build: %v\n%s", err, out)
	}

	fmt.Printf("Run of %s on %s: %d CPUs, %s, load average %s before the run.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), runtime.Version(), loadAverage())

	base, err := start(bin, "baseline", "-listen", "127.0.0.1:0")
	if err != nil {
		fail("baseline: %v", err)
	}
	atExit(base.stop)

	stores := []store{{"SQLite", "sqlite:" + filepath.Join(dir, "bench.db")}}
	pg := withSearchPath(*pgURL, pgSchema)
	if err := resetSchema(*pgURL, true); err != nil {
		fmt.Fprintf(os.Stderr, "PostgreSQL skipped: %v\n", err)
		fmt.Printf("PostgreSQL skipped: %v\n\n", err)
	} else {
		atExit(func() { _ = resetSchema(*pgURL, false) })
		stores = append(stores, store{"PostgreSQL", pg})
	}

	if *load {
		throughput(bin, base.url, stores, *conns, *d)
	}
	if *scale {
		scaleRun(bin, "SQLite", "sqlite:"+filepath.Join(dir, "scale.db"), filepath.Join(dir, "scale.db"), *scaleN)
	}
	if *scalePG {
		if err := resetSchema(*pgURL, true); err != nil {
			fail("%v", err)
		}
		atExit(func() { _ = resetSchema(*pgURL, false) })
		scaleRun(bin, "PostgreSQL", pg, "", *scaleN)
	}
}

// throughput measures every workload on every store against the
// baseline and prints the table.
func throughput(bin, baseURL string, stores []store, conns int, d time.Duration) {
	fmt.Printf("Each run: %d connections and %v unless the workload says otherwise, against the baseline, then the same against callbackd (`examples/bench.ini`).\n\n", conns, d)
	fmt.Println("| store | workload | callbackd req/s | baseline req/s | ratio | p50 ms | p99 ms | p99.9 ms | baseline p99 ms | failed | not sent |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, st := range stores {
		srv, err := start(bin, "serve", "-config", config, "-listen", "127.0.0.1:0", "-store", st.url)
		if err != nil {
			fail("%s: %v", st.name, err)
		}
		atExit(srv.stop)
		for _, w := range workloads {
			label, args := w.args(st.name, conns, d)
			rep, err := bench(bin, append([]string{"bench", "-url", srv.url, "-baseline", baseURL, "-json"}, args...)...)
			if err != nil {
				fail("%s, %s: %v", st.name, w.name, err)
			}
			t, b := rep.Target, rep.Baseline
			fmt.Printf("| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d |\n",
				st.name, label, t.All.PerSec, b.All.PerSec, rep.Ratio.Throughput, t.All.P50, t.All.P99, t.All.P999, b.All.P99, t.All.Failed, t.NotSent)
		}
		srv.stop()
	}
	fmt.Println()
}

// bench runs `callbackd bench ... -json` (progress passes through to
// stderr) and reads its report.
func bench(bin string, args ...string) (*loadgen.Report, error) {
	logCommand(append([]string{"callbackd"}, args...))
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("report: %v", err)
	}
	return &rep, nil
}

// scaleRun preloads n callbacks into a new store, then measures
// start-to-ready, RSS, a week of availability and the mixed load on the
// full store. SQLite is preloaded through the importer (25,000 per
// transaction, before the server starts: 24 s for a million, against
// about 2 minutes over HTTP). PostgreSQL has no importer yet, so it is
// preloaded over HTTP with 64 connections (-scale-postgres), at its Start
// throughput.
func scaleRun(bin, name, store, file string, n int) {
	began := time.Now()
	addr, err := freeAddr()
	if err != nil {
		fail("%v", err)
	}
	how := "through the importer"
	var srv *proc
	if file != "" {
		logCommand([]string{"callbackd", "bench", "-preload", strconv.Itoa(n), "-preload-store", store, "-config", config})
		cmd := exec.Command(bin, "bench", "-preload", strconv.Itoa(n), "-preload-store", store, "-config", config)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fail("preload: %v", err)
		}
	} else {
		how = "over HTTP, 64 connections"
		if srv, _, err = startTimed(bin, addr, "serve", "-config", config, "-store", store); err != nil {
			fail("%s: %v", name, err)
		}
		atExit(srv.stop)
		if _, err := bench(bin, "bench", "-url", srv.url, "-preload", strconv.Itoa(n), "-c", "64", "-d", "0", "-json"); err != nil {
			fail("preload: %v", err)
		}
	}
	preload := time.Since(began)

	var readies []time.Duration
	for i := range 3 { // a start after the preload, then two restarts
		if srv != nil {
			srv.stop()
		}
		var ready time.Duration
		if srv, ready, err = startTimed(bin, addr, "serve", "-config", config, "-store", store); err != nil {
			fail("%s: %v", name, err)
		}
		atExit(srv.stop)
		readies = append(readies, ready)
		fmt.Fprintf(os.Stderr, "start %d: answered after %v\n", i+1, ready)
	}
	rssReady, _, _ := srv.rss()
	avail, err := bench(bin, "bench", "-url", srv.url, "-mix", "avail2=1", "-avail-days", "7", "-c", "1", "-n", "1000", "-d", "0", "-json")
	if err != nil {
		fail("availability: %v", err)
	}
	mixed, err := bench(bin, "bench", "-url", srv.url, "-mix", "start=70,query=10,avail2=5,reschedule=10,cancel=5", "-c", "64", "-d", "10s", "-json")
	if err != nil {
		fail("mixed load at scale: %v", err)
	}
	rssAfter, peak, _ := srv.rss()
	srv.stop()
	slices.Sort(readies)

	size := ""
	if fi, err := os.Stat(file); file != "" && err == nil {
		size = fmt.Sprintf(", file %.0f MiB", float64(fi.Size())/(1<<20))
	}
	fmt.Printf("Scale, %s with %d callbacks scheduled over a week (preloaded %s in %.0f s%s):\n\n", name, n, how, preload.Seconds(), size)
	fmt.Println("| measurement | result | target |")
	fmt.Println("| --- | ---: | ---: |")
	fmt.Printf("| restart to ready (exec until the first answer), median of 3 | %.0f ms (%.0f-%.0f) | < 2 s |\n", ms(readies[1]), ms(readies[0]), ms(readies[2]))
	fmt.Printf("| RSS once ready | %.0f MiB | < 300 MB |\n", rssReady)
	fmt.Printf("| RSS after 1,000 week queries and 10 s of mixed load (peak) | %.0f MiB (%.0f) | < 300 MB |\n", rssAfter, peak)
	a := avail.Target.All
	fmt.Printf("| availability v2, 7 days of 5-minute buckets, 1 connection: median | %.2f ms (p99 %.2f, %d failed) | < 2 ms |\n", a.P50, a.P99, a.Failed)
	m := mixed.Target
	fmt.Printf("| mixed load (issue 8) on the full store, %d connections, 10 s | %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d failed | |\n", m.Connections, m.All.PerSec, m.All.P50, m.All.P99, m.All.Failed)
	for _, op := range m.Ops {
		fmt.Printf("| &nbsp;&nbsp;%s | %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d failed | |\n", op.Op, op.PerSec, op.P50, op.P99, op.Failed)
	}
	fmt.Println()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// resetSchema drops the benchmark schema and, with create, makes it anew.
func resetSchema(url string, create bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("no PostgreSQL at %s: %w", url, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgSchema+" CASCADE"); err != nil {
		return err
	}
	if create {
		_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgSchema)
	}
	return err
}

func withSearchPath(url, schema string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cleanups stop what the script started, last first, on success and on
// failure alike (fail exits without running defers).
var cleanups []func()

func atExit(f func()) { cleanups = append(cleanups, f) }

func runCleanups() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchmarks: "+format+"\n", args...)
	runCleanups()
	os.Exit(1)
}
