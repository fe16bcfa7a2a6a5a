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

// TestExecutionOptionDefaults: a service that sets nothing gets the
// EXECUTION.md defaults, except _wait_for_agent (spec 001: true),
// _prefix_dial_out (the templates' empty value) and _agent_preview_data
// (the templates' value is a placeholder).
func TestExecutionOptionDefaults(t *testing.T) {
	cfg, err := load(t, "[service.cb]\n")
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Services["cb"].Options
	cases := []struct {
		option    string
		got, want any
	}{
		{"_call_direction", o.CallDirection, "USERTERMINATED"},
		{"_wait_for_agent", o.WaitForAgent, true},
		{"_userterminated_first_connect_party", o.FirstConnectParty, "CUSTOMER"},
		{"_agent_reserve_timeout", o.AgentReserveTimeout, 30 * time.Second},
		{"_agent_preview", o.AgentPreview, false},
		{"_agent_preview_timeout", o.AgentPreviewTimeout, 30 * time.Second},
		{"_agent_preview_allow_reject", o.AgentPreviewAllowReject, 0},
		{"_agent_preview_data", o.AgentPreviewData, []string(nil)},
		{"_agent_reject_retry_timeout", o.AgentRejectRetryTimeout, time.Duration(0)},
		{"_enable_disposition_dialog", o.EnableDispositionDialog, false},
		{"_agent_disposition_timeout", o.AgentDispositionTimeout, 45 * time.Second},
		{"_cpd_enable", o.CPDEnable, true},
		{"_max_dial_attempts", o.MaxDialAttempts, 3},
		{"_dial_retry_timeout", o.DialRetryTimeout, 300 * time.Second},
		{"_max_transfer_to_agent_attempts", o.MaxTransferToAgentAttempts, 5},
		{"_max_time_to_wait_for_agent_on_the_call", o.MaxTimeToWaitForAgent, time.Hour},
		{"_urs_queued_ttl", o.URSQueuedTTL, 14400 * time.Second},
		{"_urs_virtual_queue", o.URSVirtualQueue, ""},
		{"_target", o.Target, ""},
		{"_urs_vq_priority", o.VQPriority, 0},
		{"_urs_vq_priority_increment", o.VQPriorityIncrement, 0},
		{"_urs_vq_priority_increment_interval", o.VQPriorityIncrementInterval, time.Duration(0)},
		{"_eta_pos_threshold", o.ETAPosThreshold, []callbackd.ETAThreshold{{0, 10}, {10, 5}, {20, 2}, {30, 1}, {40, 0}}},
		{"_max_time_to_reach_eta_pos_threshold", o.MaxTimeToReachETAPosThreshold, 14160 * time.Second},
		{"_min_queue_wait", o.MinQueueWait, time.Duration(0)},
		{"_calling_party_number", o.CallingPartyNumber, ""},
		{"_calling_party_display_name", o.CallingPartyDisplayName, ""},
		{"_prefix_dial_out", o.PrefixDialOut, ""},
		{"_media_type", o.MediaType, "voice"},
	}
	for _, c := range cases {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s default = %#v, want %#v", c.option, c.got, c.want)
		}
	}
}

// TestExecutionOptionValues: what an operator writes and what the engine
// reads from it.
func TestExecutionOptionValues(t *testing.T) {
	cases := []struct {
		name   string
		option string
		value  string
		get    func(callbackd.ServiceOptions) any
		want   any
	}{
		{"CallDirectionAnyCase", "_call_direction", "userTerminated", func(o callbackd.ServiceOptions) any { return o.CallDirection }, "USERTERMINATED"},
		{"FirstConnectAgent", "_userterminated_first_connect_party", "agent", func(o callbackd.ServiceOptions) any { return o.FirstConnectParty }, "AGENT"},
		{"ReserveTimeout", "_agent_reserve_timeout", "12", func(o callbackd.ServiceOptions) any { return o.AgentReserveTimeout }, 12 * time.Second},
		{"PreviewOn", "_agent_preview", "true", func(o callbackd.ServiceOptions) any { return o.AgentPreview }, true},
		{"AllowReject", "_agent_preview_allow_reject", "2", func(o callbackd.ServiceOptions) any { return o.AgentPreviewAllowReject }, 2},
		{"PreviewDataList", "_agent_preview_data", " _customer_number, reason ,reason", func(o callbackd.ServiceOptions) any { return o.AgentPreviewData }, []string{"_customer_number", "reason"}},
		{"CPDOff", "_cpd_enable", "false", func(o callbackd.ServiceOptions) any { return o.CPDEnable }, false},
		{"OneDialAttempt", "_max_dial_attempts", "1", func(o callbackd.ServiceOptions) any { return o.MaxDialAttempts }, 1},
		{"VirtualQueue", "_urs_virtual_queue", "VQ_Sales", func(o callbackd.ServiceOptions) any { return o.URSVirtualQueue }, "VQ_Sales"},
		{"Target", "_target", "Sales@StatServer.GA", func(o callbackd.ServiceOptions) any { return o.Target }, "Sales@StatServer.GA"},
		{"NegativePriority", "_urs_vq_priority", "-5", func(o callbackd.ServiceOptions) any { return o.VQPriority }, -5},
		{"ETAThresholds", "_eta_pos_threshold", "0:3, 60:1", func(o callbackd.ServiceOptions) any { return o.ETAPosThreshold }, []callbackd.ETAThreshold{{0, 3}, {60, 1}}},
		{"EmptyCallDirectionIsDefault", "_call_direction", "", func(o callbackd.ServiceOptions) any { return o.CallDirection }, "USERTERMINATED"},
		{"EmptyDialAttemptsIsDefault", "_max_dial_attempts", " ", func(o callbackd.ServiceOptions) any { return o.MaxDialAttempts }, 3},
		{"EmptyETAThresholdsIsDefault", "_eta_pos_threshold", "", func(o callbackd.ServiceOptions) any { return o.ETAPosThreshold }, []callbackd.ETAThreshold{{0, 10}, {10, 5}, {20, 2}, {30, 1}, {40, 0}}},
		{"CallerID", "_calling_party_number", "+33100000000", func(o callbackd.ServiceOptions) any { return o.CallingPartyNumber }, "+33100000000"},
		{"PrefixDigits", "_prefix_dial_out", "91", func(o callbackd.ServiceOptions) any { return o.PrefixDialOut }, "91"},
		{"PrefixQuotedEmpty", "_prefix_dial_out", `""`, func(o callbackd.ServiceOptions) any { return o.PrefixDialOut }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, errs := callbackd.ParseServiceOptions(map[string]string{c.option: c.value}, callbackd.DefaultAppOptions())
			if len(errs) > 0 {
				t.Fatalf("%s = %q: %v", c.option, c.value, errs)
			}
			if got := c.get(o); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s = %q read as %#v, want %#v", c.option, c.value, got, c.want)
			}
		})
	}
}

// TestExecutionOptionErrors: each bad value is reported with its option
// and a message that says what is expected.
func TestExecutionOptionErrors(t *testing.T) {
	cases := []struct {
		name    string
		raw     map[string]string
		option  string
		message string
	}{
		{"CallDirection", map[string]string{"_call_direction": "sideways"}, "_call_direction", "must be one of USERTERMINATED, USERORIGINATED"},
		{"FirstConnectParty", map[string]string{"_userterminated_first_connect_party": "BOTH"}, "_userterminated_first_connect_party", "must be one of CUSTOMER, AGENT"},
		{"ReserveTimeout", map[string]string{"_agent_reserve_timeout": "-1"}, "_agent_reserve_timeout", "must be a non-negative integer (seconds)"},
		{"AllowRejectNegative", map[string]string{"_agent_preview_allow_reject": "-1"}, "_agent_preview_allow_reject", "must be an integer of at least 0"},
		{"PreviewBool", map[string]string{"_agent_preview": "maybe"}, "_agent_preview", "must be true or false"},
		{"NoDialAttempt", map[string]string{"_max_dial_attempts": "0"}, "_max_dial_attempts", "must be an integer of at least 1"},
		{"NoTransferAttempt", map[string]string{"_max_transfer_to_agent_attempts": "0"}, "_max_transfer_to_agent_attempts", "must be an integer of at least 1"},
		{"Priority", map[string]string{"_urs_vq_priority": "high"}, "_urs_vq_priority", "must be an integer"},
		{"IncrementNegative", map[string]string{"_urs_vq_priority_increment": "-1"}, "_urs_vq_priority_increment", "must be an integer of at least 0"},
		{"IncrementWithoutInterval", map[string]string{"_urs_vq_priority_increment": "5"}, "_urs_vq_priority_increment", "needs _urs_vq_priority_increment_interval above 0"},
		{"IncrementWithZeroInterval", map[string]string{"_urs_vq_priority_increment": "5", "_urs_vq_priority_increment_interval": "0"}, "_urs_vq_priority_increment", "needs _urs_vq_priority_increment_interval above 0"},
		{"ETAPairWithoutColon", map[string]string{"_eta_pos_threshold": "0:10,10"}, "_eta_pos_threshold", `bad pair "10"`},
		{"ETAPairNotNumbers", map[string]string{"_eta_pos_threshold": "a:b"}, "_eta_pos_threshold", `bad pair "a:b"`},
		{"ETAPairNegative", map[string]string{"_eta_pos_threshold": "0:-1"}, "_eta_pos_threshold", `bad pair "0:-1"`},
		{"ETAEmptyPair", map[string]string{"_eta_pos_threshold": "0:10,,20:2"}, "_eta_pos_threshold", `bad pair ""`},
		{"ETANotIncreasing", map[string]string{"_eta_pos_threshold": "20:2,10:5"}, "_eta_pos_threshold", "seconds must increase"},
		{"PrefixNotDigits", map[string]string{"_prefix_dial_out": "9-1"}, "_prefix_dial_out", "must be digits only, or empty"},
		{"WaitForUserConfirm", map[string]string{"_wait_for_user_confirm": "sure"}, "_wait_for_user_confirm", "must be true or false"},
		{"UserConfirmTimeout", map[string]string{"_user_confirm_timeout": "soon"}, "_user_confirm_timeout", "must be a non-negative integer (seconds)"},
		{"ConfirmationAttempts", map[string]string{"_max_number_of_user_availability_confirmation_attempts": "x"}, "_max_number_of_user_availability_confirmation_attempts", "must be an integer of at least 0"},
		{"SnoozeDuration", map[string]string{"_snooze_duration": "5m"}, "_snooze_duration", "must be a non-negative integer (seconds)"},
		{"NotificationDelay", map[string]string{"_agent_availability_notification_delay": "-3"}, "_agent_availability_notification_delay", "must be a non-negative integer (seconds)"},
		{"StatusNotification", map[string]string{"_enable_status_notification": "2"}, "_enable_status_notification", "must be true or false"},
		{"ConnectTimeThreshold", map[string]string{"_desired_connect_time_threshold": "3 min"}, "_desired_connect_time_threshold", "must be a non-negative integer (seconds)"},
		{"BuiltinUserOriginated", map[string]string{"_type": "builtin", "_call_direction": "userOriginated"}, "_call_direction", "the built-in engine calls customers back; USERORIGINATED is not supported"},
		{"BuiltinChat", map[string]string{"_type": "builtin", "_media_type": "chat"}, "_media_type", "the built-in engine places voice calls; chat is not supported yet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs := callbackd.ParseServiceOptions(c.raw, callbackd.DefaultAppOptions())
			if len(errs) != 1 {
				t.Fatalf("%v: %d errors %v, want one on %s", c.raw, len(errs), errs, c.option)
			}
			if errs[0].Option != c.option || errs[0].Value != c.raw[c.option] || !strings.Contains(errs[0].Message, c.message) {
				t.Errorf("error %+v, want option %s value %q message containing %q", errs[0], c.option, c.raw[c.option], c.message)
			}
		})
	}
}

// TestExecutionOptionsAccepted: combinations that must not be refused.
func TestExecutionOptionsAccepted(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]string
	}{
		{"ORSUserOriginated", map[string]string{"_type": "ors", "_call_direction": "USERORIGINATED"}},
		{"ORSChat", map[string]string{"_type": "ors", "_media_type": "chat", "_chat_endpoint": "Environment:default"}},
		{"BuiltinVoice", map[string]string{"_type": "builtin", "_media_type": "voice", "_call_direction": "USERTERMINATED"}},
		{"IncrementWithInterval", map[string]string{"_urs_vq_priority_increment": "5", "_urs_vq_priority_increment_interval": "60"}},
		{"IntervalFromToken", map[string]string{"_urs_vq_priority_increment": "5", "_urs_vq_priority_increment_interval": "$every$"}},
		{"NotActedOnText", map[string]string{"_treatment_waiting_for_agent": "music/hold.wav", "_on_user_confirm_timeout": "FAIL", "_status_notification_type": "push"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, errs := callbackd.ParseServiceOptions(c.raw, callbackd.DefaultAppOptions()); len(errs) > 0 {
				t.Errorf("%v refused: %v", c.raw, errs)
			}
		})
	}
}

// TestBuiltinRefusalsNameSectionAndOption: at startup the refusals name the
// service's section and the option, as every configuration error does.
func TestBuiltinRefusalsNameSectionAndOption(t *testing.T) {
	_, err := load(t, "[service.in]\n_type = builtin\n_call_direction = USERORIGINATED\n[service.talk]\n_type = builtin\n_media_type = chat\n[service.vq]\n_urs_vq_priority_increment = 2\n")
	var errs callbackd.ConfigErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want ConfigErrors", err)
	}
	want := []string{
		`[service.in] _call_direction = "USERORIGINATED": the built-in engine calls customers back; USERORIGINATED is not supported`,
		`[service.talk] _media_type = "chat": the built-in engine places voice calls; chat is not supported yet`,
		`[service.vq] _urs_vq_priority_increment = "2": needs _urs_vq_priority_increment_interval above 0 (seconds between two increments)`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// TestExecutionOptionsNotActedOn: the listed options are known (so a
// request may set them and they are checked) and every one is an option of
// EXECUTION.md that has no typed field.
func TestExecutionOptionsNotActedOn(t *testing.T) {
	if len(callbackd.ExecutionOptionsNotActedOn) != 15 {
		t.Errorf("%d options not acted on, want 15 of EXECUTION.md", len(callbackd.ExecutionOptionsNotActedOn))
	}
	for _, name := range callbackd.ExecutionOptionsNotActedOn {
		if !callbackd.KnownServiceOption(name) {
			t.Errorf("%s is not a known option", name)
		}
		if !callbackd.RequestMaySet(name, map[string]string{}, nil) {
			t.Errorf("%s: a request may not set it, want an execution option", name)
		}
	}
}

// TestExecutionOptionsAreNotPolicy: a request may set an execution option
// the service leaves unset, and not one the service sets.
func TestExecutionOptionsAreNotPolicy(t *testing.T) {
	for _, name := range []string{"_call_direction", "_agent_preview", "_max_dial_attempts", "_eta_pos_threshold", "_urs_virtual_queue", "_target"} {
		if !callbackd.RequestMaySet(name, map[string]string{}, nil) {
			t.Errorf("%s unset: a request may not set it", name)
		}
		if callbackd.RequestMaySet(name, map[string]string{name: "x"}, nil) {
			t.Errorf("%s configured: a request may still set it", name)
		}
	}
}

func TestVirtualQueue(t *testing.T) {
	cases := []struct {
		name, vq, want string
	}{
		{"ServiceNameByDefault", "", "cb"},
		{"Configured", "VQ_Sales", "VQ_Sales"},
	}
	for _, c := range cases {
		o, _ := callbackd.ParseServiceOptions(map[string]string{"_urs_virtual_queue": c.vq}, callbackd.DefaultAppOptions())
		if got := o.VirtualQueue("cb"); got != c.want {
			t.Errorf("%s: VirtualQueue = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPriorityAndCallerIDArePolicy: a request may not choose its priority
// (it would jump the line) nor the caller id or the dial prefix (it would
// spoof a number or reach a premium line), unless the service lists the
// option in _overwritable_options.
func TestPriorityAndCallerIDArePolicy(t *testing.T) {
	for _, name := range []string{"_urs_vq_priority", "_urs_vq_priority_increment",
		"_urs_vq_priority_increment_interval", "_calling_party_number", "_calling_party_display_name", "_prefix_dial_out"} {
		if callbackd.RequestMaySet(name, map[string]string{}, nil) {
			t.Errorf("%s unset: a request may set it, want a policy option", name)
		}
		if !callbackd.RequestMaySet(name, map[string]string{}, []string{name}) {
			t.Errorf("%s listed in _overwritable_options: a request may still not set it", name)
		}
	}
}
