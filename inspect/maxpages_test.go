package inspect_test

import (
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
