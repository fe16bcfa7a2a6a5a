package server

import (
	"fmt"
	"io"
	"os"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/simdialer"
)

// newDialer builds the dialer [dialer] names. The simulated one is also
// what builtin services use without a [dialer] section (a warning says so
// at every start); the SIP dialer is refused by the configuration until
// it exists.
func newDialer(cfg callbackd.DialerConfig, clock callbackd.Clock) (callbackd.Dialer, io.Closer, error) {
	rules := make([]simdialer.Rule, len(cfg.Rules))
	for i, r := range cfg.Rules {
		rules[i] = simdialer.Rule{Outcome: r.Outcome, Pattern: r.Pattern}
	}
	o := simdialer.Options{Clock: clock, Rules: rules, Ring: cfg.Ring, Talk: cfg.Talk}
	var closer io.Closer = io.NopCloser(nil)
	if cfg.Journal != "" {
		f, err := os.OpenFile(cfg.Journal, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("dialer: journal: %w", err)
		}
		o.Journal, closer = f, f
	}
	return simdialer.New(o), closer, nil
}
