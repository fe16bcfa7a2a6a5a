package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// OptionError is one bad option of an office-hours or capacity service. It
// names the option and repeats its value so an operator can find the line to
// fix without reading code; parsers return every one they find, not just the
// first, so a configuration is fixed in one pass.
type OptionError struct {
	Option  string
	Value   string
	Message string
}

// Error renders the problem as `option = "value": message`.
func (e OptionError) Error() string {
	return fmt.Sprintf("%s = %q: %s", e.Option, e.Value, e.Message)
}

// hasIndexedPrefix reports whether name is prefix alone or prefix followed by
// an index such as "1", "_2" or "-xmas": the original system numbers these
// options (_bh_regular1, _bh_regular2...) only to keep the names unique.
func hasIndexedPrefix(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// sortedKeys returns the option names in order, so errors come out in a
// stable order whatever the map iteration does.
func sortedKeys(opts map[string]string) []string {
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseTimezone reads _timezone. An empty value means UTC; "Local" is refused
// because it would make the calendar depend on the host's settings.
func parseTimezone(v string) (*time.Location, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.UTC, nil
	}
	if strings.EqualFold(v, "local") {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris", v)
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Paris", v)
	}
	return loc, nil
}
