package polling_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// padded returns kv pairs for n headers X-Pad-<i> holding size bytes each.
func padded(n, size int) []string {
	kv := make([]string, 0, 2*n)
	for i := range n {
		kv = append(kv, fmt.Sprintf("X-Pad-%03d", i), strings.Repeat("p", size))
	}
	return kv
}

// TestAnswerHeadPastTheBoundsIsABadHandshake: the headers of an answer are
// checked against the WebSocket transport's bounds before anything keeps
// them, whatever the HTTP client: past one, the Dial fails with
// transport.ErrBadHandshake and keeps no header. A 503 with megabytes of
// headers used to be kept whole in HandshakeError.Header, and the client's
// trace kept one per failed attempt.
func TestAnswerHeadPastTheBoundsIsABadHandshake(t *testing.T) {
	for name, kv := range map[string][]string{
		"a long line":     padded(1, polling.MaxHeaderLine),
		"too many lines":  padded(polling.MaxHeaderLines+1, 1),
		"too many bytes":  padded(5, 15<<10),
		"a 2xx, too long": append(padded(1, polling.MaxHeaderLine), "Status", "200"),
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			status := http.StatusServiceUnavailable
			if strings.HasPrefix(name, "a 2xx") {
				status, kv = http.StatusOK, kv[:len(kv)-2]
			}
			r := refuse(status, kv...)
			r.body = "busy"
			ts.script(r)
			_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), transport.Target{URL: ts.URL})
			require.ErrorIs(t, err, transport.ErrBadHandshake)
			he, ok := errors.AsType[*transport.HandshakeError](err)
			require.True(t, ok, "got %v", err)
			assert.Equal(t, status, he.StatusCode, "the status is kept")
			assert.Nil(t, he.Header, "no header is kept")
			assert.Empty(t, he.Body)
			requireBoundedText(t, err)
		})
	}
}

// TestAnswerHeadWithinTheBoundsIsKept: an answer just inside the bounds is
// an ordinary refusal, its headers kept.
func TestAnswerHeadWithinTheBoundsIsKept(t *testing.T) {
	ts := newTestServer(t)
	kv := append(padded(100, 500), "Retry-After", "3")
	ts.script(refuse(http.StatusServiceUnavailable, kv...))
	_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), transport.Target{URL: ts.URL})
	require.NotErrorIs(t, err, transport.ErrBadHandshake)
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusServiceUnavailable, he.StatusCode)
	assert.Len(t, he.Header.Get("X-Pad-099"), 500)
	assert.Equal(t, "3", he.Header.Get("Retry-After"))
}

// rawAnswer serves every connection one answer, written as it is after the
// request was read, then closes it.
func rawAnswer(t *testing.T, answer []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				_ = c.SetWriteDeadline(time.Now().Add(generous))
				_, _ = c.Write(answer)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// TestHugeAnswerHeadIsABadHandshake: the client the transport builds reads
// at most MaxHeaderBytes of an answer's head; 8 MiB of headers fail the Dial
// with transport.ErrBadHandshake, as in the WebSocket transport.
func TestHugeAnswerHeadIsABadHandshake(t *testing.T) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n")
	for i := range 200 {
		fmt.Fprintf(&b, "X-Pad-%d: %s\r\n", i, strings.Repeat("p", 40<<10))
	}
	b.WriteString("\r\n")
	addr := rawAnswer(t, []byte(b.String()))
	tr, err := polling.New() // its own client
	require.NoError(t, err)

	_, err = tr.Dial(testCtx(t), transport.Target{URL: "ws://" + addr + "/feed?token=s3cret"})
	require.ErrorIs(t, err, transport.ErrBadHandshake)
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Nil(t, he.Header)
	requireBoundedText(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

// TestPollAnswerHeadPastTheBoundsIsAFailedPoll: a poll's answer past the
// bounds is a failed poll; its headers are not kept in the PollError.
func TestPollAnswerHeadPastTheBoundsIsAFailedPoll(t *testing.T) {
	ts := newTestServer(t)
	fc := tethertest.NewFakeClock(time.Time{})
	c := dial(t, newTransport(t, ts, fc, polling.WithMaxFailures(1)), ts)
	ts.next(t)
	ts.script(answer(`["lost"]`, padded(polling.MaxHeaderLines+1, 1)...))
	fc.Step(waitTimer(t, fc))
	err := readErr(t, c)
	requireClose(t, err, transport.StatusAbnormalClosure, true)
	require.ErrorIs(t, err, polling.ErrPollFailed)
	require.ErrorIs(t, err, transport.ErrBadHandshake)
	he, ok := errors.AsType[*transport.HandshakeError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusOK, he.StatusCode)
	assert.Nil(t, he.Header)
}

// TestSendAnswerHeadPastTheBounds: a refused POST whose answer is past the
// bounds keeps no header in its SendError, which says why; a 2xx is a
// success whatever its headers.
func TestSendAnswerHeadPastTheBounds(t *testing.T) {
	ts := newTestServer(t)
	c := dial(t, newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithSendPath("/send")), ts)
	ts.next(t)
	ts.script(refuse(http.StatusTooManyRequests, padded(polling.MaxHeaderLines+1, 1)...),
		refuse(http.StatusNoContent, padded(polling.MaxHeaderLines+1, 1)...))

	err := c.Write(testCtx(t), transport.Text, []byte(`"a"`))
	require.ErrorIs(t, err, polling.ErrSendFailed)
	require.ErrorIs(t, err, transport.ErrBadHandshake)
	se, ok := errors.AsType[*polling.SendError](err)
	require.True(t, ok, "got %v", err)
	assert.Equal(t, http.StatusTooManyRequests, se.StatusCode)
	assert.Nil(t, se.Header)

	require.NoError(t, c.Write(testCtx(t), transport.Text, []byte(`"b"`)))
	assert.Nil(t, c.Err())
}
