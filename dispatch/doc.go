// Package dispatch hands due callbacks to execution, exactly once per
// attempt, even across crashes and several nodes.
//
// The schedule lives in the store, not in memory: every callback carries
// when it is next due. A dispatcher claims a bounded batch of due
// callbacks in one transaction (the domain's Claim: QUEUED, attempt+1, a
// lease in its name) before it calls the executor, so a crash at any
// instant leaves a record of the attempt:
//
//   - crash before the claim commits: nothing happened; the callback is
//     still due and is claimed again;
//   - crash after the claim, before or during the submission: the lease
//     expires and the callback is claimed again under the next attempt
//     number, hence a new idempotency key (callback id + attempt). Nothing
//     is lost; a platform that received the first attempt sees two keys
//     for one callback id, which the protocol asks it to treat as one
//     callback (at most one live session per _id);
//   - crash after the submission, before its result is recorded: same as
//     above.
//
// The lease (default 60 s) must outlive the executor's timeout (10 s), so a
// slow submission is never re-claimed while it is still running; a claim
// that waited in its batch until less than half of its lease is left is
// handed back unused (same attempt number) rather than started. Results
// are recorded only while the lease is still the dispatcher's own: a
// dispatcher that lost its lease (it stalled for longer than the lease)
// does not overwrite what the new owner did. An executor that records
// the hand-over itself (the built-in engine: ServiceOptions.RecordsHandOver)
// releases the lease in that write, and the dispatcher records nothing.
//
// The loop overlaps batches (see loop.go): Workers goroutines take claimed
// callbacks from a queue of at most Workers, and the next batch is claimed
// as soon as the previous one is queued, so a claim waits behind at most
// Batch+Workers others and the lease rule above still applies to each.
// RunOnce, for tests, claims one batch and returns when it is recorded.
//
// Several nodes must agree on when a callback is due and when a lease
// ends: on PostgreSQL the Clock they are given is the database's
// (postgres.Clock, wired by package server), not the machine's. While the
// store fails, the loop backs off up to 5 s between claims.
//
// Failures the executor calls retryable are retried with exponential
// backoff up to the service's _max_ors_submit_attempts; then, or at once
// for a permanent failure, the callback is COMPLETED with SUBMIT_ERROR.
// A callback cancelled while its submission was in flight is cancelled at
// the executor as soon as the session id comes back.
package dispatch
