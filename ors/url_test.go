package ors_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/ors"
)

func config(t *testing.T, sections ...callbackd.Section) *callbackd.Config {
	t.Helper()
	cfg, err := callbackd.NewConfig(sections)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func service(name string, kv ...string) callbackd.Section {
	sec := callbackd.Section{Name: "service." + name}
	for i := 0; i+1 < len(kv); i += 2 {
		sec.Keys = append(sec.Keys, callbackd.KeyValue{Key: kv[i], Value: kv[i+1]})
	}
	return sec
}

func TestConfiguredURL(t *testing.T) {
	cfg := config(t,
		service("fixed", "_ors", "http://dialer.example.com/cb"),
		service("open", "_ors", "http://dialer.example.com/cb", "_overwritable_options", "_ors"),
		service("tokens", "_ors", "http://$dialer$.example.com/cb"),
		service("unset"),
	)
	urlFor := ors.ConfiguredURL(func() *callbackd.Config { return cfg })
	for _, tc := range []struct {
		name    string
		service string
		props   map[string]string
		want    string
	}{
		{"Service", "fixed", nil, "http://dialer.example.com/cb"},
		{"PropertyNotAllowedIsIgnored", "fixed", map[string]string{"_ors": "http://attacker.example/"}, "http://dialer.example.com/cb"},
		{"PropertyAllowed", "open", map[string]string{"_ors": "http://dialer2.example.com/cb"}, "http://dialer2.example.com/cb"},
		{"AllowedButAbsent", "open", nil, "http://dialer.example.com/cb"},
		{"TokenFilled", "tokens", map[string]string{"dialer": "eu"}, "http://eu.example.com/cb"},
		{"TokenUnfilled", "tokens", nil, "http://$dialer$.example.com/cb"},
		{"UnsetNotAllowed", "unset", map[string]string{"_ors": "http://attacker.example/"}, ""},
		{"UnknownService", "gone", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cb := &callbackd.Callback{ID: "cb1", Service: tc.service, SessionID: "s1", Properties: tc.props}
			if got := urlFor(cb); got != tc.want {
				t.Errorf("URLFor = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCancelThroughConfiguredURL(t *testing.T) {
	rec := newRecorder(t, answer(http.StatusNoContent, ``))
	cfg := config(t, service("request-callback", "_ors", rec.URL+"/callbacks"))
	x := ors.New(ors.Options{URLFor: ors.ConfiguredURL(func() *callbackd.Config { return cfg })})
	cb := handedOver("361-738dadcb")
	cb.Properties = map[string]string{"_ors": "http://attacker.example/"}
	if err := x.Cancel(context.Background(), cb); err != nil {
		t.Fatal(err)
	}
	if got := rec.only(t); got.Method != http.MethodDelete || got.Path != "/callbacks/361-738dadcb" {
		t.Errorf("request %s %s, want DELETE /callbacks/361-738dadcb", got.Method, got.Path)
	}
}
