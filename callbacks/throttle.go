package callbacks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// Hold key prefixes of the throttles.
const (
	holdQueued = "queued/" // QUEUED immediate callbacks of a service
	holdRate   = "rate/"   // accepted callbacks of a service in a sliding window
	holdDay    = "day/"    // accepted callbacks per parameter value and day
)

// dayWindow covers any local day: a day key names its date, so the window
// only has to be long enough for the key's uses to be counted.
const dayWindow = 48 * time.Hour

// throttleHolds are the holds that enforce _max_queued_callbacks_per_service
// (immediate callbacks only), the two per-service sliding windows and the
// daily per-parameter limit. Uses are counted when a callback is accepted;
// refused requests do not count. A limit of 0 disables a window; for the
// queued limit, 0 refuses every immediate callback (CLIENTS.md).
func throttleHolds(service string, opts callbackd.ServiceOptions, loc *time.Location, p Params, immediate bool, now time.Time) ([]callbackd.Hold, error) {
	th := opts.Throttle
	var holds []callbackd.Hold
	if immediate {
		if th.MaxQueuedPerSvc == 0 {
			return nil, queuedLimitError(service, 0)
		}
		holds = append(holds, callbackd.Hold{Key: holdQueued + service, Limit: th.MaxQueuedPerSvc, While: callbackd.StateQueued})
	}
	for i, w := range []struct {
		limit int
		ttl   time.Duration
	}{{th.PerService1, th.TTL1}, {th.PerService2, th.TTL2}} {
		if w.limit > 0 && w.ttl > 0 {
			holds = append(holds, callbackd.Hold{Key: rateKey(service, i+1), Limit: w.limit, Window: w.ttl, At: now})
		}
	}
	if th.ParamsLimit > 0 {
		day := now.In(loc).Format("2006-01-02")
		for _, param := range th.RequestParams {
			v := strings.TrimSpace(p[param])
			if v == "" {
				continue
			}
			key := holdDay + service + "/" + day + "/" + param + "=" + lookupValue(param, v, opts.DefaultCountry)
			holds = append(holds, callbackd.Hold{Key: key, Limit: th.ParamsLimit, Window: dayWindow, At: now})
		}
	}
	return holds, nil
}

func rateKey(service string, window int) string {
	return holdRate + service + "/" + string(rune('0'+window))
}

func throttleProps(service string, interval time.Duration, parameter string, attempts int) map[string]any {
	return map[string]any{"service": service, "interval": int64(interval / time.Second), "parameter": parameter, "attempts": attempts}
}

func queuedLimitError(service string, limit int) error {
	return callbackd.Errorf(callbackd.CodeThrottleServiceLimit, throttleProps(service, 0, "", limit),
		"Limit of queued callbacks for %s is reached.", service)
}

// limitError turns a store's LimitError into the API error of the limit.
func limitError(err error, service string, opts callbackd.ServiceOptions, p Params) error {
	var le *callbackd.LimitError
	if !errors.As(err, &le) {
		return err
	}
	th := opts.Throttle
	switch {
	case strings.HasPrefix(le.Key, holdInQueue):
		return callbackd.Errorf(callbackd.CodeNumberAlreadyBooked, map[string]any{"max_queued": le.Limit},
			"There is already %d or more Callbacks QUEUED for this number, please refer to _enable_in_queue_checking for detail.", le.Limit)
	case strings.HasPrefix(le.Key, holdQueued):
		return queuedLimitError(service, le.Limit)
	case le.Key == rateKey(service, 1), le.Key == rateKey(service, 2):
		ttl := th.TTL1
		if le.Key == rateKey(service, 2) {
			ttl = th.TTL2
		}
		return callbackd.Errorf(callbackd.CodeThrottleIntervalLimit, throttleProps(service, ttl, "", le.Limit),
			"Limit of queued callbacks for %s is reached for interval %ds.", service, int64(ttl/time.Second))
	case strings.HasPrefix(le.Key, holdDay):
		param, _, _ := strings.Cut(le.Key[strings.LastIndex(le.Key, "/")+1:], "=")
		return callbackd.Errorf(callbackd.CodeThrottleParameterLimit, throttleProps(service, 24*time.Hour, param, le.Limit),
			"Callback for %s=%s rejected because previous callbacks for this parameter were requested for more than %d times today.",
			param, strings.TrimSpace(p[param]), le.Limit)
	}
	return err
}

// rateHorizon is how far back a use of any rate hold of cfg can count: the
// daily window, or a longer configured throttle window. (A window a
// request sets through _overwritable_options is not seen here: such uses
// are pruned at this horizon.)
func rateHorizon(cfg *callbackd.Config) time.Duration {
	h := dayWindow
	for _, svc := range cfg.Services {
		h = max(h, svc.Options.Throttle.TTL1, svc.Options.Throttle.TTL2)
	}
	return h
}

// PruneThrottleUses deletes the throttle uses no window counts any more,
// batch keys per transaction, and returns how many keys it pruned. Uses
// of a service-wide window go as the window slides, but a daily
// per-number key is never taken again after its day, and its uses would
// keep the customer's number in the store for good.
func (m *Policy) PruneThrottleUses(ctx context.Context, now time.Time, batch int) (int, error) {
	before := now.Add(-rateHorizon(m.Config()))
	batch = max(batch, 1)
	total := 0
	for {
		n, err := m.Store.PruneRateUses(ctx, before, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
