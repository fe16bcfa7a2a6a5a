package callbackd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Call directions (_call_direction).
const (
	// CallDirectionUserTerminated: the service calls the customer back.
	CallDirectionUserTerminated = "USERTERMINATED"
	// CallDirectionUserOriginated: the customer calls in. The built-in
	// engine refuses it (see checkExecution).
	CallDirectionUserOriginated = "USERORIGINATED"
)

// Parties rung first (_userterminated_first_connect_party).
const (
	PartyCustomer = "CUSTOMER"
	PartyAgent    = "AGENT"
)

// ExecutionOptions are the options the built-in engine reads while it
// executes a callback (EXECUTION.md): the GMS 8.5 template names and
// defaults, except _prefix_dial_out, whose default is the templates' empty
// value rather than GMS's "91". They are embedded in ServiceOptions, so a
// request may set them like any execution option (none is a policy
// option but those of policyExecutionOptions) and an ORS service passes
// them on untouched.
type ExecutionOptions struct {
	// CallDirection is _call_direction, upper case: USERTERMINATED or
	// USERORIGINATED (refused for _type=builtin).
	CallDirection string
	// FirstConnectParty is _userterminated_first_connect_party, upper
	// case: with WaitForAgent, whose phone rings first once an agent is
	// reserved (PartyCustomer or PartyAgent).
	FirstConnectParty string
	// AgentReserveTimeout is how long a reserved agent has to answer.
	AgentReserveTimeout time.Duration
	// AgentPreview: the agent accepts or rejects the callback before the
	// customer is dialled.
	AgentPreview        bool
	AgentPreviewTimeout time.Duration
	// AgentPreviewAllowReject is how many rejects a callback takes; 0: the
	// agent cannot reject.
	AgentPreviewAllowReject int
	// AgentPreviewData are the callback properties the preview shows. The
	// default is empty (the templates' "Value 1,..." is a placeholder): the
	// preview then shows the customer's number and desired time only.
	AgentPreviewData        []string
	AgentRejectRetryTimeout time.Duration
	// EnableDispositionDialog: after the call the agent picks a
	// disposition, within AgentDispositionTimeout.
	EnableDispositionDialog bool
	AgentDispositionTimeout time.Duration
	// CPDEnable asks the dialer for call progress detection on the
	// customer leg (person, answering machine, fax).
	CPDEnable bool
	// MaxDialAttempts (at least 1) dial attempts reach the customer,
	// DialRetryTimeout apart.
	MaxDialAttempts  int
	DialRetryTimeout time.Duration
	// MaxTransferToAgentAttempts (at least 1) attempts connect a reached
	// customer to an agent.
	MaxTransferToAgentAttempts int
	// URSVirtualQueue is the queue the callback waits in; use VirtualQueue,
	// which falls back to the service's name.
	URSVirtualQueue string
	// Target is _target, the agent group of GMS (Group@StatServer.GA),
	// kept as written.
	Target string
	// VQPriority is the callback's starting priority in its queue; it grows
	// by VQPriorityIncrement (at least 0) every VQPriorityIncrementInterval.
	// An increment above 0 needs an interval above 0: a service with an
	// increment and no interval is refused rather than given a guessed one.
	VQPriority                  int
	VQPriorityIncrement         int
	VQPriorityIncrementInterval time.Duration
	// ETAPosThreshold are the _eta_pos_threshold pairs, in increasing
	// Seconds; MaxTimeToReachETAPosThreshold bounds the wait for them.
	ETAPosThreshold               []ETAThreshold
	MaxTimeToReachETAPosThreshold time.Duration
	// MinQueueWait is how long a callback waits in its queue at least.
	MinQueueWait time.Duration
	// CallingPartyNumber and CallingPartyDisplayName are the caller id the
	// customer sees.
	CallingPartyNumber      string
	CallingPartyDisplayName string
	// PrefixDialOut are digits dialled before the customer's number; "" by
	// default (the templates' value, not GMS's "91").
	PrefixDialOut string
}

// ETAThreshold is one seconds:position pair of _eta_pos_threshold.
type ETAThreshold struct {
	Seconds  int
	Position int
}

// VirtualQueue returns the virtual queue a callback of service waits in:
// _urs_virtual_queue, or the service's name when it is not set, so that a
// service works with agents serving its name without more configuration.
func (o ServiceOptions) VirtualQueue(service string) string {
	if o.URSVirtualQueue != "" {
		return o.URSVirtualQueue
	}
	return service
}

// ExecutionOptionsNotActedOn are the EXECUTION.md options callbackd knows
// (they are type-checked at startup and on requests, and a request may set
// them) but that the built-in engine does not act on yet: setting them
// changes nothing in how a callback is executed. They are listed so that
// documentation and a warning can say so.
var ExecutionOptionsNotActedOn = []string{
	"_treatment_waiting_for_agent",
	"_treatment_customer_connect",
	"_treatment_find_agent_fail",
	"_wait_for_user_confirm",
	"_user_confirm_timeout",
	"_on_user_confirm_timeout",
	"_max_number_of_user_availability_confirmation_attempts",
	"_snooze_duration",
	"_agent_availability_notification_delay",
	"_enable_status_notification",
	"_status_notification_type",
	"_status_notification_target",
	"_status_notification_provider",
	"_desired_connect_time_threshold",
	"_chat_endpoint",
}

// execOpt defines an execution option. An empty value reads as the
// default: web widgets post empty fields (`_call_direction=`), and an
// empty execution option in GMS means "not set".
func execOpt(name, def string, parse func(string, *ServiceOptions) error) optionDef {
	return optionDef{name: name, def: def, parse: func(v string, o *ServiceOptions) error {
		if strings.TrimSpace(v) == "" {
			v = def
		}
		return parse(v, o)
	}, policy: policyExecutionOptions[name]}
}

// policyExecutionOptions are the execution options a request may not set
// unless the service lists them in _overwritable_options: how far ahead a
// callback waits in its queue (a caller could jump the line), and what
// the customer's phone shows or the trunk dials (a caller could spoof a
// caller id or reach a premium line through a prefix). Which queue it
// waits in (_urs_virtual_queue, _target) a request may choose when the
// service leaves it unset, as in GMS: a service that cares sets it.
var policyExecutionOptions = map[string]bool{
	"_urs_vq_priority":           true,
	"_urs_vq_priority_increment": true, "_urs_vq_priority_increment_interval": true,
	"_calling_party_number": true, "_calling_party_display_name": true, "_prefix_dial_out": true,
}

// executionOptionDefs are the options of EXECUTION.md not already read by
// specOptionDefs, the options of spec 001 (_wait_for_agent, _media_type,
// _urs_queued_ttl, _max_time_to_wait_for_agent_on_the_call).
var executionOptionDefs = []optionDef{
	execOpt("_call_direction", CallDirectionUserTerminated, func(v string, o *ServiceOptions) error {
		return oneOf(strings.ToUpper(v), &o.CallDirection, CallDirectionUserTerminated, CallDirectionUserOriginated)
	}),
	execOpt("_userterminated_first_connect_party", PartyCustomer, func(v string, o *ServiceOptions) error {
		return oneOf(strings.ToUpper(v), &o.FirstConnectParty, PartyCustomer, PartyAgent)
	}),
	execOpt("_agent_reserve_timeout", "30", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.AgentReserveTimeout })),
	execOpt("_agent_preview", "false", boolean(func(o *ServiceOptions) *bool { return &o.AgentPreview })),
	execOpt("_agent_preview_timeout", "30", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.AgentPreviewTimeout })),
	execOpt("_agent_preview_allow_reject", "0", intMin(0, func(o *ServiceOptions) *int { return &o.AgentPreviewAllowReject })),
	execOpt("_agent_preview_data", "", keyList(func(o *ServiceOptions) *[]string { return &o.AgentPreviewData })),
	execOpt("_agent_reject_retry_timeout", "0", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.AgentRejectRetryTimeout })),
	execOpt("_enable_disposition_dialog", "false", boolean(func(o *ServiceOptions) *bool { return &o.EnableDispositionDialog })),
	execOpt("_agent_disposition_timeout", "45", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.AgentDispositionTimeout })),
	execOpt("_cpd_enable", "true", boolean(func(o *ServiceOptions) *bool { return &o.CPDEnable })),
	execOpt("_max_dial_attempts", "3", intMin(1, func(o *ServiceOptions) *int { return &o.MaxDialAttempts })),
	execOpt("_dial_retry_timeout", "300", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.DialRetryTimeout })),
	execOpt("_max_transfer_to_agent_attempts", "5", intMin(1, func(o *ServiceOptions) *int { return &o.MaxTransferToAgentAttempts })),
	execOpt("_urs_virtual_queue", "", str(func(o *ServiceOptions) *string { return &o.URSVirtualQueue })),
	execOpt("_target", "", str(func(o *ServiceOptions) *string { return &o.Target })),
	execOpt("_urs_vq_priority", "0", func(v string, o *ServiceOptions) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		o.VQPriority = n
		return nil
	}),
	execOpt("_urs_vq_priority_increment", "0", intMin(0, func(o *ServiceOptions) *int { return &o.VQPriorityIncrement })),
	execOpt("_urs_vq_priority_increment_interval", "0", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.VQPriorityIncrementInterval })),
	execOpt("_eta_pos_threshold", "0:10,10:5,20:2,30:1,40:0", func(v string, o *ServiceOptions) error {
		t, err := parseETAThresholds(v)
		if err != nil {
			return err
		}
		o.ETAPosThreshold = t
		return nil
	}),
	execOpt("_max_time_to_reach_eta_pos_threshold", "14160", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.MaxTimeToReachETAPosThreshold })),
	execOpt("_min_queue_wait", "0", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.MinQueueWait })),
	execOpt("_calling_party_number", "", str(func(o *ServiceOptions) *string { return &o.CallingPartyNumber })),
	execOpt("_calling_party_display_name", "", str(func(o *ServiceOptions) *string { return &o.CallingPartyDisplayName })),
	execOpt("_prefix_dial_out", "", func(v string, o *ServiceOptions) error {
		v = unquoteEmpty(v)
		if strings.Trim(v, "0123456789") != "" {
			return fmt.Errorf("must be digits only, or empty")
		}
		o.PrefixDialOut = v
		return nil
	}),

	// Read by the engine from the raw options (a machine gets a message
	// and the callback is AM_CONNECTED when this is set).
	execOpt("_treatment_call_failure_answering_machine", "", anyText),

	// Known, type-checked, not acted on yet: ExecutionOptionsNotActedOn.
	execOpt("_treatment_waiting_for_agent", "", anyText),
	execOpt("_treatment_customer_connect", "", anyText),
	execOpt("_treatment_find_agent_fail", "", anyText),
	execOpt("_wait_for_user_confirm", "false", checkBool),
	execOpt("_user_confirm_timeout", "30", checkSeconds),
	execOpt("_on_user_confirm_timeout", "CONNECT-ANYWAY", anyText),
	execOpt("_max_number_of_user_availability_confirmation_attempts", "3", checkCount),
	execOpt("_snooze_duration", "300", checkSeconds),
	execOpt("_agent_availability_notification_delay", "30", checkSeconds),
	execOpt("_enable_status_notification", "false", checkBool),
	execOpt("_status_notification_type", "httpcb", anyText),
	execOpt("_status_notification_target", "", anyText),
	execOpt("_status_notification_provider", "", anyText),
	execOpt("_desired_connect_time_threshold", "180", checkSeconds),
	execOpt("_chat_endpoint", "", anyText),
}

// anyText accepts any value: an option read as free text.
func anyText(string, *ServiceOptions) error { return nil }

// checkBool, checkSeconds and checkCount type-check a value and keep
// nothing: they read the options that are not acted on yet.
var (
	checkBool    = boolean(func(*ServiceOptions) *bool { return new(bool) })
	checkSeconds = secondsOpt(func(*ServiceOptions) *time.Duration { return new(time.Duration) })
	checkCount   = intMin(0, func(*ServiceOptions) *int { return new(int) })
)

// parseETAThresholds reads "seconds:position" pairs separated by commas,
// in strictly increasing seconds so that the table reads one way only.
func parseETAThresholds(v string) ([]ETAThreshold, error) {
	var out []ETAThreshold
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		sec, pos, ok := strings.Cut(p, ":")
		s, err1 := strconv.Atoi(strings.TrimSpace(sec))
		n, err2 := strconv.Atoi(strings.TrimSpace(pos))
		if !ok || err1 != nil || err2 != nil || s < 0 || n < 0 {
			return nil, fmt.Errorf("must be seconds:position pairs of non-negative integers separated by commas, such as 0:10,10:5,20:2 (bad pair %q)", p)
		}
		if len(out) > 0 && s <= out[len(out)-1].Seconds {
			return nil, fmt.Errorf("seconds must increase from one pair to the next (%q after %d:%d)", p, out[len(out)-1].Seconds, out[len(out)-1].Position)
		}
		out = append(out, ETAThreshold{Seconds: s, Position: n})
	}
	return out, nil
}

// checkExecution applies the rules that tie execution options together.
// ParseServiceOptions runs it, so a request's overrides meet the same rules
// as the file: a request cannot make a built-in service dial a chat.
// Options whose value holds a $token$ are not known yet and are skipped.
func checkExecution(o ServiceOptions, raw map[string]string) []OptionError {
	var errs []OptionError
	// unsure: the option is set but its value is a token or already
	// reported as wrong, so a rule that depends on it says nothing.
	unsure := func(name string) bool {
		v, set := raw[name]
		if !set {
			return false
		}
		d, _ := findOption(name)
		var scratch ServiceOptions
		return HasToken(v) || d.parse(v, &scratch) != nil
	}
	if o.VQPriorityIncrement > 0 && o.VQPriorityIncrementInterval == 0 && !unsure("_urs_vq_priority_increment_interval") {
		errs = append(errs, OptionError{Option: "_urs_vq_priority_increment", Value: raw["_urs_vq_priority_increment"],
			Message: "needs _urs_vq_priority_increment_interval above 0 (seconds between two increments)"})
	}
	if o.Type == TypeBuiltin {
		if o.CallDirection == CallDirectionUserOriginated {
			errs = append(errs, OptionError{Option: "_call_direction", Value: raw["_call_direction"],
				Message: "the built-in engine calls customers back; USERORIGINATED is not supported"})
		}
		if o.MediaType == "chat" {
			errs = append(errs, OptionError{Option: "_media_type", Value: raw["_media_type"],
				Message: "the built-in engine places voice calls; chat is not supported yet"})
		}
	}
	return errs
}
