package polling_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/url"
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

// maxErrorText bounds the text of an error about anything the server sent.
const maxErrorText = 512

func requireBoundedText(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.Less(t, len(err.Error()), maxErrorText, "error text of %d bytes", len(err.Error()))
}

// TestSubprotocolErrorTextIsBounded: the server's selection is quoted in
// the error; a 1 MiB one used to be quoted whole. (A header that long is
// now past MaxHeaderLine, TestAnswerHeadPastTheBoundsIsABadHandshake; 8 KiB
// is within the bounds.)
func TestSubprotocolErrorTextIsBounded(t *testing.T) {
	ts := newTestServer(t)
	ts.script(refuse(http.StatusNoContent, "Sec-WebSocket-Protocol", strings.Repeat("v", 8<<10)))
	tg := transport.Target{URL: ts.URL, Subprotocols: []string{"v1"}}
	_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), tg)
	require.ErrorIs(t, err, transport.ErrSubprotocol)
	requireBoundedText(t, err)
	assert.Contains(t, err.Error(), `"vvvv`)
}

// TestMalformedAnswerErrorTextIsBounded: net/http quotes a malformed status
// line whole in its error; the Dial error used to carry 1 MiB of it.
func TestMalformedAnswerErrorTextIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 " + strings.Repeat("x", 1<<20) + "\r\n\r\n"))
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	pt, err := polling.New(polling.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)

	_, err = pt.Dial(testCtx(t), transport.Target{URL: "http://" + ln.Addr().String() + "/feed"})
	requireBoundedText(t, err)
	_, ok := errors.AsType[*url.Error](err)
	assert.True(t, ok, "the network error keeps its type: %v", err)
	assert.Contains(t, err.Error(), "...")
}

// TestUndecodableBodyErrorTextIsBounded: a body that is not a JSON array
// of messages ends the Dial with encoding/json's error, which quotes
// nothing of a 1 MiB body.
func TestUndecodableBodyErrorTextIsBounded(t *testing.T) {
	for name, body := range map[string]string{
		"number":       strings.Repeat("9", 1<<20),
		"string":       `"` + strings.Repeat("a", 1<<20) + `"`,
		"syntax error": `["` + strings.Repeat("a", 1<<20) + `"x`,
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.script(answer(body))
			_, err := newTransport(t, ts, tethertest.NewFakeClock(time.Time{})).Dial(testCtx(t), transport.Target{URL: ts.URL})
			require.ErrorIs(t, err, transport.ErrProtocol)
			requireBoundedText(t, err)
		})
	}
}
