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
	path string
	root bool
	// first puts the route on a mux consulted before the others:
	// {base}/1/service/{id}/check-queue-position overlaps
	// {base}/1/service/callback/{service} at .../callback/check-queue-position,
	// which one ServeMux refuses to hold. A callback id is never "callback".
	first   bool
	handler http.HandlerFunc
}

// routes is every endpoint of the API.
func (s *Server) routes() []route {
	cb := "/1/service/callback"
	all := append([]route{
		{method: "POST", path: cb + "/{service}", handler: s.startCallback},
		{method: "GET", path: cb + "/{service}", handler: s.queryCallbacks},
		{method: "GET", path: cb, handler: s.queryCallbacks},
		{method: "PUT", path: cb + "/{service}/{id}", handler: s.updateCallback},
		{method: "DELETE", path: cb + "/{service}/{id}", handler: s.cancelCallback},
		{method: "GET", path: cb + "/{service}/availability", handler: s.availabilityV1},
		{method: "GET", path: "/2/service/callback/{service}/availability", handler: s.availabilityV2},
		{method: "GET", path: "/1/service/{service}", handler: s.officeHours},
		{method: "GET", path: "/1/service/{id}/check-queue-position", first: true, handler: s.checkQueuePosition},
		{method: "POST", path: "/1/service/{id}/check-queue-position", first: true, handler: s.checkQueuePosition},
		{method: "GET", path: "/1/service/ewt-for-vq", handler: s.ewtForVQ},
		{method: "GET", path: "/2/ewt", handler: s.ewtForVQ},
		{method: "GET", path: "/1/phonenumber", handler: s.phoneNumber},
		// Admin: Basic authentication or the spec's auth object.
		{method: "POST", path: "/1/admin/callback/pause", handler: s.requireUser(s.pauseServices(true))},
		{method: "POST", path: "/1/admin/callback/resume", handler: s.requireUser(s.pauseServices(false))},
		{method: "GET", path: "/1/admin/callback/queues", handler: s.requireUser(s.adminQueues)},
		{method: "GET", path: "/1/admin/callback/watermarks", handler: s.requireUser(s.adminWatermarks)},
		{method: "POST", path: "/1/admin/callback/ops/delete", handler: s.requireUser(s.adminForget)},
		{method: "POST", path: "/1/admin/callback/cancel", handler: s.requireUser(s.adminCancel)},
		{method: "POST", path: "/1/admin/callback/reportcancelled", handler: s.requireUser(s.reportCancelled)},
		// Events carry customers' data: operators only.
		{method: "GET", path: "/1/events", handler: s.requireUser(s.listEvents)},
		{method: "GET", path: "/1/events/stream", handler: s.requireUser(s.streamEvents)},
		{method: "GET", path: "/openapi.json", handler: s.openAPI},
	}, s.agentRoutes()...)
	return append(all,
		// Operations: outside the admin authentication, so that probes and
		// scrapers need no password (see README, Operations).
		route{method: "GET", path: "/healthz", root: true, handler: s.healthz},
		route{method: "GET", path: "/readyz", root: true, handler: s.readyz},
		route{method: "GET", path: "/metrics", root: true, handler: s.metrics},
	)
}

// opsRoute reports whether a pattern path is a probe or scrape, which are
// logged at debug level: they come every few seconds and say nothing.
func opsRoute(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}
