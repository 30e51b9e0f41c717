package memory

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with [errors.Is].
var (
	// ErrInvalidConfig is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("tether/memory: invalid configuration")
	// ErrDropped is how a [ServerConn] ended by [ServerConn.Drop] reports
	// its end on the server side. The client sees a 1006 close instead.
	ErrDropped = errors.New("tether/memory: connection dropped by the server")
	// ErrAbandoned is how a [ServerConn] reports a dial that the client gave
	// up (its ctx ended) before the handshake completed.
	ErrAbandoned = errors.New("tether/memory: dial abandoned by the client")
)

// ConfigError reports an option that [NewServer] or [Pipe] refused. It
// matches [ErrInvalidConfig] with errors.Is.
type ConfigError struct {
	// Option names the option, for example "WithQueueLimit".
	Option string
	// Value is the refused value.
	Value any
	// Problem says what is wrong with it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("tether/memory: invalid %s (%v): %s", e.Option, e.Value, e.Problem)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }
