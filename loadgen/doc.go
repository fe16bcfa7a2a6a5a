// Package loadgen is callbackd's load tool (`callbackd bench`) and the
// baseline it is measured against (`callbackd baseline`).
//
// A run sends a mix of requests (scheduled and immediate Start, Query,
// availability v1 and v2, Reschedule, Cancel) over HTTP with a number of
// connections, each worker keeping its own HTTP/1.1 connection and sending
// one request at a time. Without a rate the run is closed-loop: a worker
// sends its next request as soon as the answer to the last one is in, so
// the throughput is what the service sustains at that concurrency. With a
// rate it is open-loop: request i is due at start+i/rate, and its latency
// counts from then, not from when a worker got round to sending it, so a
// service that stalls shows in the percentiles instead of quietly slowing
// the load down (coordinated omission). Requests are chosen by a smooth
// weighted round-robin over the mix, not at random, so a run of N requests
// has exactly the mix's counts.
//
// Gotchas, and why the code is as it is:
//
//   - The tool runs on the machine it measures (2 cores in CI), so it
//     must be cheap: it writes requests and reads answers on raw
//     connections rather than through http.Client, which cost three times
//     the CPU per request. It speaks plain HTTP only.
//   - Latency percentiles are exact, from every sample (8 bytes each), not
//     estimated; there are no averages in the report.
//   - Reschedule, Cancel and Query work on callbacks the run created: a
//     pool filled before the clock starts (Options.Pool, or a preload)
//     and by every scheduled Start. A callback is taken out of the pool
//     while it is rescheduled or cancelled, so two requests never race on
//     one callback and draw a refusal that would be the tool's fault.
//   - Customer numbers are unique (Numbers), so the number policy,
//     in-queue checking and the per-number throttle run as in production
//     and refuse nothing; desired times are spread over the next week so
//     capacity buckets fill evenly.
//   - Dates the service sees (desired times, availability periods) come
//     from Options.Clock, so a test can run the tool against a server on a
//     manual clock; pacing and latency always use the machine's clock.
//   - The baseline is a plain net/http handler with the same routes,
//     request decoding and response shapes as callbackd and nothing
//     behind them. Measured in the same minute on the same machine, the
//     ratio callbackd/baseline holds on a noisy machine where raw figures
//     do not.
package loadgen
