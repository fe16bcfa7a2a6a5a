package server

import (
	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/simdialer"
)

// newDialer builds the dialer [dialer] names. The simulated one is also
// what builtin services use without a [dialer] section (a warning says so
// at every start); the SIP dialer is refused by the configuration until
// it exists.
func newDialer(cfg callbackd.DialerConfig, clock callbackd.Clock) callbackd.Dialer {
	rules := make([]simdialer.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = simdialer.Rule{Outcome: r.Outcome, Pattern: r.Pattern}
	}
	return simdialer.New(simdialer.Options{Clock: clock, Rules: rules, Ring: cfg.Ring, Talk: cfg.Talk})
}
