package server_test

import (
	"os"
	"strings"
	"testing"
)

func TestReloadOnFileChange(t *testing.T) {
	h := newHarness(t, baseConfig)
	h.json("POST", "/1/service/callback/fresh", map[string]any{"_customer_number": num()}).
		wantError(t, 400, 40010, "BAD_PARAMETER", "Service undefined: fresh")

	if changed, err := h.srv.CheckConfigFile(); changed || err != nil {
		t.Fatalf("unchanged file: changed=%v err=%v", changed, err)
	}
	if err := os.WriteFile(h.cfgPath, []byte(baseConfig+"\n[service.fresh]\n_ttl = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, err := h.srv.CheckConfigFile(); !changed || err != nil {
		t.Fatalf("changed file: changed=%v err=%v", changed, err)
	}
	h.start("fresh", map[string]any{"_customer_number": num()})
}

func TestReloadRefusesBadFile(t *testing.T) {
	h := newHarness(t, baseConfig)
	bad := baseConfig + "\n[service.broken]\n_request_time_bucket = 7\n"
	if err := os.WriteFile(h.cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err := h.srv.Reload()
	if err == nil || !strings.Contains(err.Error(), `[service.broken] _request_time_bucket = "7": must be one of 5, 10, 15, 20, 30, 60, 120`) {
		t.Fatalf("Reload of a bad file: %v", err)
	}
	if !strings.Contains(h.logs.String(), "configuration reload refused, keeping the running configuration") {
		t.Errorf("no log line says why the reload was refused:\n%s", h.logs)
	}
	// The running configuration still serves.
	h.start("cb", map[string]any{"_customer_number": num()})
	if _, ok := h.srv.Config().Service("broken"); ok {
		t.Fatal("a refused configuration was put in force")
	}
}

func TestReloadKeepsRestartOnlyOptions(t *testing.T) {
	h := newHarness(t, baseConfig)
	if err := os.WriteFile(h.cfgPath, []byte("[server]\nbase_path = /other\n"+baseConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if bp := h.srv.Config().Server.BasePath; bp != "/genesys" {
		t.Fatalf("base path became %s without a restart", bp)
	}
	h.start("cb", map[string]any{"_customer_number": num()})
	if !strings.Contains(h.logs.String(), "take effect at the next restart") {
		t.Errorf("no warning about restart-only options:\n%s", h.logs)
	}
}
