package bench

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/reactivex/rxgo/v2"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/stream"
	tws "github.com/tether-go/tether/transport/websocket"
)

// tether-client-chan: a tether.Client[[]byte] (each payload copied for the
// subscriber: one allocation per message) read from a Messages
// subscription's channel. The subscription blocks the reader when its queue
// is full (stream.Block), so no message is dropped and every one is
// counted.

type clientChanSession struct {
	c    *tether.Client[[]byte]
	rec  *connRecorder
	sub  *stream.Subscription[[]byte]
	size int
}

func openClientChan(ctx context.Context, url string, size int) (session, error) {
	rec := newConnRecorder(nil)
	c, err := openBenchClient(ctx, url, rec, tws.WithReadBufferSize(readBufferSize))
	if err != nil {
		return nil, err
	}
	sub := c.Messages(context.Background(), stream.WithOverflow(stream.Block))
	return &clientChanSession{c: c, rec: rec, sub: sub, size: size}, nil
}

func (s *clientChanSession) receive(n int) error {
	ch := s.sub.C()
	for range n {
		p, ok := <-ch
		if !ok {
			return fmt.Errorf("%w: subscription ended: %v", errWrongMessage, s.sub.Err())
		}
		if err := checkMessage(len(p), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *clientChanSession) close() {
	s.sub.Close() // releases the reader if it waits for room
	closeBenchClient(s.c, s.rec)
}

// tether-client-rx: the same client, read through ObserveMessages (an rxgo
// Observable over its own Block subscription) with Observe: each item is an
// rxgo.Item boxing the copied payload.

type clientRxSession struct {
	c      *tether.Client[[]byte]
	rec    *connRecorder
	cancel context.CancelFunc
	items  <-chan rxgo.Item
	size   int
}

func openClientRx(ctx context.Context, url string, size int) (session, error) {
	rec := newConnRecorder(nil)
	c, err := openBenchClient(ctx, url, rec, tws.WithReadBufferSize(readBufferSize))
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithCancel(context.Background())
	obs := c.ObserveMessages(octx, stream.WithOverflow(stream.Block))
	return &clientRxSession{c: c, rec: rec, cancel: cancel, items: obs.Observe(), size: size}, nil
}

func (s *clientRxSession) receive(n int) error {
	for range n {
		it, ok := <-s.items
		if !ok {
			return fmt.Errorf("%w: observable completed", errWrongMessage)
		}
		if it.E != nil {
			return it.E
		}
		p, ok := it.V.([]byte)
		if !ok {
			return fmt.Errorf("%w: item of type %T", errWrongMessage, it.V)
		}
		if err := checkMessage(len(p), s.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *clientRxSession) close() {
	s.cancel() // ends the subscription, releasing the reader
	closeBenchClient(s.c, s.rec)
}

// tether-client-onmessage: the same client with an OnMessage callback,
// which runs on the reader goroutine: the payload is still copied for the
// callback (one allocation), but no queue or goroutine hand-off follows.
// It shows how much of the channel subscriber's cost is the hand-off.
// receive counts the callback's calls from the moment it starts and
// returns at the n-th; the reader goes on until close.

type clientCallbackSession struct {
	c    *tether.Client[[]byte]
	rec  *connRecorder
	size int

	seen   atomic.Int64  // messages delivered to the callback
	want   atomic.Int64  // the count receive waits for; 0 while none
	fired  atomic.Bool   // done is closed
	done   chan struct{} // closed once seen reaches want
	failed atomic.Pointer[error]
}

func openClientCallback(ctx context.Context, url string, size int) (session, error) {
	s := &clientCallbackSession{rec: newConnRecorder(nil), size: size, done: make(chan struct{})}
	tr, err := tws.New(tws.WithProxy(nil), tws.WithNetDial(s.rec.DialContext), tws.WithReadBufferSize(readBufferSize))
	if err != nil {
		return nil, err
	}
	c, err := tether.New[[]byte](url,
		tether.WithTransport(tr),
		tether.WithoutHeartbeat(),
		tether.WithoutReconnect(),
		tether.WithAutoConnect(false),
		tether.OnMessage(s.onMessage),
	)
	if err != nil {
		return nil, err
	}
	s.c = c
	if err := c.Connect(ctx); err != nil {
		closeBenchClient(c, s.rec)
		return nil, err
	}
	return s, nil
}

// onMessage runs on the client's reader goroutine.
func (s *clientCallbackSession) onMessage(p []byte) {
	if len(p) != s.size {
		err := checkMessage(len(p), s.size)
		s.failed.CompareAndSwap(nil, &err)
	}
	if n, want := s.seen.Add(1), s.want.Load(); want != 0 && n >= want && s.fired.CompareAndSwap(false, true) {
		close(s.done)
	}
}

// receive may be called once per session.
func (s *clientCallbackSession) receive(n int) error {
	s.want.Store(s.seen.Load() + int64(n))
	<-s.done
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *clientCallbackSession) close() { closeBenchClient(s.c, s.rec) }
