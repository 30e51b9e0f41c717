package bench

import (
	"context"
	"sync"

	"github.com/tether-go/tether"
	tws "github.com/tether-go/tether/transport/websocket"
)

// tether-client-64k: Client.Send of a []byte (a binary message) from each
// goroutine, through the client's outbound path, with the transport's
// write buffer set to the reference's 64 KiB, no heartbeat and no
// reconnect (openBenchClient).

type clientSender struct {
	c        *tether.Client[[]byte]
	rec      *connRecorder
	defaults bool
	binary   bool // SendBinary instead of Send
}

// tether-client: the same with the Client's default options
// (openDefaultClient): a 64 KiB write buffer, the default heartbeat and
// reconnect policy.
func openDefaultClientSender(ctx context.Context, url string, dial netDial) (sendSession, error) {
	rec := newConnRecorder(dial)
	c, err := openDefaultClient(ctx, url, rec)
	if err != nil {
		return nil, err
	}
	return &clientSender{c: c, rec: rec, defaults: true}, nil
}

// tether-client-binary: tether-client with Client.SendBinary, which takes
// the []byte as it is instead of as an any (no allocation a message).
func openBinaryClientSender(ctx context.Context, url string, dial netDial) (sendSession, error) {
	s, err := openDefaultClientSender(ctx, url, dial)
	if err != nil {
		return nil, err
	}
	s.(*clientSender).binary = true
	return s, nil
}

func openClientSender(ctx context.Context, url string, dial netDial) (sendSession, error) {
	rec := newConnRecorder(dial)
	c, err := openBenchClient(ctx, url, rec, tws.WithWriteBufferSize(sendBufferSize))
	if err != nil {
		return nil, err
	}
	return &clientSender{c: c, rec: rec}, nil
}

func (s *clientSender) send(n, goroutines int, payload []byte) error {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		share := n / goroutines
		if g < n%goroutines {
			share++
		}
		wg.Go(func() {
			for range share {
				var err error
				if s.binary {
					err = s.c.SendBinary(ctx, payload)
				} else {
					err = s.c.Send(ctx, payload)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func (s *clientSender) close() {
	if s.defaults {
		closeDefaultClient(s.c, s.rec)
		return
	}
	closeBenchClient(s.c, s.rec)
}
