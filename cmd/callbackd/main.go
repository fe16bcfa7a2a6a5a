// Command callbackd runs the callback service.
//
//	callbackd serve        [-config FILE] [-listen HOST:PORT] [-store URL]
//	callbackd check-config [-config FILE]
//	callbackd backup       [-config FILE] [-store URL] FILE
//	callbackd bench        [-url URL] [-mix op=w,...] [-c N] [-rate R] [-d DUR] [-n N] [-baseline URL] [-json] ...
//	callbackd baseline     [-listen HOST:PORT]
//
// main only parses flags, handles signals and calls package server (and
// package loadgen for bench and baseline).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/inifile"
	"github.com/callbackd/callbackd/server"
)

const defaultConfig = "examples/callbackd.ini"

// localClock is the machine's clock. On PostgreSQL, callbackd follows the
// database's clock on top of it; the process tests skew it to play a node
// whose NTP is broken.
var localClock callbackd.Clock = callbackd.SystemClock{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  callbackd serve        [-config FILE] [-listen HOST:PORT] [-store URL]
  callbackd check-config [-config FILE]
  callbackd backup       [-config FILE] [-store URL] FILE
  callbackd bench        [-url URL] [-service NAME] [-mix op=w,...] [-c N] [-rate R] [-d DUR] [-n N]
                         [-baseline URL] [-preload N [-preload-store URL -config FILE]] [-json]
  callbackd baseline     [-listen HOST:PORT] [-base-path /genesys]
run "callbackd bench -h" for every bench flag`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check-config":
		return checkConfig(args[1:], stdout, stderr)
	case "backup":
		return backup(args[1:], stdout, stderr)
	case "bench":
		return bench(args[1:], stdout, stderr)
	case "baseline":
		return baseline(args[1:], stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "callbackd: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func configFlag(fs *flag.FlagSet) *string {
	def := defaultConfig
	if env := os.Getenv("CALLBACKD_CONFIG"); env != "" {
		def = env
	}
	return fs.String("config", def, "configuration file (INI); $CALLBACKD_CONFIG sets the default")
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := inifile.Load(*path)
	if err != nil {
		var errs callbackd.ConfigErrors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e.Error())
			}
			fmt.Fprintf(stderr, "%s: %d error(s)\n", *path, len(errs))
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%d services)\n", *path, len(cfg.Services))
	return 0
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	listen := fs.String("listen", "", "HOST:PORT to listen on (overrides [server] listen)")
	store := fs.String("store", "", "store URL, sqlite:PATH or postgres://... (overrides [storage] url)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.Open(ctx, server.Options{
		ConfigPath: *path, Listen: *listen, StoreURL: *store,
		LocalClock: localClock, LogOutput: stderr,
	})
	if err != nil {
		// The server and its logger do not exist: say it in text.
		slog.New(slog.NewTextHandler(stderr, nil)).Error("cannot start", "error", err)
		return 1
	}
	logger := srv.Logger()
	if err := srv.Start(); err != nil {
		logger.Error("cannot start", "error", err)
		_ = srv.Shutdown(context.Background())
		return 1
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			_ = srv.Reload()
		}
	}()
	go srv.WatchConfig(ctx, 2*time.Second)

	code := 0
	select {
	case <-ctx.Done():
	case err := <-srv.Fatal():
		// The node lost the built-in engine's lease: stop, and let the
		// supervisor start a fresh process (a follower).
		logger.Error("stopping after a fatal error", "error", err)
		code = 1
	}
	logger.Info("shutting down: no new connections, finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown", "error", err)
		return 1
	}
	return code
}

// gcPercent is the garbage collector's target when $GOGC is not set.
// callbackd's live heap is small (tens of MB with a million callbacks
// stored: they live in the database), and at Go's default of 100 the
// collector cost 8-12% of a Start-Callback's CPU under load; at 400 the
// load tool measured about 5% more Starts per second, for a few tens of
// MB more resident memory (BENCHMARKS.md).
const gcPercent = 400

// tuneGC sets gcPercent unless the operator chose with $GOGC (or bounded
// memory with $GOMEMLIMIT, which Go honours either way).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// backup copies the SQLite store of the configuration (or -store) to
// FILE while the service may be running.
func backup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	store := fs.String("store", "", "store URL, sqlite:PATH (overrides [storage] url)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: callbackd backup [-config FILE] [-store URL] FILE")
		return 2
	}
	dest := fs.Arg(0)
	url := *store
	if url == "" {
		cfg, err := inifile.Load(*path)
		if err != nil {
			fmt.Fprintf(stderr, "callbackd backup: %s: %v\n", *path, err)
			return 1
		}
		url = cfg.Storage.URL
	}
	started := time.Now()
	if err := server.Backup(context.Background(), url, dest); err != nil {
		fmt.Fprintf(stderr, "callbackd: %v\n", err)
		return 1
	}
	size := int64(0)
	if fi, err := os.Stat(dest); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backup: %s written (%d bytes, checked) in %v\n", dest, size, time.Since(started).Round(time.Millisecond))
	return 0
}
