package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/reactivex/rxgo/v2"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/rx"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
	tws "github.com/tether-go/tether/transport/websocket"
)

// The tether Client receivers all use the Client's default options: the
// default heartbeat, reconnect policy, buffers and overflow policy (Block).
// The only option set is the transport, built with the defaults plus a
// recording dialer (see openDefaultClient), so that close can drop the
// connection at once.

// openDefaultClient builds a tether.Client[[]byte] with default options and
// opts, and waits until it is Open.
func openDefaultClient(ctx context.Context, url string, rec *connRecorder, opts ...tether.Option) (*tether.Client[[]byte], error) {
	tr, err := tws.New(tws.WithProxy(nil), tws.WithNetDial(rec.DialContext))
	if err != nil {
		return nil, err
	}
	c, err := tether.New[[]byte](url, append([]tether.Option{tether.WithTransport(tr)}, opts...)...)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		closeDefaultClient(c, rec)
		return nil, err
	}
	return c, nil
}

// closeDefaultClient closes the client while dropping its connections: the
// feeding server never answers a close handshake, and the default policy
// would dial it again.
func closeDefaultClient(c *tether.Client[[]byte], rec *connRecorder) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		_ = c.Close(ctx)
		close(closed)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		rec.dropAll()
		select {
		case <-closed:
			<-c.Done()
			return
		case <-tick.C:
		}
	}
}

// counter is a receive that waits for a callback on the reader goroutine
// to have seen n messages, counting from the moment receive starts. The
// callback runs on one goroutine at a time, so it counts in plain fields,
// as the raw loop does; only the request (want) and the answer (done)
// cross goroutines.
type counter struct {
	size   int
	seen   int64         // messages seen; the callback's alone
	base   int64         // seen when the request was first noticed; -1 before
	want   atomic.Int64  // the count receive waits for; 0 while none
	done   chan struct{} // closed once seen-base reaches want
	failed atomic.Pointer[error]
}

func newCounter(size int) *counter { return &counter{size: size, base: -1, done: make(chan struct{})} }

// see counts one message of n bytes; it runs on the reader goroutine.
func (k *counter) see(n int) {
	if n != k.size {
		err := checkMessage(n, k.size)
		k.failed.CompareAndSwap(nil, &err)
	}
	k.seen++
	want := k.want.Load()
	if want == 0 {
		return
	}
	if k.base < 0 {
		k.base = k.seen - 1 // this message is the first counted
	}
	if k.seen-k.base == want {
		close(k.done)
	}
}

// wait returns once n more messages were seen; it may be called once.
func (k *counter) wait(n int) error {
	k.want.Store(int64(n))
	<-k.done
	if p := k.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// tether-raw: OnRaw, the borrowed fast path: the callback runs on the
// reader goroutine with the read buffer itself, no copy, no allocation.

type clientRawSession struct {
	c   *tether.Client[[]byte]
	rec *connRecorder
	k   *counter
}

func openClientRaw(ctx context.Context, url string, size int) (session, error) {
	s := &clientRawSession{rec: newConnRecorder(nil), k: newCounter(size)}
	c, err := openDefaultClient(ctx, url, s.rec, tether.OnRaw(func(m transport.Message) { s.k.see(len(m.Payload)) }))
	if err != nil {
		return nil, err
	}
	s.c = c
	return s, nil
}

func (s *clientRawSession) receive(n int) error { return s.k.wait(n) }
func (s *clientRawSession) close()              { closeDefaultClient(s.c, s.rec) }

// tether-onmessage: OnMessage, on the reader goroutine, with a payload the
// callback owns.

type clientOnMessageSession struct {
	c   *tether.Client[[]byte]
	rec *connRecorder
	k   *counter
}

func openClientOnMessage(ctx context.Context, url string, size int) (session, error) {
	s := &clientOnMessageSession{rec: newConnRecorder(nil), k: newCounter(size)}
	c, err := openDefaultClient(ctx, url, s.rec, tether.OnMessage(func(p []byte) { s.k.see(len(p)) }))
	if err != nil {
		return nil, err
	}
	s.c = c
	return s, nil
}

func (s *clientOnMessageSession) receive(n int) error { return s.k.wait(n) }
func (s *clientOnMessageSession) close()              { closeDefaultClient(s.c, s.rec) }

// tether-all: the README's loop, `for m := range c.Messages(ctx).All()`,
// on its own goroutine as a program would run it.

type clientAllSession struct {
	c      *tether.Client[[]byte]
	rec    *connRecorder
	cancel context.CancelFunc
	k      *counter
	ended  chan struct{}
}

func openClientAll(ctx context.Context, url string, size int) (session, error) {
	s := &clientAllSession{rec: newConnRecorder(nil), k: newCounter(size), ended: make(chan struct{})}
	c, err := openDefaultClient(ctx, url, s.rec)
	if err != nil {
		return nil, err
	}
	s.c = c
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	msgs := c.Messages(sctx)
	go func() {
		defer close(s.ended)
		for m := range msgs.All() {
			s.k.see(len(m))
		}
	}()
	return s, nil
}

func (s *clientAllSession) receive(n int) error { return s.k.wait(n) }

func (s *clientAllSession) close() {
	s.cancel()
	closeDefaultClient(s.c, s.rec)
	<-s.ended
}

// tether-chan: a Messages subscription read from its channel (C), one
// channel operation per message.

type clientChanSession struct {
	c   *tether.Client[[]byte]
	rec *connRecorder
	sub *stream.Subscription[[]byte]
	ch  <-chan []byte
	k   *counter
}

func openClientChan(ctx context.Context, url string, size int) (session, error) {
	rec := newConnRecorder(nil)
	c, err := openDefaultClient(ctx, url, rec)
	if err != nil {
		return nil, err
	}
	sub := c.Messages(context.Background())
	return &clientChanSession{c: c, rec: rec, sub: sub, ch: sub.C(), k: newCounter(size)}, nil
}

func (s *clientChanSession) receive(n int) error {
	for range n {
		p, ok := <-s.ch
		if !ok {
			return fmt.Errorf("%w: subscription ended: %v", errWrongMessage, s.sub.Err())
		}
		if err := checkMessage(len(p), s.k.size); err != nil {
			return err
		}
	}
	return nil
}

func (s *clientChanSession) close() {
	s.sub.Close() // releases the reader if it waits for room
	closeDefaultClient(s.c, s.rec)
}

// tether-rx: rx.Messages, read with Observe: each item is an rxgo.Item
// boxing the payload.

type clientRxSession struct {
	c      *tether.Client[[]byte]
	rec    *connRecorder
	cancel context.CancelFunc
	items  <-chan rxgo.Item
	size   int
}

func openClientRx(ctx context.Context, url string, size int) (session, error) {
	rec := newConnRecorder(nil)
	c, err := openDefaultClient(ctx, url, rec)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithCancel(context.Background())
	obs := rx.Messages(octx, c)
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
	closeDefaultClient(s.c, s.rec)
}
