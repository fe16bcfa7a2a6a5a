package callbacks

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/calendar"
)

// maxAvailabilityDays bounds every calendar and availability window: the
// spec's "day parameter must be between 1 and 7".
const maxAvailabilityDays = 7

// SlotInfo is one bucket of an availability answer.
type SlotInfo struct {
	Start     time.Time
	Remaining int
	Total     int
}

// Availability is the answer to Query-Availability.
type Availability struct {
	Slots []SlotInfo
	// Bucket is the slot length in minutes.
	Bucket int
	// Location is the zone the v2 answer formats localTime in.
	Location *time.Location
}

// window is a parsed [start, end) period with the zone it was given in.
type window struct {
	start, end time.Time
	loc        *time.Location
}

// parseWindow reads the period parameters shared by availability (v1, v2)
// and the calendar query, refusing the combinations the spec forbids.
// defaultEnd gives the end when neither end nor number-of-days is set.
func parseWindow(q url.Values, v2 bool, defLoc *time.Location, now time.Time, defaultEnd func(start time.Time) time.Time) (window, error) {
	w := window{loc: defLoc}
	if w.loc == nil {
		w.loc = time.UTC
	}
	if tz := q.Get("timezone"); v2 && tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return w, callbackd.BadParameter(map[string]any{"option": "timezone"}, "Invalid timezone [%s]: use an IANA time zone such as America/Toronto", tz)
		}
		w.loc = loc
	}
	startKeys := []string{"start", "timestamp"}
	endKeys := []string{"end", "number-of-days"}
	if v2 {
		startKeys = append(startKeys, "start-ms")
		endKeys = append(endKeys, "end-ms")
	}
	startKey, err := onlyOne(q, startKeys)
	if err != nil {
		return w, err
	}
	endKey, err := onlyOne(q, endKeys)
	if err != nil {
		return w, err
	}
	w.start = now
	if startKey != "" {
		if w.start, err = parseWindowTime(startKey, q.Get(startKey), w.loc); err != nil {
			return w, err
		}
	}
	switch endKey {
	case "":
		w.end = defaultEnd(w.start)
	case "number-of-days":
		v := q.Get(endKey)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxAvailabilityDays {
			return w, callbackd.BadParameter(map[string]any{"day": v}, "day parameter must be between 1 and 7, inclusively. Actual value is: %s", v)
		}
		w.end = calendar.Resolve(w.start.In(w.loc).AddDate(0, 0, n), w.loc)
	default:
		if w.end, err = parseWindowTime(endKey, q.Get(endKey), w.loc); err != nil {
			return w, err
		}
	}
	if !w.end.After(w.start) {
		return w, callbackd.BadParameter(map[string]any{"option": endKey}, "The end of the requested period (%s) must be after its start (%s)", callbackd.FormatTime(w.end), callbackd.FormatTime(w.start))
	}
	if w.end.Sub(w.start) > maxAvailabilityDays*24*time.Hour+time.Hour { // +1h: a DST day
		return w, callbackd.BadParameter(map[string]any{"option": endKey}, "The requested period is longer than %d days", maxAvailabilityDays)
	}
	return w, nil
}

func onlyOne(q url.Values, keys []string) (string, error) {
	var set []string
	for _, k := range keys {
		if _, ok := q[k]; ok {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		return "", callbackd.BadParameter(map[string]any{"option": strings.Join(set, ",")}, "Set only one of the parameters %s", strings.Join(set, ", "))
	}
	if len(set) == 1 {
		return set[0], nil
	}
	return "", nil
}

// localLayouts are the zone-less forms the v2 example uses; such a time is
// read in the request's timezone (UTC by default).
var localLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

func parseWindowTime(key, v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if strings.HasSuffix(key, "-ms") {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, callbackd.BadParameter(map[string]any{"option": key}, "Invalid %s [%s]: expected milliseconds since 1970-01-01T00:00:00Z", key, v)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, err := callbackd.ParseTime(v); err == nil {
		return t, nil
	}
	for _, layout := range localLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return calendar.Resolve(t, loc), nil
		}
	}
	return time.Time{}, callbackd.BadParameter(map[string]any{"option": key}, "Invalid %s [%s]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z", key, v)
}

// Availability answers Query-Availability (v1 and v2, spec 001): the open
// buckets of the period with their remaining capacity, read from the
// store's counters (never by counting callbacks).
func (m *Manager) Availability(ctx context.Context, service string, v2 bool, q url.Values) (*Availability, error) {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	svc, err := callbackService(cfg, service)
	if err != nil {
		return nil, err
	}
	opts := svc.Options
	g, err := grid(cfg, service, opts)
	if err != nil {
		return nil, err
	}
	maxSlots := 0
	if v := q.Get("max-time-slots"); v != "" {
		if maxSlots, err = strconv.Atoi(v); err != nil || maxSlots < 1 {
			return nil, callbackd.BadParameter(map[string]any{"option": "max-time-slots"}, "Invalid max-time-slots [%s]: must be a positive integer", v)
		}
	}
	reportBusy := false
	if v := q.Get("report-busy"); v2 && v != "" {
		var ok bool
		if reportBusy, ok = callbackd.ParseBool(v); !ok {
			return nil, callbackd.BadParameter(map[string]any{"option": "report-busy"}, "Invalid report-busy [%s]: must be true or false", v)
		}
	}
	w, err := parseWindow(q, v2, g.Location(), now, func(start time.Time) time.Time {
		return calendar.BucketEnd(calendar.BucketStart(start, opts.RequestTimeBucket, g.Location()), opts.RequestTimeBucket, g.Location())
	})
	if err != nil {
		return nil, err
	}
	if !w.end.After(now) {
		return nil, callbackd.BadParameter(nil, "No time slots available. The requested time period is in the past.")
	}
	res := &Availability{Bucket: opts.RequestTimeBucket, Location: w.loc}
	slots := g.Slots(w.start, w.end)
	for len(slots) > 0 && slots[0].Start.Before(now) { // a past bucket cannot be booked
		slots = slots[1:]
	}
	if len(slots) == 0 {
		if open, _ := statusAt(g, w.start); !open && !v2 {
			return nil, &callbackd.Error{Code: callbackd.CodeSlotUnavailable, Properties: map[string]any{"service": service},
				Message: "Office is closed at " + callbackd.FormatTime(w.start) + ". No time slots proposed.", Availability: map[string]int{}}
		}
		return res, nil
	}
	used, err := m.slotUse(ctx, service, slots[0].Start, slots[len(slots)-1].Start.Add(time.Millisecond))
	if err != nil {
		return nil, err
	}
	res.Slots = make([]SlotInfo, 0, len(slots))
	for _, s := range slots {
		remaining := max(s.Total-used[s.Start.UnixMilli()], 0)
		if remaining == 0 && !(v2 && reportBusy && s.Total > 0) {
			continue
		}
		res.Slots = append(res.Slots, SlotInfo{Start: s.Start, Remaining: remaining, Total: s.Total})
		if maxSlots > 0 && len(res.Slots) == maxSlots {
			break
		}
	}
	return res, nil
}

func statusAt(g calendar.Grid, t time.Time) (bool, string) {
	if g.Hours == nil {
		return true, ""
	}
	return g.Hours.Status(t)
}

// OpenPeriods answers the calendar query of an office-hours service.
func (m *Manager) OpenPeriods(service string, q url.Values) ([]calendar.Period, *time.Location, error) {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	svc, ok := cfg.Service(service)
	if !ok {
		return nil, nil, callbackd.BadParameter(map[string]any{"service": service}, "Service undefined: %s", service)
	}
	if svc.OfficeHours == nil {
		return nil, nil, callbackd.BadParameter(map[string]any{"service": service}, "Service %s is not an office-hours service", service)
	}
	loc := svc.OfficeHours.Location()
	w, err := parseWindow(q, true, loc, now, func(start time.Time) time.Time {
		return calendar.Resolve(start.In(loc).AddDate(0, 0, 1), loc)
	})
	if err != nil {
		return nil, nil, err
	}
	return svc.OfficeHours.OpenPeriods(w.start, w.end), w.loc, nil
}
