package inspect_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/inspect"
)

// A page beyond WithMaxPages is refused with 503 and a Retry-After, and a
// page that closes makes room for the next: pages cannot pile up without
// limit, each holding goroutines and Watchers.
func TestPagesBeyondTheBoundAreRefused(t *testing.T) {
	r := newRig(t)
	c := r.client()
	in := inspect.New(inspect.WithMaxPages(2))
	in.Add("feed", c)
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close) // after the pages close

	refused := func() *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + "/events")
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	first := openPage(t, srv.URL+"/events")
	second := openPage(t, srv.URL+"/events")
	var hello inspect.Snapshot
	first.next("hello", &hello)
	second.next("hello", &hello)

	resp := refused()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in seconds")
	assert.Positive(t, after)
	assert.NotEqual(t, "text/event-stream", resp.Header.Get("Content-Type"))

	// The page's handler returns once its request ends: then a new page
	// is served.
	first.close()
	assert.Eventually(t, func() bool {
		resp, err := http.Get(srv.URL + "/events?probe")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, deadline, 10*time.Millisecond, "a closed page makes room")
}

// A page that connects and never reads kept its place among WithMaxPages
// for hours (the write timeout notices it only once the socket's buffers
// are full: an outside review measured 2 min 44 s at a 10 ms interval).
// Its stream now ends after the page lifetime, and the next page is served.
func TestAPageThatStopsReadingLeavesAfterItsLifetime(t *testing.T) {
	r := newRig(t)
	// The lifetime is long enough for the probe below to land inside it
	// on a loaded machine, and short beside the deadline.
	in := inspect.New(inspect.WithMaxPages(1), inspect.WithPageLifetime(3*time.Second))
	in.Add("feed", r.client())
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)

	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	_, err = fmt.Fprintf(nc, "GET /events HTTP/1.1\r\nHost: inspector\r\n\r\n")
	require.NoError(t, err)
	// The page is served (its status line says so), then never reads
	// again. Probing before this raced the page for the place: a probe
	// served first made the page itself the one refused.
	status, err := bufio.NewReader(nc).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 200 OK\r\n", status)

	probe := func() int {
		resp, err := http.Get(srv.URL + "/events?probe")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusServiceUnavailable, probe(), "the stalled page holds the only place")
	assert.Eventually(t, func() bool { return probe() == http.StatusOK },
		deadline, 50*time.Millisecond, "the stalled page left after its lifetime")
}
