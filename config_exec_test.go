package callbackd_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

const hash = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z6nJRnhJbXNRtzLiWnW2gWeW"

func TestAgentSections(t *testing.T) {
	cfg, err := load(t, `
[agent.alice]
password = `+hash+`
queues = VQ_Sales, VQ_Support,VQ_Sales
phone = +33123456789
display_name = Alice Martin
auto_answer = true
[agent.bob]
queues = cb
phone = sip:bob@pbx.example.com
[agents]
heartbeat = 15
`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*callbackd.AgentConfig{
		"alice": {Name: "alice", PasswordHash: hash, Queues: []string{"VQ_Sales", "VQ_Support"}, Phone: "+33123456789", DisplayName: "Alice Martin", AutoAnswer: true},
		"bob":   {Name: "bob", Queues: []string{"cb"}, Phone: "sip:bob@pbx.example.com"},
	}
	if !reflect.DeepEqual(cfg.Agents, want) {
		for name, a := range cfg.Agents {
			t.Logf("%s: %+v", name, *a)
		}
		t.Errorf("agents differ from the file")
	}
	if cfg.AgentPolicy.Heartbeat != 15*time.Second {
		t.Errorf("heartbeat = %v, want 15s", cfg.AgentPolicy.Heartbeat)
	}
}

func TestAgentsAndDialerDefaults(t *testing.T) {
	cfg, err := load(t, "[service.cb]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Agents) != 0 || cfg.Agents == nil {
		t.Errorf("agents = %#v, want an empty map", cfg.Agents)
	}
	if cfg.AgentPolicy.Heartbeat != time.Minute {
		t.Errorf("heartbeat = %v, want 1m", cfg.AgentPolicy.Heartbeat)
	}
	if d := cfg.Dialer; d.Type != "simulated" || d.Configured || len(d.Rules) != 0 || d.Ring != 0 || d.Talk != 0 {
		t.Errorf("dialer = %+v, want simulated, not configured, no rules", d)
	}
	cfg, err = load(t, "[dialer]\n")
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Dialer; d.Type != "simulated" || !d.Configured {
		t.Errorf("empty [dialer]: %+v, want simulated and configured", d)
	}
}

func TestDialerRules(t *testing.T) {
	cfg, err := load(t, `
[dialer]
type = Simulated
outcome.busy = ^\+3310
outcome.machine = 9$
outcome.human = .
ring_seconds = 2
talk_seconds = 30
journal = /var/log/callbackd/dials.jsonl
`)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Dialer
	if d.Type != "simulated" || !d.Configured || d.Ring != 2*time.Second || d.Talk != 30*time.Second || d.Journal != "/var/log/callbackd/dials.jsonl" {
		t.Errorf("dialer = %+v", d)
	}
	var order []string
	for _, r := range d.Rules {
		order = append(order, r.Option+"="+string(r.Outcome))
	}
	if want := []string{"outcome.busy=busy", "outcome.machine=machine", "outcome.human=human"}; !slices.Equal(order, want) {
		t.Errorf("rules %v, want file order %v", order, want)
	}
	cases := []struct {
		name   string
		number string
		want   callbackd.DialOutcome
		match  bool
	}{
		{"FirstRuleWins", "+33100000009", callbackd.OutcomeBusy, true},
		{"SecondRule", "+33200000009", callbackd.OutcomeMachine, true},
		{"CatchAll", "+33200000001", callbackd.OutcomeHuman, true},
		{"NoRule", "", "", false},
	}
	for _, c := range cases {
		r, ok := d.Match(c.number)
		if ok != c.match || r.Outcome != c.want {
			t.Errorf("%s: Match(%q) = %s, %v; want %s, %v", c.name, c.number, r.Outcome, ok, c.want, c.match)
		}
	}
}

// TestExecSectionErrors: every problem in [agent.NAME], [agents] and
// [dialer] is reported at once, naming the section and the option.
func TestExecSectionErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"AgentPasswordNotHash", "[agent.a]\npassword = secret\nqueues = q\nphone = +33123456789\n",
			[]string{`[agent.a] password = "(hidden)": must be a bcrypt hash ($2a$, $2b$ or $2y$...)`}},
		{"AgentNoQueues", "[agent.a]\nphone = +33123456789\n",
			[]string{`[agent.a]: queues is required: the virtual queues the agent serves`}},
		{"AgentEmptyQueues", "[agent.a]\nqueues = ,\nphone = +33123456789\n",
			[]string{`[agent.a] queues = ",": must name at least one virtual queue (comma-separated)`}},
		{"AgentNoPhone", "[agent.a]\nqueues = q\n",
			[]string{`[agent.a]: phone is required: where the agent's calls are placed`}},
		{"AgentLocalNumber", "[agent.a]\nqueues = q\nphone = 0123456789\n",
			[]string{`[agent.a] phone = "0123456789": must be an E.164 number such as +33123456789 or a SIP URI such as sip:alice@pbx.example.com`}},
		{"AgentEmptySIP", "[agent.a]\nqueues = q\nphone = sip:\n",
			[]string{`[agent.a] phone = "sip:": must be an E.164 number`}},
		{"AgentAutoAnswer", "[agent.a]\nqueues = q\nphone = +33123456789\nauto_answer = sometimes\n",
			[]string{`[agent.a] auto_answer = "sometimes": must be true or false`}},
		{"AgentUnknownOption", "[agent.a]\nqueues = q\nphone = +33123456789\nskills = french\n",
			[]string{`[agent.a] skills = "french": unknown option`}},
		{"AgentEmptyName", "[agent.]\nqueues = q\nphone = +33123456789\n",
			[]string{`[agent.]: agent name must be non-empty and URL-safe`}},
		{"AgentNameNotURLSafe", "[agent.a/b]\nqueues = q\nphone = +33123456789\n",
			[]string{`[agent.a/b]: agent name must be non-empty and URL-safe`}},
		{"HeartbeatTooShort", "[agents]\nheartbeat = 4\n",
			[]string{`[agents] heartbeat = "4": must be an integer of at least 5 (seconds)`}},
		{"AgentsNoAnswerReasonFixed", "[agents]\nno_answer_reason = away\n",
			[]string{`[agents] no_answer_reason = "away": unknown option`}},
		{"DialerSIP", "[dialer]\ntype = sip\n",
			[]string{`[dialer] type = "sip": the SIP dialer is not available yet; use type = simulated`}},
		{"DialerType", "[dialer]\ntype = pstn\n",
			[]string{`[dialer] type = "pstn": must be simulated or sip`}},
		{"DialerBadRegexp", "[dialer]\noutcome.busy = (+33\n",
			[]string{`[dialer] outcome.busy = "(+33": must be a regular expression: error parsing regexp`}},
		{"DialerEmptyRegexp", "[dialer]\noutcome.fax =\n",
			[]string{`[dialer] outcome.fax = "": must be a regular expression (an empty one would match every number)`}},
		{"DialerUnknownOutcome", "[dialer]\noutcome.voicemail = 1$\n",
			[]string{`[dialer] outcome.voicemail = "1$": unknown option (outcomes: human, machine, fax, busy, no_answer, invalid, error)`}},
		{"DialerSeconds", "[dialer]\nring_seconds = -1\ntalk_seconds = long\n",
			[]string{`[dialer] ring_seconds = "-1": must be a non-negative integer (seconds)`, `[dialer] talk_seconds = "long": must be a non-negative integer (seconds)`}},
		{"DialerUnknownOption", "[dialer]\nproxy = pbx\n",
			[]string{`[dialer] proxy = "pbx": unknown option`}},
		{"Everything", "[agent.a]\nqueues = q\n[agents]\nheartbeat = 1\n[dialer]\ntype = sip\n",
			[]string{`[agent.a]: phone is required`, `[agents] heartbeat = "1"`, `[dialer] type = "sip"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.text)
			var errs callbackd.ConfigErrors
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want ConfigErrors", err)
			}
			if len(errs) != len(c.want) {
				t.Errorf("%d errors, want %d:\n%s", len(errs), len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing error %s\nin:\n%s", w, err)
				}
			}
		})
	}
}

func TestAgentDefinedTwice(t *testing.T) {
	sec := callbackd.Section{Name: "agent.a", Keys: []callbackd.KeyValue{{Key: "queues", Value: "q"}, {Key: "phone", Value: "+33123456789"}}}
	_, err := callbackd.NewConfig([]callbackd.Section{sec, sec})
	if err == nil || err.Error() != "[agent.a]: section defined twice" {
		t.Errorf("err = %v, want [agent.a]: section defined twice", err)
	}
}

func TestWarnings(t *testing.T) {
	const dialer = "[dialer]\n"
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"NoBuiltinService", "[service.cb]\n", nil},
		{"ServedByServiceName", dialer + "[service.cb]\n_type = builtin\n[agent.a]\nqueues = cb\nphone = +33123456789\n", nil},
		{"ServedByVirtualQueue", dialer + "[service.cb]\n_type = builtin\n_urs_virtual_queue = VQ\n[agent.a]\nqueues = x,VQ\nphone = +33123456789\n", nil},
		{"VirtualQueueFromToken", dialer + "[service.cb]\n_type = builtin\n_urs_virtual_queue = $vq$\n", nil},
		{"ORSServiceNeedsNoAgent", "[service.cb]\n_type = ors\n_urs_virtual_queue = VQ\n", nil},
		{"NoAgentServes", dialer + "[service.b]\n_type = builtin\n_urs_virtual_queue = VQ\n[service.a]\n_type = builtin\n[agent.x]\nqueues = other\nphone = +33123456789\n", []string{
			`[service.a]: no [agent.NAME] section serves its virtual queue "a"; its callbacks will wait for an agent until they expire`,
			`[service.b]: no [agent.NAME] section serves its virtual queue "VQ"; its callbacks will wait for an agent until they expire`,
		}},
		{"NoDialerSection", "[service.cb]\n_type = builtin\n[agent.a]\nqueues = cb\nphone = +33123456789\n", []string{
			"no [dialer] section: builtin services use the simulated dialer; no real calls are placed",
		}},
		{"Both", "[service.cb]\n_type = builtin\n", []string{
			`[service.cb]: no [agent.NAME] section serves its virtual queue "cb"; its callbacks will wait for an agent until they expire`,
			"no [dialer] section: builtin services use the simulated dialer; no real calls are placed",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load(t, c.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Warnings(); !slices.Equal(got, c.want) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
