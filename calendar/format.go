package calendar

import "time"

// TimeLayout is the wire format of every time the API exchanges:
// yyyy-MM-ddTHH:mm:ss.SSSZ. Some client parsers require both the
// milliseconds and the literal Z.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatUTC renders t in the wire format (TimeLayout), always in UTC and
// always with milliseconds, whatever zone t carries.
func FormatUTC(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}
