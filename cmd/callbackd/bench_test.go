package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"BadMix", []string{"bench", "-mix", "start=70,frob=30"}, `bench: -mix: mix entry "frob=30": unknown op "frob"`},
		{"PreloadStoreWithoutCount", []string{"bench", "-preload-store", "sqlite:x.db"}, "bench: -preload-store needs -preload N"},
		{"StrayArgument", []string{"bench", "now"}, `bench: unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(tc.args, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.want)
			}
		})
	}
}

// TestBenchPreloadsAStoreThenLoadsTheServer is the benchmark script's path:
// preload a store file through the importer with no server running, start
// callbackd on it, load it over HTTP, read the JSON report.
func TestBenchPreloadsAStoreThenLoadsTheServer(t *testing.T) {
	cfg, db := writeConfig(t, testConfig)
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "-preload", "50", "-preload-store", "sqlite:" + db, "-config", cfg, "-service", "cb", "-quiet"}, &out, &errOut); code != 0 {
		t.Fatalf("preload: exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "preloaded 50 callbacks into sqlite:"+db) {
		t.Errorf("preload said %q", out.String())
	}

	c := startChild(t, cfg, db)
	url := strings.TrimSuffix(c.base, "/1/service/callback")
	out.Reset()
	args := []string{"bench", "-url", url, "-service", "cb", "-mix", "start=1,query=1", "-n", "20", "-c", "2", "-pool", "5", "-json", "-quiet"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut.String())
	}
	var rep struct {
		Target struct {
			Preloaded int `json:"preloaded"`
			All       struct {
				Requests, OK int
				P99          float64 `json:"p99_ms"`
			} `json:"all"`
			Errors []any `json:"errors"`
		} `json:"target"`
		Baseline *struct{} `json:"baseline"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON (%v): %s", err, out.String())
	}
	if rep.Target.All.Requests != 20 || rep.Target.All.OK != 20 || len(rep.Target.Errors) != 0 || rep.Target.Preloaded != 5 || rep.Baseline != nil {
		t.Fatalf("report: %s", out.String())
	}

	// 50 preloaded + 5 for the pool + 10 measured starts, all held in the
	// week's buckets.
	res, err := http.Get(url + "/2/service/callback/cb/availability?number-of-days=7&report-busy=true&start=" + callbackd.FormatTime(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var avail struct {
		Slots []struct{ Capacity, Total int }
	}
	if err := json.NewDecoder(res.Body).Decode(&avail); err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, s := range avail.Slots {
		used += s.Total - s.Capacity
	}
	if used != 65 {
		t.Fatalf("%d callbacks hold the week's buckets, want 65", used)
	}
}

// TestBenchAgainstBaseline runs "callbackd baseline" as a process and
// measures it as both baseline and target: the report carries both runs
// and their ratio.
func TestBenchAgainstBaseline(t *testing.T) {
	cmd := exec.Command(os.Args[0], "baseline", "-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "CALLBACKD_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatal("baseline exited without a word")
	}
	m := regexp.MustCompile(`baseline listening addr=(\S+)`).FindStringSubmatch(sc.Text())
	if m == nil {
		t.Fatalf("baseline said %q", sc.Text())
	}
	url := "http://" + m[1] + "/genesys"
	var out, errOut bytes.Buffer
	args := []string{"bench", "-url", url, "-baseline", url, "-mix", "start=2,avail2=1,cancel=1", "-n", "40", "-c", "2", "-pool", "5", "-json", "-quiet"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("bench: exit %d: %s", code, errOut.String())
	}
	var rep struct {
		Target, Baseline struct {
			Label string
			All   struct{ Requests, OK int }
		}
		Ratio *struct{ Throughput float64 }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Target.Label != "callbackd" || rep.Baseline.Label != "baseline" || rep.Target.All.OK != 40 || rep.Baseline.All.OK != 40 || rep.Ratio == nil || rep.Ratio.Throughput <= 0 {
		t.Fatalf("report: %s", out.String())
	}
}
