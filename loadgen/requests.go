package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/callbackd/callbackd"
)

// scheduleAhead and scheduleWindow place scheduled callbacks: desired
// times are uniform over [now+1h, now+7d), far from the immediate
// threshold (_request_execution_time_buffer + EWT) and within the 30 days
// a service accepts, spread over the 2,016 five-minute buckets a week
// availability query reads.
const (
	scheduleAhead  = time.Hour
	scheduleWindow = 7*24*time.Hour - scheduleAhead
)

// client sends the requests of one worker, on its own connection.
type client struct {
	conn     conn
	base     string // {path}/1/service/callback/{service}
	base2    string // {path}/2/service/callback/{service}
	days     string
	clock    callbackd.Clock
	numbers  *Numbers
	pool     *pool
	rand     *rand.Rand
	keepIDs  bool
	created  []CreatedID
	fallback int // reschedules and cancels sent as starts: the pool was empty
}

// CreatedID is a callback a run created, kept when Options.KeepIDs asks.
type CreatedID struct {
	ID string
	Op Op
	// Cancelled is set when the run cancelled it later.
	Cancelled bool
}

func newClient(o *Options, p *pool, seed uint64) *client {
	addr, host, prefix, _ := target(o.URL) // checked by Options.check
	svc := url.PathEscape(o.Service)
	return &client{
		conn: conn{addr: addr, host: host, timeout: o.Timeout},
		base: prefix + "/1/service/callback/" + svc, base2: prefix + "/2/service/callback/" + svc,
		days: strconv.Itoa(o.AvailDays), clock: o.Clock, numbers: o.Numbers, pool: p,
		rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), keepIDs: o.KeepIDs,
	}
}

// desired returns a random desired time for a scheduled callback.
func (c *client) desired() string {
	return callbackd.FormatTime(c.clock.Now().Add(scheduleAhead + time.Duration(c.rand.Int64N(int64(scheduleWindow)))))
}

// do sends one request of op and returns what went wrong, or nil for a
// 200 with the body the op expects. It returns the op actually sent: a
// reschedule or cancel with no callback to work on becomes a start.
func (c *client) do(op Op) (Op, *ErrorKey) {
	switch op {
	case OpStart:
		return op, c.start(op, c.desired())
	case OpStartNow:
		return op, c.start(op, "")
	case OpQuery:
		number := c.numbers.Next() // unknown: answered [] as fast as a miss can be
		if cb, ok := c.pool.peek(c.rand); ok {
			number = cb.number
		}
		_, fail := c.send(http.MethodGet, c.base+"?_customer_number="+number, "")
		return op, fail
	case OpAvail1:
		start := url.QueryEscape(callbackd.FormatTime(c.clock.Now()))
		_, fail := c.send(http.MethodGet, c.base+"/availability?start="+start+"&number-of-days="+c.days, "")
		return op, fail
	case OpAvail2:
		start := url.QueryEscape(callbackd.FormatTime(c.clock.Now()))
		_, fail := c.send(http.MethodGet, c.base2+"/availability?start="+start+"&number-of-days="+c.days+"&report-busy=true", "")
		return op, fail
	case OpReschedule, OpCancel:
		cb, ok := c.pool.take(c.rand)
		if !ok {
			c.fallback++
			return OpStart, c.start(OpStart, c.desired())
		}
		if op == OpReschedule {
			_, fail := c.send(http.MethodPut, c.base+"/"+url.PathEscape(cb.id), `{"_new_desired_time":"`+c.desired()+`"}`)
			c.pool.put(cb) // still scheduled, whatever the answer
			return op, fail
		}
		_, fail := c.send(http.MethodDelete, c.base+"/"+url.PathEscape(cb.id), "")
		if fail == nil && c.keepIDs {
			c.created = append(c.created, CreatedID{ID: cb.id, Op: OpCancel, Cancelled: true})
		}
		return op, fail
	}
	return op, &ErrorKey{Transport: fmt.Sprintf("unknown op %d", op)}
}

// start sends a Start-Callback; a scheduled one that succeeds joins the
// pool.
func (c *client) start(op Op, desired string) *ErrorKey {
	number := c.numbers.Next()
	body := `{"_customer_number":"` + number + `","usr_source":"bench"}`
	if desired != "" {
		body = `{"_customer_number":"` + number + `","_desired_time":"` + desired + `","usr_source":"bench"}`
	}
	res, fail := c.send(http.MethodPost, c.base, body)
	if fail != nil {
		return fail
	}
	var ok struct {
		ID string `json:"_id"`
	}
	if err := json.Unmarshal(res, &ok); err != nil || ok.ID == "" {
		return &ErrorKey{Status: http.StatusOK, Transport: "200 without an _id"}
	}
	if desired != "" {
		c.pool.put(created{id: ok.ID, number: number})
	}
	if c.keepIDs {
		c.created = append(c.created, CreatedID{ID: ok.ID, Op: op})
	}
	return nil
}

// send returns the body of a 200, or what went wrong: the status with the
// spec's code and phrase from the error body, or the transport's failure.
func (c *client) send(method, path, body string) ([]byte, *ErrorKey) {
	status, res, err := c.conn.roundTrip(method, path, body)
	if err != nil {
		return nil, &ErrorKey{Transport: transportError(err)}
	}
	if status != http.StatusOK {
		k := &ErrorKey{Status: status}
		var e struct {
			Code   int    `json:"code"`
			Phrase string `json:"phrase"`
		}
		if json.Unmarshal(res, &e) == nil {
			k.Code, k.Phrase = e.Code, e.Phrase
		}
		return nil, k
	}
	return res, nil
}

// transportError names a failure without its addresses, so that failures
// of one kind count together.
func transportError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port free"
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u // the innermost error carries no addresses
	}
	return err.Error()
}
