package callbackd_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/inifile"
)

func load(t *testing.T, text string) (*callbackd.Config, error) {
	t.Helper()
	sections, err := inifile.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return callbackd.NewConfig(sections)
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := load(t, "[service.cb]\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:8080" || cfg.Server.BasePath != "/genesys" || cfg.Storage.URL != "sqlite:callbackd.db" {
		t.Errorf("server/storage defaults: %+v %+v", cfg.Server, cfg.Storage)
	}
	if cfg.Server.LogFormat != "text" || cfg.Server.LogLevel != "info" {
		t.Errorf("log defaults: format %q level %q, want text, info", cfg.Server.LogFormat, cfg.Server.LogLevel)
	}
	if cfg, err := load(t, "[server]\nlog_format = JSON\nlog_level = Debug\n"); err != nil || cfg.Server.LogFormat != "json" || cfg.Server.LogLevel != "debug" {
		t.Errorf("log_format = JSON, log_level = Debug: %+v, %v", cfg, err)
	}
	o := cfg.Services["cb"].Options
	if o.Type != "ors" || o.RequestTimeBucket != 5 || o.MaxRequestByTimeBucket != 100 ||
		strings.Join(o.CustomerLookupKeys, ",") != "_customer_number" || strings.Join(o.MandatoryLookupKeys, ",") != "_customer_number" ||
		!o.DisallowImpossible || !o.DisallowPremium || o.DefaultCountry != "US" || o.InQueueChecking != "true" ||
		o.MaxORSSubmitAttempts != 3 || o.RequestExecutionTimeBuffer != 120*time.Second || o.MediaType != "voice" ||
		!o.WaitForAgent || o.URSQueuedTTL != 4*time.Hour || o.MaxTimeToWaitForAgent != time.Hour || o.TTL != 24*time.Hour ||
		o.Throttle.PerService1 != 500 || o.Throttle.TTL1 != 300*time.Second || o.Throttle.PerService2 != 1000 ||
		o.Throttle.TTL2 != time.Hour || o.Throttle.ParamsLimit != 6 || o.Throttle.MaxQueuedPerSvc != 1000 ||
		strings.Join(o.Throttle.RequestParams, ",") != "_customer_number" {
		t.Errorf("service defaults differ from spec 001: %+v", o)
	}
	if strings.Join(cfg.Callback.ReturnedKeys, ",") != "_desired_time,_callback_state,_callback_reason,_ors_session_id" {
		t.Errorf("returned-keys default %v", cfg.Callback.ReturnedKeys)
	}
}

func TestConfigAppLevelDefaultsAndOverride(t *testing.T) {
	cfg, err := load(t, "[callback]\n_throttle_ttl_1 = 60\nmax_queued_callbacks_per_service = 7\n_throttle_customer_number_limit = 2\n[service.a]\n[service.b]\n_throttle_ttl_1 = 30\n")
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Services["a"].Options.Throttle, cfg.Services["b"].Options.Throttle
	if a.TTL1 != time.Minute || a.MaxQueuedPerSvc != 7 || a.ParamsLimit != 2 {
		t.Errorf("[callback] defaults not inherited: %+v", a)
	}
	if b.TTL1 != 30*time.Second || b.MaxQueuedPerSvc != 7 {
		t.Errorf("service option did not override [callback]: %+v", b)
	}
}

func TestConfigErrorsNameSectionAndOption(t *testing.T) {
	_, err := load(t, `
[server]
max_body_bytes = 12
colour = blue
log_format = xml
log_level = loud
[callback]
_throttle_ttl_1 = soon
unknown-thing = 1
[service.a]
_request_time_bucket = 7
_disallow_premium_phone_numbers = perhaps
_enable_in_queue_checking = sometimes
_default_country = France
_business_hours_service = nowhere
_exceptions = nogroup
_ors = ftp://x
[service.b]
_service = calendar
[service.c]
_redirect = d
[service.d]
_redirect = c
[users]
admin = plaintext
[mystery]
`)
	var errs callbackd.ConfigErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want ConfigErrors", err)
	}
	want := []string{
		`[server] max_body_bytes = "12": must be an integer of at least 1024`,
		`[server] colour = "blue": unknown option`,
		`[server] log_format = "xml": must be text or json`,
		`[server] log_level = "loud": must be debug, info, warn or error`,
		`[callback] _throttle_ttl_1 = "soon": must be a non-negative integer (seconds)`,
		`[callback] unknown-thing = "1": unknown option`,
		`[service.a] _request_time_bucket = "7": must be one of 5, 10, 15, 20, 30, 60, 120`,
		`[service.a] _disallow_premium_phone_numbers = "perhaps": must be true or false`,
		`[service.a] _enable_in_queue_checking = "sometimes": must be one of true, false, strict`,
		`[service.a] _default_country = "France": must be an ISO 3166 alpha-2 country code such as US or FR`,
		`[service.a] _business_hours_service = "nowhere": no such service`,
		`[service.a] _exceptions = "nogroup": no such [pattern.nogroup] section`,
		`[service.a] _ors = "ftp://x": must be an http:// or https:// URL`,
		`[service.b] _service = "calendar": must be callback, office-hours or capacity`,
		`[service.c] _redirect = "d": redirect loop: c -> d -> c`,
		`[users] admin = "(hidden)": must be a bcrypt hash ($2a$, $2b$ or $2y$...)`,
		`[mystery]: unknown section`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing error %s\nin:\n%s", w, got)
		}
	}
}

func TestRequestMaySet(t *testing.T) {
	configured := map[string]string{"_ttl": "10", "_redirect": "x"}
	cases := []struct {
		name         string
		option       string
		overwritable []string
		want         bool
	}{
		{"UnsetPlainOption", "_wait_for_agent", nil, true},
		{"SetPlainOption", "_ttl", nil, false},
		{"SetButOverwritable", "_ttl", []string{"_ttl"}, true},
		{"PolicyOptionUnset", "_disallow_premium_phone_numbers", nil, false},
		{"PolicyOptionOverwritable", "_redirect", []string{"_redirect"}, true},
		{"NeverType", "_type", nil, false},
	}
	for _, c := range cases {
		if got := callbackd.RequestMaySet(c.option, configured, c.overwritable); got != c.want {
			t.Errorf("%s: RequestMaySet(%s) = %v, want %v", c.name, c.option, got, c.want)
		}
	}
}
