package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/numbers"
)

// phoneNumber is GET {base}/1/phonenumber?number=&country=: what callbackd
// knows of a number (validity, type, E.164, country code, time zones), so a
// web form can check a number before offering a callback.
func (s *Server) phoneNumber(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	number := strings.TrimSpace(q.Get("number"))
	if number == "" {
		s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "number"}, "Missing parameter number"))
		return
	}
	country := strings.TrimSpace(q.Get("country"))
	if country == "" {
		country = "US"
	}
	if !numbers.KnownCountry(country) {
		s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "country"}, "Invalid country [%s]: use an ISO 3166 alpha-2 code such as US or FR", country))
		return
	}
	info, err := numbers.Lookup(number, country)
	if err != nil {
		var pe *numbers.ParseError
		if errors.As(err, &pe) {
			s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "number"}, "%s", pe.Error()))
			return
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}
