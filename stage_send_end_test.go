package tether_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
)

// TestNothingTheStageSendsIsWrittenAfterIt: a stage leaves a goroutine
// sending until Stage.Send refuses, and returns while that goroutine waits
// for room in the connection's queue (the server is not reading yet). The
// waiting Send used to be written after Open, behind the program's first
// message, and to return nil (outside review: 56-75 of 200 runs); a Send
// on a Stage kept after the stage could also slip through its check and
// be written (12 of 300 under -race). Stage.Sends under way are now cut
// short by the end of the stage, which waits for them, and refuse with
// the stage ctx's cause.
func TestNothingTheStageSendsIsWrittenAfterIt(t *testing.T) {
	for round := range 20 {
		e := newEnv(t)
		left := make(chan *tether.Stage, 1)
		loopEnded := make(chan error, 1)
		c := client[string](e, tether.WithAutoConnect(false), tether.WithStage(authenticating,
			func(ctx context.Context, s *tether.Stage) error {
				sent := make(chan struct{})
				go func() {
					for k := 0; ; k++ {
						if err := s.Send(context.Background(), fmt.Sprintf("stage %d", k)); err != nil {
							loopEnded <- err
							return
						}
						if k == 10 {
							close(sent)
						}
					}
				}()
				<-sent
				left <- s
				return nil
			}))
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		require.NoError(t, c.Connect(ctx))
		sc := e.accept()
		require.ErrorIs(t, recv(t, loopEnded), context.Canceled, "round %d: the stage's Sends end with it", round)
		require.ErrorIs(t, (<-left).Send(ctx, "late"), context.Canceled, "a kept Stage sends nothing")
		// The stage may have filled the connection's queue: the server
		// reads while the program sends.
		var got []string
		read := make(chan struct{})
		go func() {
			defer close(read)
			for {
				m, err := sc.Recv(ctx)
				if err != nil {
					return
				}
				got = append(got, string(m.Payload))
			}
		}()
		require.NoError(t, c.Send(ctx, "program"))
		require.NoError(t, c.Close(ctx))
		<-read
		at := slices.Index(got, "program")
		require.GreaterOrEqual(t, at, 0, "round %d: the program's message arrived", round)
		for _, s := range got[:at] {
			require.True(t, strings.HasPrefix(s, "stage "), "round %d: %q", round, s)
		}
		assert.Empty(t, got[at+1:], "round %d: written after the program's first message", round)
		cancel()
	}
}
