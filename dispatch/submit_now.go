package dispatch

import (
	"context"
	"errors"

	"github.com/callbackd/callbackd"
)

// SubmitNow submits one immediate callback within the client's request, as
// GMS did, retrying retryable failures with backoff up to the service's
// _max_ors_submit_attempts. It answers ORS_MAX_SUBMIT_RETRIES (50006) when
// every attempt failed, ORS_ERROR (50030) for a permanent failure; the
// callback is then COMPLETED with SUBMIT_ERROR. If the callback is not
// claimable (the background loop has it), SubmitNow leaves it to the loop.
// If the client goes away, the loop finishes the job.
func (d *Dispatcher) SubmitNow(ctx context.Context, id string) error {
	for {
		claimed, err := d.claim(ctx, id)
		if err != nil || len(claimed) == 0 {
			return err
		}
		paused, err := d.paused(ctx)
		if err != nil {
			return err
		}
		out := d.submit(context.WithoutCancel(ctx), claimed[0], paused, ViaRequest)
		switch {
		case out.done:
			return nil
		case out.retryable:
			if !d.o.Sleep(ctx, d.o.Backoff(claimed[0].SubmitAttempts)) {
				return nil // the client left; the loop retries
			}
		case out.err != nil:
			var se *callbackd.SubmitError
			if errors.As(out.err, &se) && !se.Retryable {
				return callbackd.Errorf(callbackd.CodeORSError, map[string]any{"id": id}, "%s", out.err.Error())
			}
			return callbackd.Errorf(callbackd.CodeORSMaxSubmitRetries, map[string]any{"id": id, "max-attempts": out.max},
				"Callback %s reached maximum attempts to submit to ORS reached (%d)", id, out.max)
		default:
			return nil
		}
	}
}
