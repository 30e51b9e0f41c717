package tether_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/transport"
)

// failedDial connects c once (it fails) and closes it, and returns the
// cause of its dial_failed transition.
func failedDial(t *testing.T, c *tether.Client[Reading]) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.Error(t, c.Connect(ctx))
	require.NoError(t, c.Close(ctx))
	<-c.Done()
	for _, tr := range c.Trace() {
		if tr.Event == fsm.EventDialFailed {
			require.Error(t, tr.Cause)
			return tr.Cause
		}
	}
	require.FailNow(t, "no dial_failed in the trace", "%v", c.Trace())
	return nil
}

// A 503 used to show as "handshake refused..." in the trace: its cause is
// now whole, in both formats.
func TestTraceShowsA503Whole(t *testing.T) {
	c, err := tether.New[Reading](statusServer(t, 503, nil, "restarting"),
		tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	cause := failedDial(t, c)
	var he *transport.HandshakeError
	require.ErrorAs(t, cause, &he)
	require.Equal(t, 503, he.StatusCode)
	text := cause.Error()
	require.Contains(t, text, "503 Service Unavailable")
	require.Contains(t, c.TraceMermaid(), "dial_failed at ")
	require.Contains(t, c.TraceMermaid(), ", "+text+"\n", "the whole cause, as it is (no character needs escaping)")
	require.Contains(t, c.TraceDOT(), ", "+text+`"];`+"\n")
}

// refusing is a transport whose Dial fails with an error of its own that
// names the URL with its credentials, as a careless custom transport's
// error might.
type refusing struct{}

func (refusing) Name() string { return "refusing" }

func (refusing) Dial(_ context.Context, target transport.Target) (transport.Conn, error) {
	return nil, fmt.Errorf("dial %s: refused; retry \"%s\"\nsee <%s>", target.URL, target.URL, target.URL)
}

// A URL in a cause goes through the redaction in both formats, and what
// surrounds it is escaped.
func TestTraceRedactsURLsInCauses(t *testing.T) {
	raw := "wss://" + url.UserPassword(hostileUser, "pw").String() + "@feed.example/live?room=1&token=" + url.QueryEscape(hostileToken)
	c, err := tether.New[Reading](raw, tether.WithTransport(refusing{}),
		tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	cause := failedDial(t, c)
	assertNoHostileSecret(t, "the cause's text", cause.Error())
	require.Contains(t, errors.Unwrap(cause).Error(), hostileUser, "the transport's own error is kept, unredacted")

	redacted := transport.RedactURL(raw)
	require.NotContains(t, redacted, hostileUser)
	mer, dot := c.TraceMermaid(), c.TraceDOT()
	merURL := strings.ReplaceAll(redacted, "&", "#38;") // '&' is escaped for Mermaid
	// The URL's three mentions, in dial_failed and again in give_up, which
	// carries the same cause. The ':' after the URL is the sentence's: it
	// stays after the redacted token (it used to go with it).
	for name, tc := range map[string]struct{ out, url string }{"mermaid": {mer, merURL}, "dot": {dot, redacted}} {
		assertNoHostileSecret(t, name, tc.out)
		require.Equal(t, 6, strings.Count(tc.out, tc.url), "%s: every URL redacted:\n%s", name, tc.out)
	}
	require.Contains(t, mer, "dial "+merURL+": refused#59; retry #34;"+merURL+"#34;<br/>see #60;"+merURL+"#62;")
	require.Contains(t, dot, `dial `+redacted+`: refused; retry \"`+redacted+`\"\nsee <`+redacted+`>"];`)
}

// Trace keeps what the causes are: errors.Is and As still work on them
// (a cause whose text quoted a URL is redacted by a wrapper that unwraps
// to it).
func TestTraceKeepsTheCauses(t *testing.T) {
	c, err := tether.New[Reading](statusServer(t, 503, nil, ""),
		tether.WithoutReconnect(), tether.WithAutoConnect(false))
	require.NoError(t, err)
	cause := failedDial(t, c)
	require.True(t, errors.As(cause, new(*transport.HandshakeError)))
}
