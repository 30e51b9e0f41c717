package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedWriter blocks every write until the test opens the gate, and
// reports each write that starts; what gets through is kept.
type gatedWriter struct {
	*watch
	started chan struct{}
	gate    chan struct{}
}

func newGatedWriter() *gatedWriter {
	return &gatedWriter{watch: newWatch(), started: make(chan struct{}, 1), gate: make(chan struct{})}
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	select {
	case g.started <- struct{}{}:
	default:
	}
	<-g.gate
	return g.watch.Write(p)
}

// TestOutputNeverBlocksAndCountsWhatItDrops: while the stream is stuck,
// writes return at once; what does not fit in outputLimit is dropped
// whole, counted, and reported once the queue has drained.
func TestOutputNeverBlocksAndCountsWhatItDrops(t *testing.T) {
	w := newGatedWriter()
	skipped := make(chan uint64, 1)
	o := newOutput(w, func(n uint64) { skipped <- n })
	defer o.close()

	record := bytes.Repeat([]byte("r"), 1<<20)
	_, err := o.Write(record)
	require.NoError(t, err)
	recvWithin(t, w.started, "the first write") // stuck in the stream from now on
	for range 20 {                              // 7 fit beside the stuck one, 13 do not
		n, err := o.Write(record)
		require.NoError(t, err)
		require.Equal(t, len(record), n)
	}
	select {
	case n := <-skipped:
		require.FailNowf(t, "reported too early", "%d while the queue is full", n)
	default:
	}

	close(w.gate)
	assert.Equal(t, uint64(13), recvWithin(t, skipped, "the report of the dropped records"))
	o.flush(context.Background(), 0)
	assert.Equal(t, 8<<20, len(w.String()), "the records that fit are written whole")
	assert.Zero(t, o.close(), "nothing left unwritten")
}

// TestOutputCloseCountsWhatWasNotWritten: closing a stuck stream returns at
// once with the records it could not write, the stuck one included.
func TestOutputCloseCountsWhatWasNotWritten(t *testing.T) {
	pr, pw := io.Pipe() // nobody reads
	defer pr.Close()
	o := newOutput(pw, nil)
	for range 3 {
		_, err := o.Write([]byte("line\n"))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.flush(ctx, 0) // returns: ctx has ended
	assert.Equal(t, uint64(3), o.close())
	_, err := o.Write([]byte("late\n"))
	assert.ErrorIs(t, err, errOutputClosed)
}

// TestOutputReportsAFailedStream: the first write error is kept, reported
// on failed, returned by later writes, and ends a flush.
func TestOutputReportsAFailedStream(t *testing.T) {
	o := newOutput(failWriter{}, nil)
	defer o.close()
	_, err := o.Write([]byte("x\n"))
	require.NoError(t, err, "queued")
	recvWithin(t, o.failed, "the failure")
	assert.ErrorIs(t, o.failure(), errBrokenPipe)
	_, err = o.Write([]byte("y\n"))
	assert.ErrorIs(t, err, errBrokenPipe)
	o.flush(context.Background(), 0)
}

// TestOutputKeepsRecordsWholeAndInOrder: concurrent writers, one record
// each, none split or interleaved.
func TestOutputKeepsRecordsWholeAndInOrder(t *testing.T) {
	buf := newWatch()
	o := newOutput(buf, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				_, err := o.Write([]byte(strings.Repeat(string(rune('a'+i)), 50) + "\n"))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	o.flush(context.Background(), 0)
	require.Zero(t, o.close())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 800)
	for _, l := range lines {
		assert.Equal(t, strings.Repeat(l[:1], 50), l)
	}
}

// TestWithGraceEndsAfterItsParent: the context ends only once its parent
// has ended (and then within the grace), or when cancelled.
func TestWithGraceEndsAfterItsParent(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := withGrace(parent, 0)
	defer cancel()
	require.NoError(t, ctx.Err())
	cancelParent()
	recvWithin(t, ctx.Done(), "the end of the grace")

	ctx, cancel = withGrace(context.Background(), exitGrace)
	cancel()
	recvWithin(t, ctx.Done(), "the end on cancel")
}

// TestEnvReportsSkippedLinesOfStandardError: lines standard error could
// not take are counted and reported on it once it catches up.
func TestEnvReportsSkippedLinesOfStandardError(t *testing.T) {
	w := newGatedWriter()
	e := newEnv(nil, io.Discard, w)
	line := bytes.Repeat([]byte("e"), 2<<20)
	for range 5 { // the stuck one and three more fill the 8 MiB; the fifth does not fit
		_, err := e.stderr.Write(line)
		require.NoError(t, err)
	}
	close(w.gate)
	const want = "[skipped] 1 line of standard error not printed: it did not keep up\n"
	deadline := time.Now().Add(testTimeout)
	for !strings.HasSuffix(w.String(), want) { // the report is queued just after the queue drains
		require.True(t, time.Now().Before(deadline), "the report never came")
		e.stderr.flush(context.Background(), 0)
	}
	assert.Len(t, w.String(), 8<<20+len(want))
	assert.Equal(t, exitOK, e.finish(context.Background(), exitOK))
}
