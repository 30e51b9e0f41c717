// Command auth shows an application state in the connection's lifecycle:
// an Authenticating stage between the socket opening and the connection
// being ready. A price feed wants a token as the first message and
// answers it before it sends anything else.
//
//	go run ./examples/auth
//
// The program starts its own WebSocket server on a loopback port and a
// client with tether.WithStage(Authenticating, ...). Its lifecycle is
// Connecting -dialed-> Authenticating -stage_done-> Open. In the stage the
// client sends {"type":"auth","token":...} with Stage.Send and reads the
// server's verdict with Stage.Receive. The first token it holds has
// expired: the server refuses it, the stage fails (stage_failed, to
// Waiting), the reconnect policy waits, and the next connection
// authenticates with a fresh token. Meanwhile a price alert the program
// sent waits in the send buffer: it goes out at Open, never before the
// token. Then the server drops the connection, and the client goes through
// Authenticating again before it is ready. The program prints the
// transitions and the prices, and the lifecycle's diagram with the stage
// in it.
//
// It finishes by itself in a few seconds.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/policy"
)

// Authenticating is the program's own state: the token exchange.
var Authenticating = fsm.DefineStage("Authenticating")

// wantPrices is how many prices the server sends in all: three on each
// authenticated connection.
const wantPrices = 6

// errRefused is the cause of a stage the server said no to.
var errRefused = errors.New("the server refused the token")

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := demo(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "auth:", err)
		os.Exit(1)
	}
}

// Result is what the program observed.
type Result struct {
	// Transitions is the client's trace, from the initial snapshot.
	Transitions []fsm.Transition
	// Prices are the prices received, in order.
	Prices []Price
	// Server is what the server saw, in order: the tokens offered and the
	// alerts received.
	Server []string
	// Diagram is the lifecycle as Mermaid, with the stage.
	Diagram string
}

// tokens hands out the program's credentials: an expired one first, as a
// program that slept through its token's lifetime would have.
type tokens struct {
	mu   sync.Mutex
	next []string
}

func (t *tokens) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tok := t.next[0]
	if len(t.next) > 1 {
		t.next = t.next[1:]
	}
	return tok
}

// authenticate is the stage: send the token, read the verdict.
func authenticate(toks *tokens) tether.StageFunc {
	return func(ctx context.Context, s *tether.Stage) error {
		if err := s.Send(ctx, Frame{Type: "auth", Token: toks.get()}); err != nil {
			return err
		}
		m, err := s.Receive(ctx)
		if err != nil {
			return err
		}
		var verdict Frame
		if err := s.Decode(m.Payload, &verdict); err != nil {
			return err
		}
		if verdict.Type != "auth_ok" {
			return fmt.Errorf("%w: %s", errRefused, verdict.Reason)
		}
		return nil
	}
}

func demo(ctx context.Context, w io.Writer) (Result, error) {
	srv := newServer()
	defer srv.close()

	var (
		mu        sync.Mutex
		res       Result
		allPrices = make(chan struct{})
	)
	backoff, err := policy.New(policy.Exponential{Initial: 200 * time.Millisecond, Max: time.Second, Multiplier: 2,
		Jitter: policy.JitterNone}, policy.WithFloorSpread(0))
	if err != nil {
		return res, err
	}
	toks := &tokens{next: []string{"expired-token", "fresh-token"}}
	c, err := tether.New[Frame](srv.ws.URL,
		tether.WithReconnect(backoff),
		tether.WithStage(Authenticating, authenticate(toks)),
		tether.OnTransition(func(tr fsm.Transition) {
			line := fmt.Sprintf("%-14s --%s--> %s", tr.From, tr.Event, tr.To)
			if tr.Cause != nil {
				line += "   (" + tr.Cause.Error() + ")"
			}
			fmt.Fprintln(w, line)
		}),
		tether.OnMessage(func(f Frame) {
			if f.Type != "price" {
				return
			}
			fmt.Fprintf(w, "               price %s %.2f\n", f.Symbol, f.Price)
			mu.Lock()
			res.Prices = append(res.Prices, Price{f.Symbol, f.Price})
			if len(res.Prices) == wantPrices {
				close(allPrices)
			}
			mu.Unlock()
		}))
	if err != nil {
		return res, err
	}
	defer func() { _ = c.Close(context.Background()) }()

	// Sent at once, while the client is still connecting: it waits in the
	// send buffer until the connection is ready.
	if err := c.Send(ctx, Frame{Type: "alert", Symbol: "BTC", Price: 100}); err != nil {
		return res, err
	}
	if err := c.Connect(ctx); err != nil {
		return res, err
	}
	// The server sends three prices, then drops the connection; the
	// client authenticates again and gets three more.
	select {
	case <-allPrices:
	case <-ctx.Done():
		return res, fmt.Errorf("waiting for %d prices: %w", wantPrices, ctx.Err())
	}
	if err := c.Close(ctx); err != nil {
		return res, err
	}
	<-c.Done()
	res.Transitions = c.Trace()
	res.Server = srv.seen()
	if res.Diagram, err = c.Diagram(fsm.Mermaid); err != nil {
		return res, err
	}
	fmt.Fprintln(w, "\nthe server saw, in order:")
	for _, s := range res.Server {
		fmt.Fprintln(w, "  "+s)
	}
	fmt.Fprintln(w, "\nthe lifecycle, with the stage:\n"+res.Diagram)
	return res, nil
}
