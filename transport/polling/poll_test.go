package polling_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// etagServer answers with the messages published since the version the
// client names in If-None-Match, or 304 when it has them all.
type etagServer struct {
	mu          sync.Mutex
	msgs        []string
	notModified int
}

func (s *etagServer) publish(m ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m...)
}

func (s *etagServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := 0
	if v := r.Header.Get("If-None-Match"); v != "" {
		seen, _ = strconv.Atoi(strings.Trim(v, `"`))
	}
	if seen == len(s.msgs) {
		s.notModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(len(s.msgs))))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("[" + strings.Join(s.msgs[seen:], ",") + "]"))
}

func (s *etagServer) count304() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notModified
}

func TestETagFlow(t *testing.T) {
	ts := newTestServer(t)
	es := &etagServer{}
	es.publish(`1`, `2`)
	ts.setHandler(es.serve)
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)

	assert.Equal(t, text("1"), read(t, c))
	assert.Equal(t, text("2"), read(t, c))
	assert.Empty(t, ts.next(t).Header.Get("If-None-Match"))

	for i := range 3 { // nothing new: 304 each time
		fc.Step(waitTimer(t, fc))
		assert.Equal(t, `"2"`, ts.next(t).Header.Get("If-None-Match"))
		waitTimer(t, fc) // the answer is processed
		assert.Equal(t, i+1, es.count304())
	}

	es.publish(`3`, `{"four":4}`)
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, text("3"), read(t, c))
	assert.Equal(t, text(`{"four":4}`), read(t, c))
	fc.Step(waitTimer(t, fc))
	ts.next(t)
	assert.Equal(t, `"4"`, ts.next(t).Header.Get("If-None-Match"))
	waitTimer(t, fc)
	assert.Equal(t, 4, es.count304())
}

func TestLastModifiedIsEchoed(t *testing.T) {
	ts := newTestServer(t)
	lm := "Wed, 21 Oct 2015 07:28:00 GMT"
	ts.script(answer(`[]`, "Last-Modified", lm))
	fc := tethertest.NewFakeClock(time.Time{})
	dial(t, newTransport(t, ts, fc), ts)
	ts.next(t)
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, lm, ts.next(t).Header.Get("If-Modified-Since"))
}

func TestMessagesInOrderAcrossPolls(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`["m0"]`), answer(`["m1","m2"]`), refuse(http.StatusNoContent), answer(`["m3","m4","m5"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc), ts)

	got := make(chan transport.Message, 16)
	go func() {
		for range 6 {
			m, err := transport.ReadOwned(c)
			if !assert.NoError(t, err) {
				return
			}
			got <- m
		}
	}()
	for range 3 {
		fc.Step(waitTimer(t, fc))
	}
	for i := range 6 {
		assert.Equal(t, text(`"m`+strconv.Itoa(i)+`"`), recv(t, got))
	}
}

func TestLongPoll(t *testing.T) {
	ts := newTestServer(t)
	publish := make(chan string)
	ts.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Prefer") == "" {
			w.WriteHeader(http.StatusNoContent) // the initial GET
			return
		}
		select {
		case m := <-publish:
			_, _ = w.Write([]byte("[" + m + "]"))
		case <-r.Context().Done():
		}
	})
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithLongPoll(25*time.Second+time.Millisecond)), ts)

	assert.Empty(t, ts.next(t).Header.Get("Prefer"), "Dial does not wait")
	for i := range 3 {
		r := ts.next(t) // re-issued at once, without a timer
		assert.Equal(t, "wait=26", r.Header.Get("Prefer"))
		assert.Zero(t, fc.Waiters())
		publish <- strconv.Itoa(i)
		assert.Equal(t, text(strconv.Itoa(i)), read(t, c))
	}
	ts.next(t)
	assert.Zero(t, fc.Waiters())
}

func TestLongPollEmptyAnswerWaitsInterval(t *testing.T) {
	ts := newTestServer(t) // answers 204 at once: it ignores the wait
	fc := tethertest.NewFakeClock(time.Time{})
	dial(t, newTransport(t, ts, fc, polling.WithLongPoll(time.Minute), polling.WithInterval(3*time.Second)), ts)
	ts.next(t)
	ts.next(t)
	assert.Equal(t, 3*time.Second, waitTimer(t, fc), "no hot loop")
	ts.noRequest(t)
}

func TestRetryAfterHonoured(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			ts := newTestServer(t)
			ts.script(refuse(http.StatusNoContent), refuse(code, "Retry-After", "7"), answer(`["after"]`))
			fc := tethertest.NewFakeClock(time.Time{})
			c := dial(t, newTransport(t, ts, fc), ts)

			fc.Step(waitTimer(t, fc))
			assert.Equal(t, 7*time.Second, waitTimer(t, fc))
			fc.Step(6 * time.Second)
			ts.next(t)
			ts.next(t)
			ts.noRequest(t)
			fc.Step(time.Second)
			assert.Equal(t, text(`"after"`), read(t, c))
		})
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	ts := newTestServer(t)
	ts.script(refuse(http.StatusNoContent), refuse(http.StatusServiceUnavailable, "Retry-After", "3600"))
	fc := tethertest.NewFakeClock(time.Time{})
	dial(t, newTransport(t, ts, fc, polling.WithMaxRetryAfter(time.Minute)), ts)
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, time.Minute, waitTimer(t, fc))
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	dial(t, newTransport(t, ts, fc, polling.WithBackoff(time.Second, 4*time.Second), polling.WithMaxFailures(10)), ts)
	ts.setDefault(refuse(http.StatusInternalServerError))

	fc.Step(waitTimer(t, fc))
	for _, ceiling := range []time.Duration{1, 2, 4, 4, 4} {
		ceiling *= time.Second
		d := waitTimer(t, fc)
		assert.GreaterOrEqual(t, d, ceiling/2)
		assert.LessOrEqual(t, d, ceiling)
		fc.Step(d)
	}
}

func TestConsecutiveFailuresEndTheConn(t *testing.T) {
	ts := newTestServer(t)
	ts.script(answer(`["before"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithMaxFailures(3)), ts)
	ts.setDefault(refuse(http.StatusBadGateway, "Retry-After", "1"))

	for range 3 {
		fc.Step(waitTimer(t, fc))
	}
	recv(t, c.Done())
	assert.Equal(t, text(`"before"`), read(t, c), "what was fetched comes first")
	err := readErr(t, c)
	requireClose(t, err, transport.StatusAbnormalClosure, true)
	require.ErrorIs(t, err, polling.ErrPollFailed)
	pe, ok := errors.AsType[*polling.PollError](err)
	require.True(t, ok)
	assert.Equal(t, 3, pe.Failures)
	assert.Equal(t, http.StatusBadGateway, transport.StatusFromError(err), "the policy sees the status")
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok)
	ra, ok := he.RetryAfter(time.Now())
	assert.True(t, ok)
	assert.Equal(t, time.Second, ra)
	assert.Equal(t, err, c.Err())
	assert.Zero(t, fc.Waiters(), "nothing polls any more")
}

func TestNetworkFailuresEndTheConn(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithMaxFailures(2)), ts)
	waitTimer(t, fc)
	ts.CloseClientConnections()
	ts.Listener.Close() // the server is gone

	fc.Step(waitTimer(t, fc))
	fc.Step(waitTimer(t, fc))
	err := readErr(t, c)
	requireClose(t, err, transport.StatusAbnormalClosure, true)
	pe, ok := errors.AsType[*polling.PollError](err)
	require.True(t, ok)
	assert.Equal(t, 2, pe.Failures)
	assert.Zero(t, transport.StatusFromError(err))
}

func TestFailureCountResetsOnSuccess(t *testing.T) {
	ts := newTestServer(t)
	fail := refuse(http.StatusInternalServerError, "Retry-After", "1")
	ts.script(refuse(http.StatusNoContent), fail, fail, refuse(http.StatusNotModified), fail, fail, answer(`["alive"]`))
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithMaxFailures(3)), ts)
	for range 6 {
		fc.Step(waitTimer(t, fc))
	}
	assert.Equal(t, text(`"alive"`), read(t, c))
	assert.Nil(t, c.Err())
}

func TestUnauthorizedEndsAtOnce(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			ts := newTestServer(t)
			ts.script(refuse(http.StatusNoContent), refuse(code))
			fc := tethertest.NewFakeClock(time.Time{})
			c := dial(t, newTransport(t, ts, fc), ts)
			fc.Step(waitTimer(t, fc))
			err := readErr(t, c)
			requireClose(t, err, transport.StatusPolicyViolation, true)
			assert.Equal(t, code, transport.StatusFromError(err))
			assert.ErrorIs(t, err, polling.ErrPollFailed)
		})
	}
}

func TestUndeliverableAnswerEndsTheConn(t *testing.T) {
	cases := []struct {
		name  string
		opts  []polling.Option
		reply reply
		code  transport.StatusCode
		cause error
	}{
		{"not an array", nil, answer(`{"a":1}`), transport.StatusProtocolError, transport.ErrProtocol},
		{"invalid UTF-8", nil, answer("[\"\xff\"]"), transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8},
		{"invalid UTF-8 text body", []polling.Option{polling.WithFormat(polling.WholeBody)},
			answer("\xff", "Content-Type", "text/plain"), transport.StatusInvalidPayloadData, transport.ErrInvalidUTF8},
		{"too large", []polling.Option{polling.WithMaxBodySize(8)}, answer(`["123456789"]`),
			transport.StatusMessageTooBig, transport.ErrMessageTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.script(refuse(http.StatusNoContent), tc.reply)
			fc := tethertest.NewFakeClock(time.Time{})
			c := dial(t, newTransport(t, ts, fc, tc.opts...), ts)
			fc.Step(waitTimer(t, fc))
			err := readErr(t, c)
			requireClose(t, err, tc.code, false)
			assert.ErrorIs(t, err, tc.cause)
		})
	}
}

func TestWholeBodyFormat(t *testing.T) {
	ts := newTestServer(t)
	ts.script(
		answer(`{"snapshot":1}`, "Content-Type", "application/json"),
		answer("\x00\x01", "Content-Type", "application/octet-stream"),
		answer("", "Content-Type", "text/plain"),
		answer("plain", "Content-Type", "text/plain; charset=utf-8"),
	)
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithFormat(polling.WholeBody)), ts)
	assert.Equal(t, text(`{"snapshot":1}`), read(t, c))
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, transport.Message{Type: transport.Binary, Payload: []byte{0, 1}}, read(t, c))
	fc.Step(waitTimer(t, fc)) // empty body: nothing
	fc.Step(waitTimer(t, fc))
	assert.Equal(t, text("plain"), read(t, c))
}

func TestFormatString(t *testing.T) {
	assert.Equal(t, "json-array", polling.JSONArray.String())
	assert.Equal(t, "whole-body", polling.WholeBody.String())
	assert.Equal(t, "Format(9)", polling.Format(9).String())
}
