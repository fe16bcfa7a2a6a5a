package callbackd

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd/calendar"
	"github.com/callbackd/callbackd/numbers"
)

// Config is a whole validated configuration. It is immutable once built: a
// reload builds a new one and swaps it in, so a request sees one consistent
// configuration from start to end.
type Config struct {
	Server     ServerConfig
	Storage    StorageConfig
	Callback   AppOptions
	Executor   ExecutorConfig
	Dispatcher DispatcherConfig
	// Services by name (the part after "service." in the section name).
	Services map[string]*ServiceConfig
	// Patterns are the [pattern.NAME] groups for _exceptions, compiled.
	Patterns map[string]*numbers.Group
	// Users are the [users] entries: name -> bcrypt hash.
	Users map[string]string
	// Agents are the [agent.NAME] sections by NAME: who the built-in
	// engine may offer callbacks to.
	Agents map[string]*AgentConfig
	// AgentPolicy is the [agents] section: what applies to every agent
	// (Agents holds the agents themselves).
	AgentPolicy AgentsConfig
	// Dialer is the [dialer] section: how the built-in engine places
	// calls. Without the section it is the simulated dialer with no rules
	// and Configured false.
	Dialer DialerConfig
	// Fingerprint identifies what this configuration makes callbackd do:
	// a hash of every section but [server], [storage] and [dispatcher]
	// (which may differ per node), insensitive to layout and order (but
	// for the order of [dialer]'s outcome rules, which decides). Nodes
	// publish it, so that a deployment whose nodes disagree shows up.
	Fingerprint string
}

// ServerConfig is the [server] section.
type ServerConfig struct {
	Listen   string
	BasePath string
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64
	// PublicURL is how execution platforms reach this service (progress
	// reports); default http://{listen}.
	PublicURL string
	// LogFormat is "text" (key=value lines, for people) or "json" (one
	// object per line, for log collectors).
	LogFormat string
	// LogLevel is the least severe level logged: debug, info, warn or
	// error. Health probes and metric scrapes are logged at debug.
	LogLevel string
}

// ExecutorConfig is the [executor] section: how callbackd talks to
// execution platforms.
type ExecutorConfig struct {
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
}

// DispatcherConfig is the [dispatcher] section.
type DispatcherConfig struct {
	Lease        time.Duration
	Batch        int
	Workers      int
	MaxPerSecond int
}

// StorageConfig is the [storage] section.
type StorageConfig struct {
	URL string
}

// Service kinds (_service).
const (
	KindCallback    = "callback"
	KindOfficeHours = "office-hours"
	KindCapacity    = "capacity"
)

// ServiceConfig is one [service.NAME] section.
type ServiceConfig struct {
	Name string
	// Kind is _service: callback, office-hours or capacity.
	Kind string
	// Raw holds every option exactly as configured, known or not: unknown
	// _xxx options (_target, _vq, ...) are passed on to execution.
	Raw map[string]string
	// Options are the parsed options of a callback service.
	Options ServiceOptions
	// OfficeHours is the calendar of an office-hours service.
	OfficeHours *calendar.OfficeHours
	// Capacity is the table of a capacity service.
	Capacity *calendar.Capacity
}

// Section is one INI section as read from a file, in file order, so that
// errors can name where they are.
type Section struct {
	Name string
	Keys []KeyValue
}

// KeyValue is one option line.
type KeyValue struct {
	Key, Value string
}

// OptionError is one configuration problem, named by section and option so
// an operator can find it.
type OptionError struct {
	Section string
	Option  string
	Value   string
	Message string
}

func (e OptionError) Error() string {
	if e.Option == "" {
		return fmt.Sprintf("[%s]: %s", e.Section, e.Message)
	}
	return fmt.Sprintf("[%s] %s = %q: %s", e.Section, e.Option, e.Value, e.Message)
}

// ConfigErrors is every problem found in a configuration.
type ConfigErrors []OptionError

func (es ConfigErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// DefaultBasePath is where GMS serves its API.
const DefaultBasePath = "/genesys"

// NewConfig validates sections read from a file and builds a Config. It
// reports every problem, not just the first, so one check-config run shows
// an operator all there is to fix.
func NewConfig(sections []Section) (*Config, error) {
	cfg := &Config{
		Server:      ServerConfig{Listen: "127.0.0.1:8080", BasePath: DefaultBasePath, MaxBodyBytes: 64 << 10, LogFormat: "text", LogLevel: "info"},
		Storage:     StorageConfig{URL: "sqlite:callbackd.db"},
		Dispatcher:  DispatcherConfig{Lease: time.Minute, Batch: 100, Workers: 16, MaxPerSecond: 200},
		Callback:    DefaultAppOptions(),
		Services:    map[string]*ServiceConfig{},
		Patterns:    map[string]*numbers.Group{},
		Users:       map[string]string{},
		Agents:      map[string]*AgentConfig{},
		AgentPolicy: AgentsConfig{Heartbeat: time.Minute},
		Dialer:      DialerConfig{Type: DialerSimulated},
	}
	var errs ConfigErrors
	var services []Section
	appRaw := map[string]string{}
	for _, sec := range sections {
		switch {
		case sec.Name == "server":
			errs = append(errs, cfg.Server.parse(sec)...)
		case sec.Name == "storage":
			for _, kv := range sec.Keys {
				if kv.Key == "url" {
					cfg.Storage.URL = kv.Value
				} else {
					errs = append(errs, unknownOption(sec.Name, kv))
				}
			}
		case sec.Name == "executor":
			for _, kv := range sec.Keys {
				if kv.Key == "token" {
					cfg.Executor.Token = kv.Value
				} else {
					errs = append(errs, unknownOption(sec.Name, kv))
				}
			}
		case sec.Name == "dispatcher":
			errs = append(errs, cfg.Dispatcher.parse(sec)...)
		case sec.Name == "callback":
			for _, kv := range sec.Keys {
				appRaw[kv.Key] = kv.Value
			}
		case strings.HasPrefix(sec.Name, "service."):
			services = append(services, sec)
		case strings.HasPrefix(sec.Name, "pattern."):
			entries := map[string]string{}
			for _, kv := range sec.Keys {
				entries[kv.Key] = kv.Value
			}
			name := strings.TrimPrefix(sec.Name, "pattern.")
			group, perrs := numbers.CompileGroup(name, entries)
			for _, perr := range perrs {
				var pe *numbers.PatternError
				if errors.As(perr, &pe) {
					errs = append(errs, OptionError{sec.Name, pe.Entry, pe.Pattern, pe.Err.Error()})
				} else {
					errs = append(errs, OptionError{Section: sec.Name, Message: perr.Error()})
				}
			}
			cfg.Patterns[name] = group
		case strings.HasPrefix(sec.Name, "agent."):
			agent, agentErrs := newAgentConfig(sec)
			errs = append(errs, agentErrs...)
			if _, dup := cfg.Agents[agent.Name]; dup {
				errs = append(errs, OptionError{Section: sec.Name, Message: "section defined twice"})
			}
			cfg.Agents[agent.Name] = agent
		case sec.Name == "agents":
			errs = append(errs, cfg.AgentPolicy.parse(sec)...)
		case sec.Name == "dialer":
			errs = append(errs, cfg.Dialer.parse(sec)...)
		case sec.Name == "users":
			for _, kv := range sec.Keys {
				if !strings.HasPrefix(kv.Value, "$2") {
					errs = append(errs, OptionError{sec.Name, kv.Key, "(hidden)", "must be a bcrypt hash ($2a$, $2b$ or $2y$...)"})
					continue
				}
				cfg.Users[kv.Key] = kv.Value
			}
		case sec.Name == "" || sec.Name == "DEFAULT":
			for _, kv := range sec.Keys {
				errs = append(errs, OptionError{"DEFAULT", kv.Key, kv.Value, "option outside any section"})
			}
		default:
			errs = append(errs, OptionError{Section: sec.Name, Message: "unknown section"})
		}
	}
	app, appErrs := ParseAppOptions(appRaw)
	cfg.Callback = app
	errs = append(errs, appErrs...)
	for _, sec := range services {
		svc, svcErrs := newServiceConfig(sec, app)
		errs = append(errs, svcErrs...)
		if _, dup := cfg.Services[svc.Name]; dup {
			errs = append(errs, OptionError{Section: sec.Name, Message: "section defined twice"})
		}
		cfg.Services[svc.Name] = svc
	}
	errs = append(errs, cfg.checkReferences()...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Section < errs[j].Section })
		return nil, errs
	}
	cfg.Fingerprint = fingerprint(sections)
	return cfg, nil
}

func unknownOption(section string, kv KeyValue) OptionError {
	return OptionError{section, kv.Key, kv.Value, "unknown option"}
}

func (s *ServerConfig) parse(sec Section) []OptionError {
	var errs []OptionError
	for _, kv := range sec.Keys {
		switch kv.Key {
		case "listen":
			s.Listen = kv.Value
		case "base_path":
			p := "/" + strings.Trim(kv.Value, "/")
			if p == "/" {
				p = ""
			}
			if strings.ContainsAny(p, " {}?#") {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be a URL path such as /genesys"})
			}
			s.BasePath = p
		case "public_url":
			u := strings.TrimRight(strings.TrimSpace(kv.Value), "/")
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be an http:// or https:// URL"})
				continue
			}
			s.PublicURL = u
		case "max_body_bytes":
			n, err := strconv.ParseInt(kv.Value, 10, 64)
			if err != nil || n < 1024 {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be an integer of at least 1024"})
				continue
			}
			s.MaxBodyBytes = n
		case "log_format":
			v := strings.ToLower(strings.TrimSpace(kv.Value))
			if v != "text" && v != "json" {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be text or json"})
				continue
			}
			s.LogFormat = v
		case "log_level":
			v := strings.ToLower(strings.TrimSpace(kv.Value))
			if v != "debug" && v != "info" && v != "warn" && v != "error" {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be debug, info, warn or error"})
				continue
			}
			s.LogLevel = v
		default:
			errs = append(errs, unknownOption(sec.Name, kv))
		}
	}
	return errs
}

func (d *DispatcherConfig) parse(sec Section) []OptionError {
	var errs []OptionError
	for _, kv := range sec.Keys {
		n, err := strconv.Atoi(strings.TrimSpace(kv.Value))
		bad := func(msg string) { errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, msg}) }
		switch kv.Key {
		case "lease":
			if err != nil || n < 1 {
				bad("must be a positive integer (seconds; keep it well above the executor's 10 s timeout)")
				continue
			}
			d.Lease = time.Duration(n) * time.Second
		case "batch", "workers":
			if err != nil || n < 1 || n > 10000 {
				bad("must be an integer from 1 to 10000")
				continue
			}
			if kv.Key == "batch" {
				d.Batch = n
			} else {
				d.Workers = n
			}
		case "max_per_second":
			if err != nil || n < 0 {
				bad("must be a non-negative integer (0: no bound)")
				continue
			}
			d.MaxPerSecond = n
		default:
			errs = append(errs, unknownOption(sec.Name, kv))
		}
	}
	return errs
}

func newServiceConfig(sec Section, app AppOptions) (*ServiceConfig, []OptionError) {
	svc := &ServiceConfig{Name: strings.TrimPrefix(sec.Name, "service."), Raw: map[string]string{}}
	var errs []OptionError
	if !urlSafeName(svc.Name) {
		errs = append(errs, OptionError{Section: sec.Name, Message: "service name must be non-empty and URL-safe"})
	}
	for _, kv := range sec.Keys {
		svc.Raw[kv.Key] = kv.Value
	}
	svc.Kind = svc.Raw["_service"]
	if svc.Kind == "" {
		svc.Kind = KindCallback
	}
	switch svc.Kind {
	case KindCallback:
		opts, optErrs := ParseServiceOptions(svc.Raw, app)
		svc.Options = opts
		for _, e := range optErrs {
			e.Section = sec.Name
			errs = append(errs, e)
		}
	case KindOfficeHours, KindCapacity:
		for _, e := range svc.parseCalendar() {
			e.Section = sec.Name
			errs = append(errs, e)
		}
	default:
		errs = append(errs, OptionError{sec.Name, "_service", svc.Kind, "must be callback, office-hours or capacity"})
	}
	return svc, errs
}

// checkReferences refuses references to services that do not exist or are
// of the wrong kind: better at startup than at the customer's request.
func (c *Config) checkReferences() []OptionError {
	var errs []OptionError
	names := make([]string, 0, len(c.Services))
	for n := range c.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		svc := c.Services[name]
		if svc.Kind != KindCallback {
			continue
		}
		ref := func(option, target, kind string) {
			if target == "" {
				return
			}
			t, ok := c.Services[target]
			switch {
			case !ok:
				errs = append(errs, OptionError{"service." + name, option, target, "no such service"})
			case t.Kind != kind:
				errs = append(errs, OptionError{"service." + name, option, target, fmt.Sprintf("service %s has _service=%s, want %s", target, t.Kind, kind)})
			}
		}
		ref("_business_hours_service", svc.Options.BusinessHoursService, KindOfficeHours)
		ref("_capacity_service", svc.Options.CapacityService, KindCapacity)
		ref("_redirect", svc.Options.Redirect, KindCallback)
		if loop := c.redirectLoop(name); loop != "" {
			errs = append(errs, OptionError{"service." + name, "_redirect", svc.Options.Redirect, "redirect loop: " + loop})
		}
		if g := svc.Options.Exceptions; g != "" {
			if _, ok := c.Patterns[g]; !ok {
				errs = append(errs, OptionError{"service." + name, "_exceptions", g, "no such [pattern." + g + "] section"})
			}
		}
	}
	return errs
}

// redirectLoop returns the chain if following _redirect from name comes
// back to a service already visited.
func (c *Config) redirectLoop(name string) string {
	chain := []string{name}
	for cur := name; ; {
		svc, ok := c.Services[cur]
		if !ok || svc.Kind != KindCallback || svc.Options.Redirect == "" || svc.Options.Redirect == cur {
			return ""
		}
		cur = svc.Options.Redirect
		chain = append(chain, cur)
		for _, seen := range chain[:len(chain)-1] {
			if seen == cur {
				return strings.Join(chain, " -> ")
			}
		}
	}
}

// Service returns the named service of any kind.
func (c *Config) Service(name string) (*ServiceConfig, bool) {
	s, ok := c.Services[name]
	return s, ok
}
