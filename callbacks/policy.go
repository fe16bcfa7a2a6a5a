package callbacks

import (
	"errors"
	"strings"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/numbers"
)

// checkNumberPolicy applies the number checks of spec 001
// (_disallow_impossible_phone_numbers, _disallow_premium_phone_numbers)
// and the service's _exceptions pattern group.
func checkNumberPolicy(cfg *callbackd.Config, service string, opts callbackd.ServiceOptions, p Params) error {
	number := strings.TrimSpace(p[callbackd.KeyCustomerNumber])
	// The operator's explicit deny-list first: it is the more specific rule.
	if opts.Exceptions != "" {
		group, ok := cfg.Patterns[opts.Exceptions]
		if !ok { // only possible when a request names the group (overwritable)
			return callbackd.BadConfiguration(service, "Option service.%s / _exceptions names no [pattern.%s] section", service, opts.Exceptions)
		}
		if rej := group.CheckRequest(number, p); rej != nil {
			return numberError(service, rej)
		}
		// Also the E.164 form, so that \+1900\d+ blocks 1-900 numbers however
		// they were typed.
		if e164 := numbers.Normalize(number, opts.DefaultCountry); number != "" && e164 != number {
			if rej := group.CheckRequest(e164, nil); rej != nil {
				return numberError(service, rej)
			}
		}
	}
	if number == "" {
		return checkNumberConfig(service, opts)
	}
	policy := numbers.Policy{DefaultCountry: opts.DefaultCountry, DisallowImpossible: opts.DisallowImpossible, DisallowPremium: opts.DisallowPremium}
	if _, err := policy.Check(number); err != nil {
		return numberError(service, err)
	}
	return nil
}

// numberError turns the number package's refusals into API errors.
func numberError(service string, err error) error {
	var rej *numbers.Rejection
	if errors.As(err, &rej) {
		return &callbackd.Error{Code: callbackd.CodeNumberRejected, Message: rej.Message, Properties: rej.Properties()}
	}
	var ce *numbers.ConfigError
	if errors.As(err, &ce) {
		return callbackd.BadConfiguration(service, "%s", ce.Message(service))
	}
	return err
}

// checkNumberConfig answers spec 001's BAD_CONFIGURATION for number checks
// that cannot run without a country, also when the request carries no
// number to check.
func checkNumberConfig(service string, opts callbackd.ServiceOptions) error {
	if opts.DefaultCountry != "" {
		return nil
	}
	for _, c := range []struct {
		on     bool
		option string
	}{{opts.DisallowImpossible, numbers.OptionImpossible}, {opts.DisallowPremium, numbers.OptionPremium}} {
		if c.on {
			return callbackd.BadConfiguration(service, "%s", numbers.MissingCountryMessage(service, c.option))
		}
	}
	return nil
}

// lookupValue is how a lookup value is indexed and searched; both sides go
// through it so that they always agree. Customer numbers are indexed in
// E.164, so 555-546-1206, 5555461206 and +1 555 546 1206 find each other.
func lookupValue(key, value, country string) string {
	value = strings.TrimSpace(value)
	if key == callbackd.KeyCustomerNumber && value != "" {
		return numbers.Normalize(value, country)
	}
	return value
}

// lookupValues are the index entries of a callback's lookup keys.
func lookupValues(cb *callbackd.Callback, opts callbackd.ServiceOptions) map[string]string {
	out := make(map[string]string, len(opts.CustomerLookupKeys))
	for _, k := range opts.CustomerLookupKeys {
		if v, ok := cb.Get(k); ok && v != "" {
			out[k] = lookupValue(k, v, opts.DefaultCountry)
		}
	}
	return out
}

// Hold key prefixes. Keys end with values that sort in time or text order,
// so a range of keys is one index scan.
const (
	holdInQueue = "inqueue/"
)

// inQueueLimit is how many unfinished callbacks one number may have in a
// service (_enable_in_queue_checking): true allows 2, strict 1.
func inQueueLimit(opts callbackd.ServiceOptions) int {
	switch opts.InQueueChecking {
	case "strict":
		return 1
	case "true":
		return 2
	}
	return 0
}

// holdsFor computes the holds a callback must have in its current state:
// its capacity bucket (slot, or the one it already holds when slot is nil,
// so that a property update never re-books the bucket) and its place among
// the customer's unfinished callbacks.
func holdsFor(cb *callbackd.Callback, opts callbackd.ServiceOptions, slot *callbackd.Hold) []callbackd.Hold {
	if cb.State == callbackd.StateCompleted {
		return nil
	}
	var holds []callbackd.Hold
	if slot != nil {
		holds = append(holds, *slot)
	}
	for _, h := range cb.Holds { // keep what is not recomputed here
		if (slot == nil || !strings.HasPrefix(h.Key, holdSlot)) && !strings.HasPrefix(h.Key, holdInQueue) {
			holds = append(holds, h)
		}
	}
	if limit := inQueueLimit(opts); limit > 0 && cb.CustomerNumber != "" {
		holds = append(holds, callbackd.Hold{
			Key:   holdInQueue + cb.Service + "/" + lookupValue(callbackd.KeyCustomerNumber, cb.CustomerNumber, opts.DefaultCountry),
			Limit: limit,
		})
	}
	return holds
}
