package httpapi

import (
	"net/http"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
)

// dummyHash is compared against when the user is unknown, so that an
// unknown user takes as long to refuse as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("callbackd-no-such-user"), bcrypt.DefaultCost)

// requireUser protects admin routes with Basic authentication against the
// [users] section (bcrypt hashes). Without users, the admin API refuses
// everyone.
func (s *Server) requireUser(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name, password, ok := r.BasicAuth()
		hash, known := s.Config().Users[name]
		if !known {
			hash = string(dummyHash)
		}
		if !ok || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !known {
			s.Logger.Warn("admin authentication failed", "request_id", RequestID(r.Context()), "user", name, "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Basic realm="callbackd", charset="UTF-8"`)
			s.writeError(w, r, callbackd.Errorf(callbackd.CodeUnauthorized, nil, "Authentication required: use Basic authentication with a user of the [users] section"))
			return
		}
		next(w, r)
	}
}
