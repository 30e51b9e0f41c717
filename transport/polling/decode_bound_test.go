package polling_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/polling"
)

// tinyElements is a JSON array of n elements "1": two bytes of body each.
func tinyElements(n int) []byte {
	return append(append([]byte{'['}, bytes.Repeat([]byte("1,"), n-1)...), '1', ']')
}

// TestAnAnswerOfTinyElementsCostsItsBody: an answer within the body limit
// but made of millions of tiny elements costs about its body, not a value
// per element: the package doc bounds an answer by WithMaxBodySize, and
// docs/fallback.md holds at most two answers in memory. (Each element used
// to become a json.RawMessage and a transport.Message at once: 4 MiB of
// "1," took over 150 MiB and seconds to decode.) Every element still comes
// out, in order.
func TestAnAnswerOfTinyElementsCostsItsBody(t *testing.T) {
	const n = 2 << 20
	body := tinyElements(n)
	ts := newTestServer(t)
	ts.setDefault(answer(string(body)))
	tr := newTransport(t, ts, tethertest.NewFakeClock(time.Time{}), polling.WithMaxBodySize(int64(len(body))))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := dial(t, tr, ts)
	got := 0
	for got < n {
		m, err := c.Read() // borrowed: nothing copied
		require.NoError(t, err)
		if !bytes.Equal(m.Payload, []byte("1")) {
			require.Equal(t, "1", string(m.Payload), "element %d", got)
		}
		got++
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	// The server in this process makes its answer too, and a body of
	// unannounced length is read into a buffer that grows as it comes.
	assert.Less(t, allocated, uint64(8*len(body)),
		"%d bytes allocated to read an answer of %d bytes holding %d elements", allocated, len(body), n)
}

// cancelAtEOF is a RoundTripper whose bodies call cancel once they are
// read to their end: the ctx of a Dial ends after its answer arrived.
type cancelAtEOF struct {
	next   http.RoundTripper
	cancel context.CancelFunc
}

func (c cancelAtEOF) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil {
		resp.Body = &eofHook{ReadCloser: resp.Body, at: c.cancel}
	}
	return resp, err
}

type eofHook struct {
	io.ReadCloser
	at func()
}

func (h *eofHook) Read(p []byte) (int, error) {
	n, err := h.ReadCloser.Read(p)
	if err == io.EOF {
		h.at()
	}
	return n, err
}

// TestDialEndedWhileItsAnswerIsReadReturnsNoConn: a ctx that ends once the
// first answer is in, before Dial returns, fails the Dial with the ctx's
// error and leaves nothing running (the Dial doc: "an error wrapping ctx's
// when ctx ends first"); it used to return a live Conn.
func TestDialEndedWhileItsAnswerIsReadReturnsNoConn(t *testing.T) {
	ts := newTestServer(t)
	ts.setDefault(answer(`["a","b"]`))
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	hc := &http.Client{Transport: cancelAtEOF{next: ts.Client().Transport, cancel: cancel}}
	tr, err := polling.New(polling.WithHTTPClient(hc), polling.WithClock(tethertest.NewFakeClock(time.Time{})))
	require.NoError(t, err)
	c, err := tr.Dial(ctx, transport.Target{URL: ts.URL + "/feed"})
	if c != nil {
		_ = c.Close(transport.StatusNormalClosure, "")
	}
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, c)
}
