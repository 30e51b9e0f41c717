package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
)

// events prints what happens to the connection on w (standard error) and
// reports the client reaching Closed on closed.
type events struct {
	w io.Writer
	// closed receives the transition to Closed, once.
	closed chan fsm.Transition
}

func newEvents(w io.Writer) *events {
	return &events{w: w, closed: make(chan fsm.Transition, 1)}
}

// options returns the callbacks that feed ev. They run on the client's
// callback goroutine, one at a time.
func (ev *events) options() []tether.Option {
	return []tether.Option{
		tether.OnTransition(func(t fsm.Transition) {
			fmt.Fprintf(ev.w, "[transition] %s\n", t)
		}),
		tether.OnRetry(func(r tether.Retry) {
			fmt.Fprintf(ev.w, "[retry] attempt %d in %s\n", r.Attempt, r.Delay.Round(time.Millisecond))
		}),
		tether.OnError(func(err error) {
			var (
				te *tether.TransitionError
				de *tether.DropError
				pe *tether.PossiblyLostError
			)
			switch {
			case errors.As(err, &te): // already printed with its transition
			case errors.As(err, &de), errors.As(err, &pe): // printed line by line by OnDrop
			default:
				fmt.Fprintf(ev.w, "[error] %v\n", err)
			}
		}),
		// OnDrop runs on the callback goroutine, like the others.
		tether.OnDrop(func(d tether.Drop) {
			fmt.Fprintf(ev.w, "[drop] message %d%s: %v\n", d.ID, excerpt(d.Value), d.Reason)
		}),
		tether.OnDone(func(t fsm.Transition) {
			select {
			case ev.closed <- t:
			default:
			}
		}),
	}
}

// gaveUp turns the transition to Closed that the client made by itself
// into the error the command exits with.
func gaveUp(t fsm.Transition) error {
	if t.Cause == nil {
		return errors.New("connection closed")
	}
	return fmt.Errorf("gave up: %w", t.Cause)
}

// excerptLen is how much of a dropped line a [drop] report shows, in runes.
const excerptLen = 60

// excerpt returns " " and the start of v, quoted, when v is a line dial
// sent, and "" otherwise.
func excerpt(v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	if r := []rune(s); len(r) > excerptLen {
		return " " + strconv.Quote(string(r[:excerptLen])) + "..."
	}
	return " " + strconv.Quote(s)
}
