package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// TestMain lets the test binary act as callbackd itself, so the process
// tests run the real command (signals, exit codes) without a go build.
//
// CALLBACKD_TEST_CLOCK_SKEW (a duration) makes the child's machine clock
// that far off, to play a node whose NTP is broken.
func TestMain(m *testing.M) {
	if os.Getenv("CALLBACKD_TEST_CHILD") == "1" {
		if v := os.Getenv("CALLBACKD_TEST_CLOCK_SKEW"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				fmt.Fprintln(os.Stderr, "CALLBACKD_TEST_CLOCK_SKEW:", err)
				os.Exit(2)
			}
			localClock = skewedClock(d)
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// skewedClock is the machine's clock off by a fixed amount.
type skewedClock time.Duration

func (d skewedClock) Now() time.Time { return callbackd.SystemClock{}.Now().Add(time.Duration(d)) }

const testConfig = `
[server]
listen = 127.0.0.1:0
[service.cb]
_type = ors
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_request_by_time_bucket = 100000
_max_queued_callbacks_per_service = 100000
`

// child is a callbackd process started by a test.
type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	addr  string // host:port it listens on
	base  string
	lines chan string
	done  chan struct{}
}

// startChild runs "callbackd serve" and waits for its listening line.
func startChild(t *testing.T, cfgPath, dbPath string) *child {
	t.Helper()
	c, err := spawn(t, []string{"-config", cfgPath, "-store", "sqlite:" + dbPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spawn runs "callbackd serve args..." with extra environment variables
// and waits for its listening line. Unlike startChild, it may be called
// from any goroutine: it reports failures instead of ending the test.
func spawn(t *testing.T, args []string, env ...string) (*child, error) {
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(append(os.Environ(), "CALLBACKD_TEST_CHILD=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{t: t, cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		close(c.lines)
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	line, err := c.lineWith("callbackd listening")
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)
	if m == nil {
		return nil, fmt.Errorf("no address in %q", line)
	}
	c.addr = m[1]
	c.base = "http://" + m[1] + "/genesys/1/service/callback"
	return c, nil
}

// waitLine reads the child's log until a line contains s.
func (c *child) waitLine(s string) string {
	c.t.Helper()
	line, err := c.lineWith(s)
	if err != nil {
		c.t.Fatal(err)
	}
	return line
}

// lineWith reads the child's log until a line contains s, for 30 s.
func (c *child) lineWith(s string) (string, error) {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return "", fmt.Errorf("callbackd exited before logging %q", s)
			}
			if strings.Contains(line, s) {
				return line, nil
			}
		case <-timeout:
			return "", fmt.Errorf("callbackd did not log %q within 30s", s)
		}
	}
}

// post returns the status and the new id, or the body when not 200.
func (c *child) post(service, body string) (int, string, error) {
	res, err := http.Post(c.base+"/"+service, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, string(b), nil
	}
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m["_id"], nil
}

func (c *child) exists(id string) bool {
	c.t.Helper()
	rec := c.record(id)
	return rec != nil && rec["_id"] == id
}

func writeConfig(t *testing.T, text string) (cfg, db string) {
	t.Helper()
	dir := t.TempDir()
	cfg = filepath.Join(dir, "callbackd.ini")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "callbackd.db")
}

func TestCheckConfig(t *testing.T) {
	good, _ := writeConfig(t, testConfig)
	var out, errOut bytes.Buffer
	if code := run([]string{"check-config", "-config", good}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "OK (1 services)") {
		t.Fatalf("good config: exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
	bad, _ := writeConfig(t, "[service.a]\n_request_time_bucket = 7\n_ttl = -1\n")
	out.Reset()
	errOut.Reset()
	code := run([]string{"check-config", "-config", bad}, &out, &errOut)
	want := []string{
		`[service.a] _request_time_bucket = "7": must be one of 5, 10, 15, 20, 30, 60, 120`,
		`[service.a] _ttl = "-1": must be a non-negative integer (seconds)`,
		"2 error(s)",
	}
	for _, w := range want {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("check-config output lacks %q:\n%s", w, errOut.String())
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if code := run([]string{"check-config", "-config", filepath.Join(t.TempDir(), "missing.ini")}, &out, &errOut); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

func TestSIGHUPReloadsAndSIGTERMStopsInOrder(t *testing.T) {
	cfg, db := writeConfig(t, testConfig)
	c := startChild(t, cfg, db)
	if status, _, _ := c.post("later", `{"_customer_number":"5555550001"}`); status != 400 {
		t.Fatalf("unknown service answered %d", status)
	}
	if err := os.WriteFile(cfg, []byte(testConfig+"[service.later]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Process.Signal(syscall.SIGHUP)
	c.waitLine("configuration reloaded")
	status, id, err := c.post("later", `{"_customer_number":"5555550001"}`)
	if err != nil || status != 200 {
		t.Fatalf("after SIGHUP: %d %v", status, err)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	c.waitLine("shutting down")
	c.waitLine("callbackd stopped")
	<-c.done
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	c2 := startChild(t, cfg, db)
	if !c2.exists(id) {
		t.Fatalf("callback %s lost across a clean restart", id)
	}
}

// TestCrashLosesNothingAcknowledged kills callbackd with SIGKILL in the
// middle of a load, several times, and checks that every callback that was
// answered 200 is there after a restart.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	cfg, db := writeConfig(t, testConfig)
	var acked []string
	const rounds, perRound, workers = 3, 150, 8
	for round := 0; round < rounds; round++ {
		c := startChild(t, cfg, db)
		var mu sync.Mutex
		var wg sync.WaitGroup
		roundAcks := 0
		killed := make(chan struct{})
		var once sync.Once
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					status, id, err := c.post("cb", fmt.Sprintf(`{"_customer_number":"555%d%d%05d","round":"%d"}`, round, w, i, round))
					if err != nil {
						return // the process is gone: this request was never acknowledged
					}
					if status != 200 {
						t.Errorf("status %d under load: %s", status, id)
						return
					}
					mu.Lock()
					acked = append(acked, id)
					roundAcks++
					if roundAcks >= perRound {
						once.Do(func() { _ = c.cmd.Process.Signal(syscall.SIGKILL); close(killed) })
					}
					mu.Unlock()
				}
			}(w)
		}
		wg.Wait()
		select {
		case <-killed:
		default:
			t.Fatalf("round %d: the load stopped after %d acknowledgements, before the kill", round, roundAcks)
		}
		<-c.done
	}
	c := startChild(t, cfg, db)
	lost := 0
	for _, id := range acked {
		if !c.exists(id) {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged callbacks lost after %d SIGKILLs", lost, len(acked), rounds)
	}
	t.Logf("%d acknowledged callbacks, all present after %d SIGKILLs", len(acked), rounds)
}
