package polling

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/tether-go/tether/transport"
)

// run is the poller goroutine: wait, poll, hand the messages to the reader,
// and again, until the Conn ends. first is the wait before the first poll.
func (c *conn) run(first time.Duration) {
	defer c.wg.Done()
	wait, wakeable := first, true
	failures := 0
	for {
		if !c.sleep(wait, wakeable) {
			return
		}
		start := c.o.clock.Now()
		pong, payload := c.takePong()
		a, err := c.poll()
		if c.ctx.Err() != nil {
			return // closed while polling
		}
		if err == nil && !a.ok() {
			err = a.refusal()
		}
		if err != nil {
			c.restorePong(pong, payload)
			failures++
			if code, stop := c.giveUp(failures, a); stop {
				c.end(&transport.CloseError{Code: code, Remote: true, Err: &PollError{Failures: failures, Err: err}}, false)
				return
			}
			wait, wakeable = c.retryDelay(failures, a), false
			continue
		}
		failures = 0
		c.remember(a.header)
		msgs, derr := c.o.decode(a)
		if derr != nil {
			c.end(&transport.CloseError{Code: derr.code, Err: derr.err}, false)
			return
		}
		data := !msgs.empty()
		if pong {
			msgs.msgs = append(msgs.msgs, transport.Message{Type: transport.Pong, Payload: payload})
		}
		if !msgs.empty() && !c.deliver(msgs) {
			return
		}
		wait, wakeable = c.nextDelay(start, data), true
	}
}

// poll sends one conditional GET.
func (c *conn) poll() (*answer, error) {
	extra := http.Header{}
	if c.etag != "" {
		extra.Set("If-None-Match", c.etag)
	}
	if c.lastModified != "" {
		extra.Set("If-Modified-Since", c.lastModified)
	}
	timeout := c.o.requestTimeout
	if c.o.longPoll > 0 {
		extra.Set("Prefer", "wait="+waitSeconds(c.o.longPoll))
		timeout += c.o.longPoll
	}
	return c.r.do(c.ctx, http.MethodGet, c.ep.poll, extra, nil, timeout, "poll")
}

// remember keeps the validators of an answer for the next poll's
// conditional request.
func (c *conn) remember(h http.Header) {
	if v := h.Get("ETag"); v != "" {
		c.etag = v
	}
	if v := h.Get("Last-Modified"); v != "" {
		c.lastModified = v
	}
}

// giveUp reports whether the failed poll ends the Conn, and with which
// code: 1008 at once for 401 and 403 (the credentials of this Conn will not
// change; the client must dial again), 1006 once failures reach the limit.
func (c *conn) giveUp(failures int, a *answer) (transport.StatusCode, bool) {
	if a != nil && (a.status == http.StatusUnauthorized || a.status == http.StatusForbidden) {
		return transport.StatusPolicyViolation, true
	}
	return transport.StatusAbnormalClosure, failures >= c.o.maxFailures
}

// retryDelay is the wait after the failures-th failed poll in a row: the
// answer's Retry-After (capped) when it has one, else the backoff.
func (c *conn) retryDelay(failures int, a *answer) time.Duration {
	if a != nil {
		if ra, ok := transport.ParseRetryAfter(a.header.Get("Retry-After"), c.o.clock.Now()); ok {
			return min(ra, c.o.maxRetryAfter)
		}
	}
	return backoff(c.o.backoffMin, c.o.backoffMax, failures)
}

// backoff returns a wait drawn from the upper half of min*2^(n-1), capped at
// max.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return d - half + rand.N(half+1)
}

// nextDelay is the wait after a successful poll that started at start.
func (c *conn) nextDelay(start time.Time, data bool) time.Duration {
	if c.o.longPoll == 0 {
		return c.o.interval
	}
	if data {
		return 0
	}
	return max(c.o.interval-c.o.clock.Since(start), 0)
}

// sleep waits d on the clock; a Ping cuts the wait short when wakeable. It
// reports false when the Conn ended.
func (c *conn) sleep(d time.Duration, wakeable bool) bool {
	if d <= 0 {
		select {
		case <-c.done:
			return false
		default:
			return true
		}
	}
	t := c.o.clock.NewTimer(d)
	defer t.Stop()
	var wake <-chan struct{}
	if wakeable {
		wake = c.wake
	}
	select {
	case <-t.C():
		return true
	case <-wake:
		return true
	case <-c.done:
		return false
	}
}

// deliver hands a batch to the reader. It reports false when the Conn ended
// first.
func (c *conn) deliver(msgs batch) bool {
	select {
	case c.inbox <- msgs:
		return true
	case <-c.done:
		return false
	}
}
