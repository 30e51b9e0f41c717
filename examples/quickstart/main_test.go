package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/inspect"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the program against its embedded server, in real
// time, and checks that the story it tells happened: open, drop, backoff,
// reconnect, heartbeat, close, trace.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	s := out.String()
	for _, want := range []string{
		"Idle --connect--> Connecting",
		"Connecting --dialed--> Open",
		"message    cpu = ",
		"drops connection 1 without a close frame",
		"Open --dropped--> Waiting",
		"backoff    attempt 1 in ",
		"Waiting --retry--> Connecting (attempt 1",
		"heartbeat  round trip ",
		"Closing --closed--> Closed",
		"sequenceDiagram",
		"Open->>Waiting: ",
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "--dropped-->"), strings.LastIndex(s, "--dialed-->"), "it reconnects after the drop")
}

// TestQuickstartInspect runs the program with the inspector: it says where
// the page is, the page shows the client reconnected and its counters, and
// the program closes cleanly when interrupted.
func TestQuickstartInspect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &watchWriter{changed: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- runInspect(ctx, out, "127.0.0.1:0") }()

	out.waitFor(t, "the script is over")
	m := regexp.MustCompile(`open (http://\S+/) in a browser`).FindStringSubmatch(out.String())
	require.Len(t, m, 2)
	resp, err := http.Get(m[1] + "snapshot.json")
	require.NoError(t, err)
	var snap inspect.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	resp.Body.Close()
	require.NoError(t, err)
	require.Len(t, snap.Clients, 1)
	st := snap.Clients[0].Stats
	assert.Equal(t, "Open", st.State)
	assert.GreaterOrEqual(t, st.Reconnects, uint64(1))
	assert.GreaterOrEqual(t, st.MessagesIn, uint64(6))
	assert.NotZero(t, st.RTTSamples)

	cancel() // the interrupt
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		require.FailNow(t, "the program did not end after the interrupt")
	}
	assert.Contains(t, out.String(), "Closing --closed--> Closed")
	assert.Contains(t, out.String(), "sequenceDiagram")
}

// watchWriter is an io.Writer a test can wait on.
type watchWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.buf.Write(p)
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output contains want. Test goroutine only.
func (w *watchWriter) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		w.mu.Lock()
		got, changed := w.buf.String(), w.changed
		w.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			require.FailNowf(t, "output never appeared", "want %q in:\n%s", want, got)
		}
	}
}
