package callbackd

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd/numbers"
)

// ServiceOptions are the parsed options of a callback service (spec 001
// lines 1-419 and CLIENTS.md), with the specification's defaults.
type ServiceOptions struct {
	// Type is _type: TypeORS or TypeBuiltin.
	Type                   string
	BusinessHoursService   string
	CapacityService        string
	RequestTimeBucket      int // minutes
	MaxRequestByTimeBucket int
	CustomerLookupKeys     []string
	MandatoryLookupKeys    []string
	Exceptions             string
	DisallowImpossible     bool
	DisallowPremium        bool
	DefaultCountry         string
	// InQueueChecking is _enable_in_queue_checking: "true", "strict" or "false".
	InQueueChecking            string
	MaxORSSubmitAttempts       int
	RequestQueueTimeStat       string
	RequestExecutionTimeBuffer time.Duration
	MediaType                  string
	WaitForAgent               bool
	URSQueuedTTL               time.Duration
	MaxTimeToWaitForAgent      time.Duration
	OverwritableOptions        []string
	Redirect                   string
	TTL                        time.Duration
	ORS                        string
	Throttle                   ThrottleOptions
	// MisfireGrace and MisfirePolicy say what happens to a callback whose
	// due time passed while no dispatcher ran (callbackd's own options).
	MisfireGrace  time.Duration
	MisfirePolicy string
	// PausedList and PausedID place the service in a pause list
	// (_paused_services_list, _paused_services_id; the id defaults to the
	// service's name): pausing the list's id pauses the service.
	PausedList string
	PausedID   string
	// ExecutionOptions are what the built-in engine reads (options_exec.go).
	ExecutionOptions
}

// ThrottleOptions are the abuse limits; a service inherits them from the
// [callback] section unless it sets its own.
type ThrottleOptions struct {
	PerService1     int
	TTL1            time.Duration
	PerService2     int
	TTL2            time.Duration
	RequestParams   []string
	ParamsLimit     int
	MaxQueuedPerSvc int
}

// optionDef is one known option: its default and how to read it. The table
// below is the single list of options callbackd understands, which keeps
// the defaults, the validation and the documentation in one place.
type optionDef struct {
	name  string
	def   string
	parse func(v string, o *ServiceOptions) error
	// policy options decide what a request may do; a request can set them
	// only when _overwritable_options lists them (see RequestMaySet).
	policy bool
}

var bucketSizes = []int{5, 10, 15, 20, 30, 60, 120}

// serviceOptionDefs is every option callbackd reads: those of spec 001 and
// the execution options of EXECUTION.md.
var serviceOptionDefs = slices.Concat(specOptionDefs, executionOptionDefs)

var specOptionDefs = []optionDef{
	{"_type", TypeORS, func(v string, o *ServiceOptions) error {
		return oneOf(v, &o.Type, TypeORS, TypeBuiltin)
	}, true},
	{"_business_hours_service", "", str(func(o *ServiceOptions) *string { return &o.BusinessHoursService }), true},
	{"_capacity_service", "", str(func(o *ServiceOptions) *string { return &o.CapacityService }), true},
	{"_request_time_bucket", "5", func(v string, o *ServiceOptions) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || !slices.Contains(bucketSizes, n) {
			return fmt.Errorf("must be one of 5, 10, 15, 20, 30, 60, 120")
		}
		o.RequestTimeBucket = n
		return nil
	}, true},
	{"_max_request_by_time_bucket", "100", intMin(0, func(o *ServiceOptions) *int { return &o.MaxRequestByTimeBucket }), true},
	{"_customer_lookup_keys", "_customer_number", keyList(func(o *ServiceOptions) *[]string { return &o.CustomerLookupKeys }), true},
	{"_mandatory_customer_lookup_keys", "_customer_number", keyList(func(o *ServiceOptions) *[]string { return &o.MandatoryLookupKeys }), true},
	{"_exceptions", "", str(func(o *ServiceOptions) *string { return &o.Exceptions }), true},
	{"_disallow_impossible_phone_numbers", "true", boolean(func(o *ServiceOptions) *bool { return &o.DisallowImpossible }), true},
	{"_disallow_premium_phone_numbers", "true", boolean(func(o *ServiceOptions) *bool { return &o.DisallowPremium }), true},
	{"_default_country", "US", func(v string, o *ServiceOptions) error {
		v = strings.ToUpper(strings.TrimSpace(v))
		if v != "" && !numbers.KnownCountry(v) {
			return fmt.Errorf("must be an ISO 3166 alpha-2 country code such as US or FR")
		}
		o.DefaultCountry = v
		return nil
	}, true},
	{"_enable_in_queue_checking", "true", func(v string, o *ServiceOptions) error {
		return oneOf(strings.ToLower(v), &o.InQueueChecking, "true", "false", "strict")
	}, true},
	{"_max_ors_submit_attempts", "3", intMin(1, func(o *ServiceOptions) *int { return &o.MaxORSSubmitAttempts }), true},
	{"_request_queue_time_stat", "", func(v string, o *ServiceOptions) error {
		o.RequestQueueTimeStat = strings.TrimSpace(v)
		return nil
	}, false},
	{"_request_execution_time_buffer", "120", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.RequestExecutionTimeBuffer }), false},
	{"_media_type", "voice", func(v string, o *ServiceOptions) error {
		return oneOf(strings.ToLower(v), &o.MediaType, "voice", "chat")
	}, false},
	{"_wait_for_agent", "true", boolean(func(o *ServiceOptions) *bool { return &o.WaitForAgent }), false},
	{"_urs_queued_ttl", "14400", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.URSQueuedTTL }), false},
	{"_max_time_to_wait_for_agent_on_the_call", "3600", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.MaxTimeToWaitForAgent }), false},
	{"_overwritable_options", "", keyList(func(o *ServiceOptions) *[]string { return &o.OverwritableOptions }), true},
	{"_redirect", "", func(v string, o *ServiceOptions) error {
		o.Redirect = unquoteEmpty(v)
		return nil
	}, true},
	{"_ttl", "86400", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.TTL }), false},
	{"_ors", "", func(v string, o *ServiceOptions) error {
		v = strings.TrimSpace(v)
		if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return fmt.Errorf("must be an http:// or https:// URL")
		}
		o.ORS = v
		return nil
	}, true},
	{"_misfire_grace", "900", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.MisfireGrace }), true},
	{"_misfire_policy", "reschedule", func(v string, o *ServiceOptions) error {
		return oneOf(strings.ToLower(v), &o.MisfirePolicy, "reschedule", "expire", "submit")
	}, true},
	{"_paused_services_list", "", str(func(o *ServiceOptions) *string { return &o.PausedList }), true},
	{"_paused_services_id", "", str(func(o *ServiceOptions) *string { return &o.PausedID }), true},
	{"_throttle_callbacks_per_service_1", "500", intMin(0, func(o *ServiceOptions) *int { return &o.Throttle.PerService1 }), true},
	{"_throttle_ttl_1", "300", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.Throttle.TTL1 }), true},
	{"_throttle_callbacks_per_service_2", "1000", intMin(0, func(o *ServiceOptions) *int { return &o.Throttle.PerService2 }), true},
	{"_throttle_ttl_2", "3600", secondsOpt(func(o *ServiceOptions) *time.Duration { return &o.Throttle.TTL2 }), true},
	{"_throttle_request_parameters", "_customer_number", keyList(func(o *ServiceOptions) *[]string { return &o.Throttle.RequestParams }), true},
	{"_throttle_request_parameters_limit", "6", intMin(0, func(o *ServiceOptions) *int { return &o.Throttle.ParamsLimit }), true},
	{"_max_queued_callbacks_per_service", "1000", intMin(0, func(o *ServiceOptions) *int { return &o.Throttle.MaxQueuedPerSvc }), true},
}

// optionAliases maps older option names to the current ones.
var optionAliases = map[string]string{
	"_throttle_customer_number_limit": "_throttle_request_parameters_limit",
}

// appLevelOptions are the service options the [callback] section may set
// for every service (CLIENTS.md: service options override it).
func isAppLevelOption(name string) bool {
	return strings.HasPrefix(name, "_throttle_") || name == "_max_queued_callbacks_per_service"
}

// KnownServiceOption reports whether name is an option callbackd reads.
func KnownServiceOption(name string) bool {
	_, ok := findOption(name)
	return ok
}

func findOption(name string) (optionDef, bool) {
	if alias, ok := optionAliases[name]; ok {
		name = alias
	}
	for _, d := range serviceOptionDefs {
		if d.name == name {
			return d, true
		}
	}
	return optionDef{}, false
}

// RequestMaySet reports whether a Start-Callback request may supply option
// name, given the service's configured options. Spec 001: a request may set
// any option the service leaves unset, and an option listed in
// _overwritable_options even when set. callbackd refuses the first path for
// policy options (number checks, throttles, calendars, redirection...): an
// anonymous web client must not be able to switch off the protections of
// the service it calls.
func RequestMaySet(name string, configured map[string]string, overwritable []string) bool {
	if slices.Contains(overwritable, name) {
		return true
	}
	if name == "_type" || name == "_service" {
		return false
	}
	if d, ok := findOption(name); ok && d.policy {
		return false
	}
	_, set := configured[name]
	return !set
}

// ParseServiceOptions reads a callback service's options over the
// specification's defaults and the application-level [callback] options.
func ParseServiceOptions(raw map[string]string, app AppOptions) (ServiceOptions, []OptionError) {
	var o ServiceOptions
	var errs []OptionError
	for _, d := range serviceOptionDefs {
		if err := d.parse(d.def, &o); err != nil {
			panic("callbackd: bad default for " + d.name + ": " + err.Error())
		}
		if v, ok := app.ServiceDefaults[d.name]; ok {
			_ = d.parse(v, &o) // validated by ParseAppOptions
		}
	}
	for name, v := range raw {
		d, ok := findOption(name)
		if !ok || HasToken(v) {
			// A $token$ value is substituted per request and checked then.
			continue
		}
		if err := d.parse(v, &o); err != nil {
			errs = append(errs, OptionError{Option: name, Value: v, Message: err.Error()})
		}
	}
	errs = append(errs, checkExecution(o, raw)...)
	slices.SortFunc(errs, func(a, b OptionError) int { return strings.Compare(a.Option, b.Option) })
	return o, errs
}

var tokenRE = regexp.MustCompile(`\$([A-Za-z0-9_.-]+)\$`)

// HasToken reports whether an option value holds a $token$ placeholder
// (spec 001, "Passing Configuration Tokens in Queries").
func HasToken(v string) bool { return strings.Contains(v, "$") && tokenRE.MatchString(v) }

// SubstituteTokens replaces every $name$ in v with value(name); a token
// without a value is left as written.
func SubstituteTokens(v string, value func(name string) (string, bool)) string {
	if !HasToken(v) {
		return v
	}
	return tokenRE.ReplaceAllStringFunc(v, func(tok string) string {
		if val, ok := value(tok[1 : len(tok)-1]); ok {
			return val
		}
		return tok
	})
}

// AppOptions is the [callback] section.
type AppOptions struct {
	ReturnedKeys []string
	FilterKeys   []string
	// ServiceDefaults are throttling options every service inherits.
	ServiceDefaults map[string]string
	// DesiredTimeTolerance is how far in the past a _desired_time may be and
	// still be taken as "now" (client clocks drift).
	DesiredTimeTolerance time.Duration
	// DesiredTimeMaxAhead is how far ahead a callback may be booked.
	DesiredTimeMaxAhead time.Duration
	// StaticEWT is the estimated wait time used for _request_queue_time_stat
	// until an execution engine provides live statistics.
	StaticEWT time.Duration
	// Retention is how long a COMPLETED callback is kept before it is
	// purged with its history; 0 keeps it forever.
	Retention time.Duration
}

// DefaultAppOptions are the [callback] defaults of spec 001.
func DefaultAppOptions() AppOptions {
	return AppOptions{
		ReturnedKeys:         []string{"_desired_time", "_callback_state", "_callback_reason", "_ors_session_id"},
		FilterKeys:           []string{"_callback_state", "_callback_reason", "_request_queue_time_stat", "_request_ewt_service", "_vq"},
		ServiceDefaults:      map[string]string{},
		DesiredTimeTolerance: 60 * time.Second,
		DesiredTimeMaxAhead:  30 * 24 * time.Hour,
		Retention:            30 * 24 * time.Hour,
	}
}

// ParseAppOptions reads the [callback] section.
func ParseAppOptions(raw map[string]string) (AppOptions, []OptionError) {
	a := DefaultAppOptions()
	var errs []OptionError
	bad := func(k, v, msg string) { errs = append(errs, OptionError{"callback", k, v, msg}) }
	for k, v := range raw {
		switch k {
		case "returned-keys":
			a.ReturnedKeys = splitList(v)
		case "filter-keys":
			a.FilterKeys = splitList(v)
		case "desired-time-tolerance", "desired-time-max-ahead", "static-ewt", "retention":
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				bad(k, v, "must be a non-negative integer (seconds)")
				continue
			}
			d := time.Duration(n) * time.Second
			switch k {
			case "desired-time-tolerance":
				a.DesiredTimeTolerance = d
			case "desired-time-max-ahead":
				a.DesiredTimeMaxAhead = d
			case "retention":
				a.Retention = d
			default:
				a.StaticEWT = d
			}
		default:
			name := k
			if !strings.HasPrefix(name, "_") {
				name = "_" + name
			}
			if alias, ok := optionAliases[name]; ok {
				name = alias
			}
			d, ok := findOption(name)
			if !ok || !isAppLevelOption(name) {
				bad(k, v, "unknown option")
				continue
			}
			var scratch ServiceOptions
			if err := d.parse(v, &scratch); err != nil {
				bad(k, v, err.Error())
				continue
			}
			a.ServiceDefaults[name] = v
		}
	}
	return a, errs
}

func str(field func(*ServiceOptions) *string) func(string, *ServiceOptions) error {
	return func(v string, o *ServiceOptions) error { *field(o) = strings.TrimSpace(v); return nil }
}

func intMin(min int, field func(*ServiceOptions) *int) func(string, *ServiceOptions) error {
	return func(v string, o *ServiceOptions) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min {
			return fmt.Errorf("must be an integer of at least %d", min)
		}
		*field(o) = n
		return nil
	}
}

func secondsOpt(field func(*ServiceOptions) *time.Duration) func(string, *ServiceOptions) error {
	return func(v string, o *ServiceOptions) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer (seconds)")
		}
		*field(o) = time.Duration(n) * time.Second
		return nil
	}
}

func boolean(field func(*ServiceOptions) *bool) func(string, *ServiceOptions) error {
	return func(v string, o *ServiceOptions) error {
		b, ok := ParseBool(v)
		if !ok {
			return fmt.Errorf("must be true or false")
		}
		*field(o) = b
		return nil
	}
}

func keyList(field func(*ServiceOptions) *[]string) func(string, *ServiceOptions) error {
	return func(v string, o *ServiceOptions) error { *field(o) = splitList(v); return nil }
}

func oneOf(v string, field *string, allowed ...string) error {
	v = strings.TrimSpace(v)
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
	*field = v
	return nil
}

// ParseBool reads the booleans clients send: JSON true/false arrive here as
// the strings "true"/"false"; letter case is ignored.
func ParseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// unquoteEmpty reads `""` (as in the spec's `?_redirect=""`) as empty.
func unquoteEmpty(v string) string {
	v = strings.TrimSpace(v)
	if v == `""` || v == `''` {
		return ""
	}
	return v
}
