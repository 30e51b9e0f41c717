package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/inspect"
	"github.com/tether-go/tether/transport"
)

// TestInspectServesThePage: inspect says where its page is, the page
// shows the connection (its URL redacted), and an interrupt closes it
// cleanly.
func TestInspectServesThePage(t *testing.T) {
	srv := newServer(t)
	s := start(t, "inspect", "-heartbeat", "0", srv.URL+"/feed?token=hunter2")
	accept(t, srv)
	s.stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialed, fsm.Open))
	s.stderr.waitFor(t, "[inspect] open http://")
	page := regexp.MustCompile(`\[inspect\] open (http://\S+/) in a browser`).FindStringSubmatch(s.stderr.String())
	require.Len(t, page, 2)

	resp, err := http.Get(page[1])
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "<title>tether inspect</title>")

	resp, err = http.Get(page[1] + "snapshot.json")
	require.NoError(t, err)
	var snap inspect.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	resp.Body.Close()
	require.NoError(t, err)
	require.Len(t, snap.Clients, 1)
	assert.Equal(t, transport.RedactURL(srv.URL+"/feed?token=hunter2"), snap.Clients[0].Name)
	assert.NotContains(t, snap.Clients[0].Name, "hunter2")
	assert.Equal(t, "Open", snap.Clients[0].Stats.State)

	s.cancel()
	require.Equal(t, exitOK, s.wait(t))
	s.stderr.waitFor(t, edge(fsm.Closing, fsm.EventClosed, fsm.Closed))
	assert.NotContains(t, s.stderr.String(), "hunter2")
}

// TestInspectOnEveryInterfaceSaysLocalhost: with -listen :0 the page is
// served on every interface, and the line says where a browser on this
// machine opens it (it said http://[::]:PORT/).
func TestInspectOnEveryInterfaceSaysLocalhost(t *testing.T) {
	srv := newServer(t)
	s := start(t, "inspect", "-heartbeat", "0", "-listen", ":0", srv.URL+"/feed")
	accept(t, srv)
	s.stderr.waitFor(t, "[inspect] open http://")
	page := regexp.MustCompile(`\[inspect\] open (http://\S+/) in a browser`).FindStringSubmatch(s.stderr.String())
	require.Len(t, page, 2)
	assert.Regexp(t, `^http://localhost:[0-9]+/$`, page[1])
	resp, err := http.Get(page[1])
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	s.cancel()
	require.Equal(t, exitOK, s.wait(t))
}

// TestInspectCannotListen: an address it cannot serve on is a runtime
// error, before anything connects.
func TestInspectCannotListen(t *testing.T) {
	srv := newServer(t)
	code, _, stderr := runSync(t, "inspect", "-listen", "256.0.0.1:1", srv.URL)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "tether: cannot serve the page")
}

// TestInspectSaysWhereFirst: the line that says where to open the page
// comes before any transition, as docs/cli.md shows, even when the
// connection fails at once.
func TestInspectSaysWhereFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "ws://" + ln.Addr().String() + "/"
	require.NoError(t, ln.Close()) // nothing listens there now: every dial is refused at once
	s := start(t, "inspect", "-heartbeat", "0", refused)
	s.stderr.waitFor(t, edge(fsm.Connecting, fsm.EventDialFailed, fsm.Waiting))
	out := s.stderr.String()
	where := strings.Index(out, "[inspect] open http://")
	require.GreaterOrEqual(t, where, 0, out)
	assert.Less(t, where, strings.Index(out, "[transition]"), out)
	s.cancel()
	require.Equal(t, exitOK, s.wait(t))
}
