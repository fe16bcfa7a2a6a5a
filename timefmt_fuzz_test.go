package callbackd_test

import (
	"testing"

	"github.com/callbackd/callbackd"
)

// FuzzParseTime: client times must never panic the parser, and a parsed
// time must survive a round trip through the wire format.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2013-05-28T15:30:00.000Z", "2013-05-28T17:30:00+02:00", "2013-05-28T17:30:00.000+0200", "", "9999-99-99T99:99:99Z", "2013-05-28T15:30Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := callbackd.ParseTime(s)
		if err != nil {
			return
		}
		again, err := callbackd.ParseTime(callbackd.FormatTime(got))
		if err != nil || !again.Equal(got) {
			t.Fatalf("round trip of %q: %v -> %v (%v)", s, got, again, err)
		}
	})
}
