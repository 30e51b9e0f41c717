package adapters

import (
	"context"
	"log/slog"

	"github.com/tether-go/tether/fsm"
)

// LogTransitions returns a hook that records every transition on l: Info
// for the normal course (connect, open, close), Warn for failures (a failed
// dial, a drop, a heartbeat timeout, a give-up). Each record carries the
// from and to states, the event, the attempt, the transport, the close code
// and the cause when they are set.
//
// The hook runs on the machine's actor, so l's handler should not
// block for long. Causes come from tether's own errors, which redact
// credentials from URLs.
func LogTransitions(l *slog.Logger) fsm.Hook {
	return func(tr fsm.Transition) (fsm.Input, bool) {
		level := slog.LevelInfo
		switch tr.Event {
		case fsm.EventDialFailed, fsm.EventDropped, fsm.EventHeartbeatTimeout, fsm.EventGiveUp:
			level = slog.LevelWarn
		}
		if !l.Enabled(context.Background(), level) {
			return fsm.Input{}, false
		}
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs,
			slog.String("from", tr.From.String()),
			slog.String("to", tr.To.String()),
			slog.String("event", tr.Event.String()),
			slog.Uint64("seq", tr.Seq),
		)
		if tr.Attempt > 0 {
			attrs = append(attrs, slog.Int("attempt", tr.Attempt))
		}
		if tr.Transport != "" {
			attrs = append(attrs, slog.String("transport", tr.Transport))
		}
		if tr.CloseCode != 0 {
			attrs = append(attrs, slog.Int("close_code", int(tr.CloseCode)))
		}
		if tr.Cause != nil {
			attrs = append(attrs, slog.String("cause", tr.Cause.Error()))
		}
		l.LogAttrs(context.Background(), level, "tether transition", attrs...)
		return fsm.Input{}, false
	}
}
