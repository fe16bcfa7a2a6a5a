package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a callbackd (or baseline) process the script started.
type proc struct {
	cmd   *exec.Cmd
	url   string // base URL, base path included
	lines chan string
	done  chan struct{}
}

var listening = regexp.MustCompile(`listening.* addr=(\S+)`)

// start runs bin with args, waits until it logs its listening address,
// and returns it with its base URL.
func start(bin string, args ...string) (*proc, error) {
	logCommand(append([]string{"callbackd"}, args...))
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 100), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody listens after startup; drop
			}
		}
		close(p.lines)
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return nil, fmt.Errorf("%s exited before listening", strings.Join(args, " "))
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				p.url = "http://" + m[1] + "/genesys"
				return p, nil
			}
		case <-timeout:
			p.kill()
			return nil, fmt.Errorf("%s did not listen within 5 minutes", strings.Join(args, " "))
		}
	}
}

// stop sends SIGTERM and waits for the ordered shutdown.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.kill()
	}
}

func (p *proc) kill() { _ = p.cmd.Process.Kill(); <-p.done }

// rss reads the process's resident set (VmRSS) and its peak (VmHWM), in MiB.
func (p *proc) rss() (cur, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return cur, peak, nil
}

// freeAddr finds a port nobody listens on, so that a restarted server can
// be polled before it says where it listens.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startTimed starts callbackd serve on addr and returns the process and the
// time from exec until it answered a request (GET availability: the store
// is open, migrated and its counters loaded).
func startTimed(bin, addr string, args ...string) (*proc, time.Duration, error) {
	args = append(args, "-listen", addr)
	logCommand(append([]string{"callbackd"}, args...))
	probe := "http://" + addr + "/genesys/1/service/callback/bench/availability"
	client := &http.Client{Timeout: time.Second}
	began := time.Now()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	p := &proc{cmd: cmd, url: "http://" + addr + "/genesys", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		select {
		case <-p.done:
			return nil, 0, fmt.Errorf("callbackd exited before answering")
		default:
		}
		res, err := client.Get(probe)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, time.Since(began), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	p.kill()
	return nil, 0, fmt.Errorf("callbackd did not answer within 5 minutes")
}

// logCommand prints a command as one could paste it (the binary as
// "callbackd"), so BENCHMARKS.md can quote what ran.
func logCommand(args []string) {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if strings.ContainsFunc(a, func(r rune) bool { return !safeInShell(r) }) {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	fmt.Fprintf(os.Stderr, "$ %s\n", strings.Join(quoted, " "))
}

func safeInShell(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r)
}
