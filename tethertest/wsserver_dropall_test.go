package tethertest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/tethertest"
	"github.com/tether-go/tether/transport"
)

// TestDropAllRightAfterDialDropsIt: a connection is recorded before its
// upgrade answer is written, so DropAll called as soon as the client's Dial
// returns always reaches it. The server used to record it after answering,
// and DropAll missed it about one time in ten.
func TestDropAllRightAfterDialDropsIt(t *testing.T) {
	srv := tethertest.NewWSServer()
	defer srv.Close()
	tr := newTransport(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*deadline)
	defer cancel()

	for i := range 300 {
		c, err := tr.Dial(ctx, transport.Target{URL: srv.URL})
		require.NoError(t, err)
		srv.DropAll()

		read := make(chan error, 1)
		go func() {
			_, err := c.Read()
			read <- err
		}()
		select {
		case err = <-read:
		case <-time.After(deadline):
			_ = c.Close(transport.StatusNormalClosure, "") // unblocks the Read
			<-read
			require.FailNow(t, "DropAll missed the connection", "iteration %d", i)
		}
		code, ok := transport.CloseCode(err)
		require.True(t, ok, "iteration %d: %v", i, err)
		require.Equal(t, transport.StatusAbnormalClosure, code, "iteration %d", i)
		_ = c.Close(transport.StatusNormalClosure, "")

		sc, err := srv.Accept(ctx)
		require.NoError(t, err)
		select {
		case <-sc.Done():
		default:
			require.FailNow(t, "the server's end is still open after DropAll", "iteration %d", i)
		}
	}
}
