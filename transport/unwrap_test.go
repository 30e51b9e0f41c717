package transport_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/transport"
)

// plainConn implements transport.Conn and nothing more.
type plainConn struct{}

func (*plainConn) Read() (transport.Message, error)                           { return transport.Message{}, transport.ErrClosed }
func (*plainConn) Write(context.Context, transport.MessageType, []byte) error { return nil }
func (*plainConn) Ping(context.Context, []byte) error                         { return nil }
func (*plainConn) Close(transport.StatusCode, string) error                   { return nil }
func (*plainConn) Done() <-chan struct{}                                      { return nil }
func (*plainConn) Err() error                                                 { return nil }
func (*plainConn) Subprotocol() string                                        { return "" }

// backlogConn implements Backlogger only.
type backlogConn struct{ plainConn }

func (*backlogConn) Buffered() bool { return true }

// progressConn implements ProgressReporter only.
type progressConn struct{ plainConn }

func (*progressConn) ReadProgress() (uint64, bool) { return 7, true }

// bothConn implements both.
type bothConn struct{ plainConn }

func (*bothConn) Buffered() bool               { return false }
func (*bothConn) ReadProgress() (uint64, bool) { return 0, false }

// wrapConn wraps inner, like a labelling wrapper. Embedding the interface
// promotes only the Conn methods, never the inner Conn's optional ones.
type wrapConn struct {
	transport.Conn
	inner transport.Conn
}

func wrap(inner transport.Conn) *wrapConn { return &wrapConn{Conn: inner, inner: inner} }

func (w *wrapConn) Unwrap() transport.Conn { return w.inner }

// backlogWrapConn is a wrapper that answers Buffered itself.
type backlogWrapConn struct{ wrapConn }

func (*backlogWrapConn) Buffered() bool { return true }

func TestBacklogOfAndProgressOf(t *testing.T) {
	backlog, progress, both := &backlogConn{}, &progressConn{}, &bothConn{}
	ownBacklog := &backlogWrapConn{wrapConn: *wrap(both)}
	loop := &wrapConn{}
	loop.inner = loop

	for _, tc := range []struct {
		name         string
		conn         transport.Conn
		wantBacklog  transport.Backlogger
		wantProgress transport.ProgressReporter
	}{
		{name: "nil", conn: nil},
		{name: "neither", conn: &plainConn{}},
		{name: "backlogger only", conn: backlog, wantBacklog: backlog},
		{name: "progress reporter only", conn: progress, wantProgress: progress},
		{name: "both", conn: both, wantBacklog: both, wantProgress: both},
		{name: "wrapper over both", conn: wrap(both), wantBacklog: both, wantProgress: both},
		{name: "wrapper over wrapper", conn: wrap(wrap(both)), wantBacklog: both, wantProgress: both},
		{name: "wrapper over backlogger only", conn: wrap(backlog), wantBacklog: backlog},
		{name: "wrapper over neither", conn: wrap(&plainConn{})},
		{name: "wrapper of nothing", conn: wrap(nil)},
		{name: "outermost implementation wins", conn: ownBacklog, wantBacklog: ownBacklog, wantProgress: both},
		{name: "loop ends the search", conn: loop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gotBacklog := transport.BacklogOf(tc.conn)
			if tc.wantBacklog == nil {
				assert.Nil(t, gotBacklog)
			} else {
				assert.Same(t, tc.wantBacklog, gotBacklog)
			}
			gotProgress := transport.ProgressOf(tc.conn)
			if tc.wantProgress == nil {
				assert.Nil(t, gotProgress)
			} else {
				assert.Same(t, tc.wantProgress, gotProgress)
			}
		})
	}
}

// discardConn implements DiscardCounter only.
type discardConn struct{ plainConn }

func (*discardConn) Discarded() uint64 { return 3 }

func TestDiscardsOf(t *testing.T) {
	d := &discardConn{}
	loop := &wrapConn{}
	loop.inner = loop
	assert.Nil(t, transport.DiscardsOf(nil))
	assert.Nil(t, transport.DiscardsOf(&plainConn{}))
	assert.Nil(t, transport.DiscardsOf(loop), "a loop ends the search")
	assert.Same(t, d, transport.DiscardsOf(d))
	assert.Same(t, d, transport.DiscardsOf(wrap(wrap(d))), "found through wrappers")
}
