package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/loadgen"
	"github.com/callbackd/callbackd/server"
)

// bench is "callbackd bench": it loads a running callbackd over HTTP (and
// first a baseline, with -baseline), or with -preload-store fills a store
// before any server runs on it. The work is in package loadgen.
func bench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.Options
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080/genesys", "callbackd's base URL, base path included")
	fs.StringVar(&o.Service, "service", "bench", "callback service the requests address")
	mix := fs.String("mix", "start=100", "op=weight,...; ops: start (scheduled), start-now (immediate), query, avail1, avail2, reschedule, cancel")
	fs.IntVar(&o.Connections, "c", 16, "connections (requests in flight at most)")
	fs.Float64Var(&o.Rate, "rate", 0, "target requests/s, open loop (latency counted from when each request was due); 0: as fast as possible")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration (0: only -n ends the run)")
	fs.IntVar(&o.Requests, "n", 0, "requests (0: only -d ends the run)")
	fs.IntVar(&o.AvailDays, "avail-days", 1, "number-of-days of availability queries (1-7)")
	fs.IntVar(&o.Pool, "pool", 1000, "scheduled callbacks created before the clock starts when the mix queries, reschedules or cancels")
	fs.IntVar(&o.Preload, "preload", 0, "scheduled callbacks to create before the run: over HTTP, or with -preload-store straight into a store")
	preloadStore := fs.String("preload-store", "", "store URL to preload (sqlite:PATH) with no server running on it; then exit")
	config := configFlag(fs)
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "per-request timeout")
	baselineURL := fs.String("baseline", "", "base URL of a running `callbackd baseline`: the same load runs against it first, and the report gives the ratios")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -mix: %v\n", err)
		return 2
	}
	o.Mix = m
	if !*quiet {
		o.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *preloadStore != "" {
		return preloadIntoStore(ctx, *config, *preloadStore, o, stdout, stderr)
	}
	var base *loadgen.Result
	if *baselineURL != "" {
		bo := o
		bo.URL, bo.Label, bo.Preload = *baselineURL, "baseline", 0
		if base, err = loadgen.Run(ctx, bo); err != nil {
			fmt.Fprintf(stderr, "bench: baseline: %v\n", err)
			return 1
		}
	}
	o.Label = "callbackd"
	res, err := loadgen.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	report := loadgen.NewReport(res, base)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	report.WriteText(stdout)
	return 0
}

// preloadIntoStore opens the store as callbackd would (configuration,
// migrations), imports the callbacks and closes it.
func preloadIntoStore(ctx context.Context, config, store string, o loadgen.Options, stdout, stderr io.Writer) int {
	if o.Preload <= 0 {
		fmt.Fprintln(stderr, "bench: -preload-store needs -preload N")
		return 2
	}
	srv, err := server.Open(ctx, server.Options{
		ConfigPath: config, StoreURL: store, Clock: callbackd.SystemClock{},
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	started := time.Now()
	err = loadgen.PreloadImport(ctx, srv.Manager(), o.Service, o.Preload, callbackd.SystemClock{}, nil, o.Progress)
	if cerr := srv.Shutdown(context.Background()); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: preload: %v\n", err)
		return 1
	}
	took := time.Since(started)
	fmt.Fprintf(stdout, "preloaded %d callbacks into %s in %.1fs (%.0f/s)\n", o.Preload, store, took.Seconds(), float64(o.Preload)/took.Seconds())
	return 0
}

// baseline is "callbackd baseline": the plain net/http handler the load
// is compared with (see loadgen.Baseline), until SIGINT/SIGTERM.
func baseline(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "HOST:PORT to listen on")
	basePath := fs.String("base-path", "/genesys", "base path of the routes, as [server] base_path")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: loadgen.Baseline(*basePath, callbackd.SystemClock{}), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "baseline listening addr=%s base_path=%s\n", ln.Addr(), *basePath)
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "baseline: %v\n", err)
		return 1
	}
	return 0
}
