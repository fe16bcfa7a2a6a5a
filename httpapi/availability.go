package httpapi

import (
	"net/http"
	"time"

	"github.com/callbackd/callbackd"
)

// localLayout is how v2 renders localTime (the spec's example: no zone).
const localLayout = "2006-01-02T15:04:05.000"

// availabilityV1 is GET {base}/1/service/callback/{service}/availability:
// an ascending map of slot start to remaining capacity.
func (s *Server) availabilityV1(w http.ResponseWriter, r *http.Request) {
	a, err := s.Manager.Availability(r.Context(), r.PathValue("service"), false, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make(map[string]int, len(a.Slots)) // encoding/json sorts keys: ascending times
	for _, sl := range a.Slots {
		out[callbackd.FormatTime(sl.Start)] = sl.Remaining
	}
	writeJSON(w, http.StatusOK, out)
}

type slotV2 struct {
	UTCTime   string `json:"utcTime"`
	LocalTime string `json:"localTime"`
	Capacity  int    `json:"capacity"`
	Total     int    `json:"total"`
}

type availabilityV2Body struct {
	Slots       []slotV2 `json:"slots"`
	DurationMin int      `json:"durationMin"`
	Timezone    string   `json:"timezone"`
}

// availabilityV2 is GET {base}/2/service/callback/{service}/availability.
func (s *Server) availabilityV2(w http.ResponseWriter, r *http.Request) {
	a, err := s.Manager.Availability(r.Context(), r.PathValue("service"), true, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := availabilityV2Body{Slots: make([]slotV2, 0, len(a.Slots)), DurationMin: a.Bucket, Timezone: a.Location.String()}
	for _, sl := range a.Slots {
		body.Slots = append(body.Slots, slotV2{
			UTCTime: callbackd.FormatTime(sl.Start), LocalTime: sl.Start.In(a.Location).Format(localLayout),
			Capacity: sl.Remaining, Total: sl.Total,
		})
	}
	writeJSON(w, http.StatusOK, body)
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
