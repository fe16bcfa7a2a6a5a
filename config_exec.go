package callbackd

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AgentConfig is one [agent.NAME] section: a person (or, with AutoAnswer,
// a stand-in for one) the built-in engine may offer callbacks to. Who is
// logged in and ready is live state, kept by the AgentStore; this is what
// does not change between two reloads.
type AgentConfig struct {
	// Name is NAME, the agent's login.
	Name string
	// PasswordHash is the bcrypt hash the agent signs in with (the same
	// rule as [users]). An agent without one cannot sign in to the agent
	// API.
	PasswordHash string
	// Queues are the virtual queues the agent serves, at least one: a
	// callback waits in ServiceOptions.VirtualQueue.
	Queues []string
	// Phone is where the agent leg is dialled: an E.164 number
	// (+33123456789) or a SIP URI (sip:alice@pbx.example.com).
	Phone string
	// DisplayName is how the agent is shown; optional.
	DisplayName string
	// AutoAnswer accepts the agent's invitations at once, with no one at
	// the agent API: for demonstrations and benchmarks.
	AutoAnswer bool
}

// AgentsConfig is the [agents] section: rules for every agent.
type AgentsConfig struct {
	// Heartbeat is how long an agent may stay silent (no request, no open
	// event stream) before it is logged out, so that no ghost READY agent
	// is offered callbacks. At least 5 seconds; 60 by default.
	Heartbeat time.Duration
}

// Dialer types ([dialer] type).
const (
	// DialerSimulated places no real call: each number's outcome comes
	// from the [dialer] outcome.* rules.
	DialerSimulated = "simulated"
	// DialerSIP is reserved for the SIP dialer, which does not exist yet;
	// the configuration refuses it.
	DialerSIP = "sip"
)

// DialerConfig is the [dialer] section: how the built-in engine places
// calls.
type DialerConfig struct {
	// Type is DialerSimulated (the only one available so far).
	Type string
	// Configured reports that the file has a [dialer] section; without
	// one the simulated dialer is used, and Config.Warnings says so when a
	// service needs it.
	Configured bool
	// Rules are the simulated dialer's outcome.* options in file order;
	// the first whose Pattern matches the number decides (see Match).
	Rules []DialRule
	// Ring is how long a simulated call rings before its outcome; Talk
	// how long a reached customer talks once connected to the agent (0:
	// hangs up at once, which benchmarks use). Options ring_seconds and
	// talk_seconds.
	Ring, Talk time.Duration
	// Journal is a file the simulated dialer appends one JSON line to per
	// call placed (option journal): what a real dialer would have called.
	Journal string
}

// DialRule is one outcome.NAME = REGEXP option of [dialer]: the numbers
// that Pattern matches get Outcome.
type DialRule struct {
	Outcome DialOutcome
	// Pattern is matched against the E.164 number, as regexp.MatchString
	// does: anchor it (^...$) to match whole numbers.
	Pattern *regexp.Regexp
	// Option is the option that set the rule ("outcome.busy"), so logs
	// can say which rule decided.
	Option string
}

// Match returns the first rule whose pattern matches number, and false
// when none does (the simulated dialer then treats the call as answered
// by a person).
func (d DialerConfig) Match(number string) (DialRule, bool) {
	for _, r := range d.Rules {
		if r.Pattern.MatchString(number) {
			return r, true
		}
	}
	return DialRule{}, false
}

// urlSafeName is the rule for the NAME of [service.NAME] and
// [agent.NAME]: both appear in URLs.
func urlSafeName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "/?#% ")
}

var (
	e164Phone = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	sipURI    = regexp.MustCompile(`(?i)^sips?:[^\s]+$`)
)

func newAgentConfig(sec Section) (*AgentConfig, []OptionError) {
	a := &AgentConfig{Name: strings.TrimPrefix(sec.Name, "agent.")}
	var errs []OptionError
	bad := func(kv KeyValue, msg string) { errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, msg}) }
	if !urlSafeName(a.Name) {
		errs = append(errs, OptionError{Section: sec.Name, Message: "agent name must be non-empty and URL-safe"})
	}
	queuesSet, phoneSet := false, false
	for _, kv := range sec.Keys {
		switch kv.Key {
		case "password":
			if !strings.HasPrefix(kv.Value, "$2") {
				errs = append(errs, OptionError{sec.Name, kv.Key, "(hidden)", "must be a bcrypt hash ($2a$, $2b$ or $2y$...)"})
				continue
			}
			a.PasswordHash = kv.Value
		case "queues":
			queuesSet = true
			a.Queues = splitList(kv.Value)
			if len(a.Queues) == 0 {
				bad(kv, "must name at least one virtual queue (comma-separated)")
			}
		case "phone":
			phoneSet = true
			p := strings.TrimSpace(kv.Value)
			if !e164Phone.MatchString(p) && !sipURI.MatchString(p) {
				bad(kv, "must be an E.164 number such as +33123456789 or a SIP URI such as sip:alice@pbx.example.com")
				continue
			}
			a.Phone = p
		case "auto_answer":
			b, ok := ParseBool(kv.Value)
			if !ok {
				bad(kv, "must be true or false")
				continue
			}
			a.AutoAnswer = b
		case "display_name":
			a.DisplayName = strings.TrimSpace(kv.Value)
		default:
			errs = append(errs, unknownOption(sec.Name, kv))
		}
	}
	if !queuesSet {
		errs = append(errs, OptionError{Section: sec.Name, Message: "queues is required: the virtual queues the agent serves"})
	}
	if !phoneSet {
		errs = append(errs, OptionError{Section: sec.Name, Message: "phone is required: where the agent's calls are placed"})
	}
	return a, errs
}

func (a *AgentsConfig) parse(sec Section) []OptionError {
	var errs []OptionError
	for _, kv := range sec.Keys {
		switch kv.Key {
		case "heartbeat":
			n, err := strconv.Atoi(strings.TrimSpace(kv.Value))
			if err != nil || n < 5 {
				errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, "must be an integer of at least 5 (seconds)"})
				continue
			}
			a.Heartbeat = time.Duration(n) * time.Second
		default:
			errs = append(errs, unknownOption(sec.Name, kv))
		}
	}
	return errs
}

const outcomePrefix = "outcome."

func (d *DialerConfig) parse(sec Section) []OptionError {
	d.Configured = true
	var errs []OptionError
	bad := func(kv KeyValue, msg string) { errs = append(errs, OptionError{sec.Name, kv.Key, kv.Value, msg}) }
	for _, kv := range sec.Keys {
		switch {
		case kv.Key == "type":
			switch t := strings.ToLower(strings.TrimSpace(kv.Value)); t {
			case DialerSimulated:
				d.Type = t
			case DialerSIP:
				bad(kv, "the SIP dialer is not available yet; use type = simulated")
			default:
				bad(kv, "must be simulated or sip")
			}
		case kv.Key == "journal":
			d.Journal = strings.TrimSpace(kv.Value)
		case kv.Key == "ring_seconds" || kv.Key == "talk_seconds":
			n, err := strconv.Atoi(strings.TrimSpace(kv.Value))
			if err != nil || n < 0 {
				bad(kv, "must be a non-negative integer (seconds)")
				continue
			}
			if kv.Key == "ring_seconds" {
				d.Ring = time.Duration(n) * time.Second
			} else {
				d.Talk = time.Duration(n) * time.Second
			}
		case strings.HasPrefix(kv.Key, outcomePrefix) && isDialOutcome(strings.TrimPrefix(kv.Key, outcomePrefix)):
			if strings.TrimSpace(kv.Value) == "" {
				bad(kv, "must be a regular expression (an empty one would match every number)")
				continue
			}
			re, err := regexp.Compile(kv.Value)
			if err != nil {
				bad(kv, "must be a regular expression: "+err.Error())
				continue
			}
			d.Rules = append(d.Rules, DialRule{Outcome: DialOutcome(strings.TrimPrefix(kv.Key, outcomePrefix)), Pattern: re, Option: kv.Key})
		default:
			msg := "unknown option"
			if strings.HasPrefix(kv.Key, outcomePrefix) {
				msg = fmt.Sprintf("unknown option (outcomes: %s)", joinOutcomes())
			}
			bad(kv, msg)
		}
	}
	return errs
}

func isDialOutcome(s string) bool {
	for _, o := range DialOutcomes {
		if string(o) == s {
			return true
		}
	}
	return false
}

func joinOutcomes() string {
	names := make([]string, len(DialOutcomes))
	for i, o := range DialOutcomes {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// Warnings returns what in a valid configuration is probably not what the
// operator meant, one readable line each, sorted: a built-in service whose
// virtual queue no [agent.NAME] serves (its callbacks can only wait and
// expire), and built-in services with no [dialer] section (the simulated
// dialer places no real call). They are for check-config and startup to
// show; none stops callbackd.
func (c *Config) Warnings() []string {
	served := map[string]bool{}
	for _, a := range c.Agents {
		for _, q := range a.Queues {
			served[q] = true
		}
	}
	var out []string
	builtin := false
	for name, svc := range c.Services {
		if svc.Kind != KindCallback || svc.Options.Type != TypeBuiltin {
			continue
		}
		builtin = true
		if HasToken(svc.Raw["_urs_virtual_queue"]) {
			continue // known per request only
		}
		if vq := svc.Options.VirtualQueue(name); !served[vq] {
			out = append(out, fmt.Sprintf("[service.%s]: no [agent.NAME] section serves its virtual queue %q; its callbacks will wait for an agent until they expire", name, vq))
		}
	}
	if builtin && !c.Dialer.Configured {
		out = append(out, "no [dialer] section: builtin services use the simulated dialer; no real calls are placed")
	}
	sort.Strings(out)
	return out
}
