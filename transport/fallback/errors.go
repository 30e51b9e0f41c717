package fallback

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with [errors.Is].
var (
	// ErrInvalidConfig is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("tether/fallback: invalid configuration")
	// ErrUpgrade is why a Conn of the secondary transport ended when a probe
	// found the primary back: its error is a [*transport.CloseError] with
	// code 1012 (service restart) wrapping ErrUpgrade, and the next Dial
	// goes to the primary. It is also the reason [WithOnSwitch] gets for an
	// upgrade.
	ErrUpgrade = errors.New("tether/fallback: primary transport is back, upgrading")
)

// ConfigError reports an argument or option that [New] refused. It matches
// [ErrInvalidConfig].
type ConfigError struct {
	// Option names the option or argument, for example "WithSwitchAfter".
	Option string
	// Value is the refused value.
	Value any
	// Problem says what is wrong with it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("tether/fallback: invalid %s (%v): %s", e.Option, e.Value, e.Problem)
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }
