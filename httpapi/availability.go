package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/callbackd/callbackd"
)

// localLayout is how local times are rendered (the spec's v2 example: no
// zone).
const localLayout = "2006-01-02T15:04:05.000"

// availabilityV1 is GET {base}/1/service/callback/{service}/availability:
// an ascending map of slot start to remaining capacity.
func (s *Server) availabilityV1(w http.ResponseWriter, r *http.Request) {
	a, err := s.Manager.Availability(r.Context(), r.PathValue("service"), false, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Written by hand: slots are already ascending, and a week of buckets
	// through reflection costs more than the rest of the request.
	b := make([]byte, 0, 32*len(a.Slots)+2)
	b = append(b, '{')
	for i, sl := range a.Slots {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = callbackd.AppendTime(b, sl.Start.UTC(), true)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, int64(sl.Remaining), 10)
	}
	b = append(b, '}', '\n')
	writeRawJSON(w, b)
}

// availabilityV2 is GET {base}/2/service/callback/{service}/availability.
func (s *Server) availabilityV2(w http.ResponseWriter, r *http.Request) {
	a, err := s.Manager.Availability(r.Context(), r.PathValue("service"), true, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Written by hand, as v1: {"slots":[{"utcTime","localTime","capacity",
	// "total"}...],"durationMin":N,"timezone":"..."}.
	tz, _ := json.Marshal(a.Location.String())
	b := make([]byte, 0, 96*len(a.Slots)+64)
	b = append(b, `{"slots":[`...)
	for i, sl := range a.Slots {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"utcTime":"`...)
		b = callbackd.AppendTime(b, sl.Start.UTC(), true)
		b = append(b, `","localTime":"`...)
		b = callbackd.AppendTime(b, sl.Start.In(a.Location), false)
		b = append(b, `","capacity":`...)
		b = strconv.AppendInt(b, int64(sl.Remaining), 10)
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, int64(sl.Total), 10)
		b = append(b, '}')
	}
	b = append(b, `],"durationMin":`...)
	b = strconv.AppendInt(b, int64(a.Bucket), 10)
	b = append(b, `,"timezone":`...)
	b = append(b, tz...)
	b = append(b, '}', '\n')
	writeRawJSON(w, b)
}

type periodBody struct {
	Start      string `json:"start"`
	End        string `json:"end"`
	LocalStart string `json:"localStart"`
	LocalEnd   string `json:"localEnd"`
}

// officeHours is GET {base}/1/service/{office-hours-service}: the open
// periods of an office-hours service.
func (s *Server) officeHours(w http.ResponseWriter, r *http.Request) {
	periods, loc, err := s.Manager.OpenPeriods(r.PathValue("service"), r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]periodBody, len(periods))
	local := func(t time.Time) string { return t.In(loc).Format(localLayout) }
	for i, p := range periods {
		out[i] = periodBody{callbackd.FormatTime(p.Start), callbackd.FormatTime(p.End), local(p.Start), local(p.End)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"timezone": loc.String(), "periods": out})
}
