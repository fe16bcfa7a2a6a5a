package callbackd_test

import "testing"

// TestFingerprint: nodes compare fingerprints to find a deployment whose
// nodes behave differently, so layout and per-node sections must not
// count, and every option that changes behaviour must.
func TestFingerprint(t *testing.T) {
	const base = "[callback]\nstatic-ewt = 0\n[service.cb]\n_ttl = 600\n_request_time_bucket = 15\n"
	fp := func(text string) string {
		t.Helper()
		cfg, err := load(t, text)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Fingerprint) != 12 {
			t.Fatalf("fingerprint %q, want 12 hex digits", cfg.Fingerprint)
		}
		return cfg.Fingerprint
	}
	want := fp(base)
	same := map[string]string{
		"Reordered":       "[service.cb]\n_request_time_bucket = 15\n_ttl = 600\n[callback]\nstatic-ewt = 0\n",
		"Comments":        "; node a\n" + base + "# end\n",
		"Spacing":         "[callback]\nstatic-ewt=0\n\n[service.cb]\n_ttl   =   600\n_request_time_bucket = 15\n",
		"OwnListen":       "[server]\nlisten = 10.0.0.7:8080\npublic_url = http://10.0.0.7:8080\n" + base,
		"OwnStorage":      "[storage]\nurl = postgres://node2@db/callbackd\n" + base,
		"OwnDispatcher":   "[dispatcher]\nworkers = 4\nmax_per_second = 50\n" + base,
		"EverythingLocal": "[server]\nlisten = :1\n[storage]\nurl = sqlite:x.db\n[dispatcher]\nlease = 90\n" + base,
	}
	for name, text := range same {
		if got := fp(text); got != want {
			t.Errorf("%s: fingerprint %s, want %s", name, got, want)
		}
	}
	differ := map[string]string{
		"OptionValue":   "[callback]\nstatic-ewt = 0\n[service.cb]\n_ttl = 601\n_request_time_bucket = 15\n",
		"NewService":    base + "[service.more]\n",
		"NewOption":     base + "_enable_in_queue_checking = false\n",
		"AppLevel":      "[callback]\nstatic-ewt = 5\n[service.cb]\n_ttl = 600\n_request_time_bucket = 15\n",
		"ExecutorToken": "[executor]\ntoken = s3cret\n" + base,
		"Agent":         base + "[agent.a]\nqueues = cb\nphone = +33123456789\n",
		"Agents":        base + "[agents]\nheartbeat = 30\n",
		"Dialer":        base + "[dialer]\n",
	}
	for name, text := range differ {
		if got := fp(text); got == want {
			t.Errorf("%s: fingerprint unchanged (%s)", name, got)
		}
	}

	// In [dialer] the first matching outcome rule wins: the rules' order
	// counts, the place of the other options does not.
	want = fp(base + "[dialer]\ntype = simulated\nring_seconds = 1\noutcome.busy = ^\\+1\noutcome.human = .\n")
	if got := fp(base + "[dialer]\noutcome.busy = ^\\+1\nring_seconds = 1\noutcome.human = .\ntype = simulated\n"); got != want {
		t.Errorf("DialerOptionsMoved: fingerprint %s, want %s", got, want)
	}
	if got := fp(base + "[dialer]\ntype = simulated\nring_seconds = 1\noutcome.human = .\noutcome.busy = ^\\+1\n"); got == want {
		t.Errorf("DialerRulesSwapped: fingerprint unchanged (%s)", got)
	}
}
