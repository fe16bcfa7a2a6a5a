// Package prom exposes callbackd's metrics to Prometheus, through
// github.com/prometheus/client_golang: the one package that imports it.
// Everything else reports through small interfaces of its own
// (httpapi.RequestObserver, dispatch.Observer) or is wrapped (the Store),
// so that no other package knows which metrics library is in use.
//
// Series, all prefixed callbackd_:
//
//   - http_requests_total{method,route,status} and
//     http_request_duration_seconds{method,route}: route is the ServeMux
//     pattern ("/genesys/1/service/callback/{service}"), never the raw
//     path, and "unmatched" for requests no route took, so that ids in URLs
//     and scanners probing random paths cannot multiply series; methods
//     outside the standard ones count as OTHER. The event stream's duration
//     is the life of the connection.
//   - callbacks{service,state}: callbacks in the store, counted at scrape
//     time. A count reads a whole index (about 0.2 s with a million
//     callbacks on SQLite, 0.3-0.5 s on PostgreSQL; BENCHMARKS.md), so one
//     count serves every scrape for CountTTL (15 s by default), and
//     concurrent scrapes wait for the same count. With PostgreSQL every
//     node reports the same, database-wide, counts: aggregate with max(),
//     not sum().
//   - dispatch_lateness_seconds{via}: from a callback's due time to the
//     executor accepting it (business time, from the Clock), for callbacks
//     the dispatch loop claimed (via="loop") and immediate ones submitted
//     within their Start request (via="request").
//   - submit_failures_total{kind}: failed submission attempts, by kind
//     (dispatch's Failure constants: retryable, max_attempts, permanent,
//     configuration).
//   - store_operation_duration_seconds{op}: every Store method, by name,
//     and every AgentStore method when the store keeps agents (both real
//     stores do; the wrapper then is an AgentStore too).
//
// plus the Go runtime's and the process's standard series (go_*,
// process_*).
package prom
