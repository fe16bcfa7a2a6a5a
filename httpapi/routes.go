package httpapi

import "net/http"

// route is one endpoint. The mux is built from the table below, and the
// OpenAPI test checks the table against openapi.json both ways, so the
// document cannot drift from what is served.
type route struct {
	method string
	// path is below the base path ({base}/1/...), or from the root when
	// root is set: probes and scrapes have fixed paths whatever base_path
	// is, so orchestrators and Prometheus need no per-site setting.
	path    string
	root    bool
	handler http.HandlerFunc
}

// routes is every endpoint of the API.
func (s *Server) routes() []route {
	cb := "/1/service/callback"
	return []route{
		{"POST", cb + "/{service}", false, s.startCallback},
		{"GET", cb + "/{service}", false, s.queryCallbacks},
		{"GET", cb, false, s.queryCallbacks},
		{"PUT", cb + "/{service}/{id}", false, s.updateCallback},
		{"DELETE", cb + "/{service}/{id}", false, s.cancelCallback},
		{"GET", cb + "/{service}/availability", false, s.availabilityV1},
		{"GET", "/2/service/callback/{service}/availability", false, s.availabilityV2},
		{"GET", "/1/service/{service}", false, s.officeHours},
		{"GET", "/1/phonenumber", false, s.phoneNumber},
		{"POST", "/1/admin/callback/pause", false, s.requireUser(s.pauseServices(true))},
		{"POST", "/1/admin/callback/resume", false, s.requireUser(s.pauseServices(false))},
		{"GET", "/1/events", false, s.listEvents},
		{"GET", "/1/events/stream", false, s.streamEvents},
		{"GET", "/openapi.json", false, s.openAPI},
		// Operations: outside the admin authentication, so that probes and
		// scrapers need no password (see README, Operations).
		{"GET", "/healthz", true, s.healthz},
		{"GET", "/readyz", true, s.readyz},
		{"GET", "/metrics", true, s.metrics},
	}
}

// opsRoute reports whether a pattern path is a probe or scrape, which are
// logged at debug level: they come every few seconds and say nothing.
func opsRoute(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}
