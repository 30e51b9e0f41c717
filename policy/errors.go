package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tether-go/tether/transport"
)

// Sentinel errors. A [Decision] that stops carries a [*StopError] whose
// Unwrap exposes one or two of these, so callers branch with [errors.Is].
var (
	// ErrAttemptsExhausted means the attempt cap ([WithMaxAttempts]) was
	// reached.
	ErrAttemptsExhausted = errors.New("tether/policy: reconnect attempts exhausted")
	// ErrElapsedExceeded means the next attempt would start after the
	// elapsed-time cap ([WithMaxElapsed]).
	ErrElapsedExceeded = errors.New("tether/policy: reconnect time budget exceeded")
	// ErrTerminalCloseCode means a close-code rule says the close is final.
	ErrTerminalCloseCode = errors.New("tether/policy: terminal close code")
	// ErrTerminalHTTPStatus means an HTTP-status rule says the refused
	// handshake is final.
	ErrTerminalHTTPStatus = errors.New("tether/policy: terminal HTTP status")
	// ErrUnauthorized means a rule with action [RetryWithCredentials]
	// matched while no credentials provider is configured
	// ([RetryContext.CanRefreshCredentials] false), so retrying would send the
	// same credentials again. It comes together with ErrTerminalHTTPStatus or
	// ErrTerminalCloseCode, whichever rule matched.
	ErrUnauthorized = errors.New("tether/policy: refused as unauthorized or forbidden, and no way to refresh credentials")
	// ErrScheduleExhausted means a [Schedule] without Repeat ran out of
	// delays.
	ErrScheduleExhausted = errors.New("tether/policy: retry schedule exhausted")
	// ErrNever means the strategy is [Never]: no reconnect at all.
	ErrNever = errors.New("tether/policy: reconnect disabled")
	// ErrStrategyStopped means a custom strategy stopped. [Policy] makes
	// every such stop a [*StopError] of [RuleStrategy], which matches it;
	// the strategy's own reason, when it gave one, is the StopError's Kind.
	ErrStrategyStopped = errors.New("tether/policy: strategy stopped")
	// ErrTerminalError means the last error is one after which retrying is
	// pointless (see [WithTerminalErrors]).
	ErrTerminalError = errors.New("tether/policy: terminal error")
	// ErrInvalidConfig is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("tether/policy: invalid configuration")
)

// Rule names used in [StopError.Rule]. They are stable and safe to log or to
// use as metric labels.
const (
	RuleMaxAttempts = "max-attempts"
	RuleMaxElapsed  = "max-elapsed"
	RuleCloseCode   = "close-code"
	RuleHTTPStatus  = "http-status"
	RuleSchedule    = "schedule"
	RuleNever       = "never"
	RuleStrategy    = "strategy"
	RuleConfig      = "config"
	RuleError       = "terminal-error"
)

// StopError is the reason of a [Decision] that stops: which rule stopped the
// reconnect loop, at which point, and the last connection error. The adapter
// uses it as the cause of the give-up transition.
//
// errors.Is matches Kind, the rule's category sentinel (ErrTerminalCloseCode
// for [RuleCloseCode], ErrTerminalHTTPStatus for [RuleHTTPStatus]) and
// anything in Err's chain, so both errors.Is(reason, ErrUnauthorized) and
// errors.As(reason, new(*transport.HandshakeError)) work.
type StopError struct {
	// Rule names the rule that stopped, one of the Rule* constants.
	Rule string
	// Kind is the sentinel (or, for [RuleConfig], the *ConfigError) saying
	// why.
	Kind error
	// Attempt is the attempt that was refused ([RetryContext.Attempt]).
	Attempt int
	// Elapsed is [RetryContext.Elapsed] when the policy stopped.
	Elapsed time.Duration
	// CloseCode and HTTPStatus are copied from the retry context (0 when
	// none).
	CloseCode  transport.StatusCode
	HTTPStatus int
	// Err is the last connection error ([RetryContext.Err]), possibly nil.
	Err error
}

// newStop builds the StopError for rule and kind from rc.
func newStop(rule string, kind error, rc RetryContext) *StopError {
	return &StopError{
		Rule:       rule,
		Kind:       kind,
		Attempt:    rc.Attempt,
		Elapsed:    rc.Elapsed,
		CloseCode:  rc.CloseCode,
		HTTPStatus: rc.HTTPStatus,
		Err:        rc.Err,
	}
}

// strategyStop is the reason of a stop decided by a strategy: its own
// *StopError (or an error wrapping one) as it is; otherwise a StopError of [RuleStrategy] whose Kind
// is the strategy's reason (ErrStrategyStopped when it gave none), so that
// the last connection error is in the chain as for every other rule.
func strategyStop(reason error, rc RetryContext) error {
	if _, ok := errors.AsType[*StopError](reason); ok {
		return reason // the strategy's own, wrapped or not
	}
	if reason == nil || reason == rc.Err {
		reason = ErrStrategyStopped // rc.Err is in Err already: not twice
	}
	return newStop(RuleStrategy, reason, rc)
}

// Error describes the stop. Safe from any goroutine.
func (e *StopError) Error() string {
	var b strings.Builder
	b.WriteString("tether/policy: reconnect stopped by ")
	b.WriteString(e.Rule)
	if e.Attempt > 0 {
		fmt.Fprintf(&b, " before attempt %d", e.Attempt)
	}
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "tether/policy: "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind, the category sentinel of Rule (when it differs from
// Kind) and Err, skipping nils. Safe from any goroutine.
func (e *StopError) Unwrap() []error {
	errs := make([]error, 0, 3)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	var category error
	switch e.Rule {
	case RuleCloseCode:
		category = ErrTerminalCloseCode
	case RuleHTTPStatus:
		category = ErrTerminalHTTPStatus
	case RuleStrategy:
		category = ErrStrategyStopped
	}
	if category != nil && category != e.Kind {
		errs = append(errs, category)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ConfigError reports a parameter that a constructor, option or Validate
// method refused. It matches [ErrInvalidConfig] with errors.Is.
type ConfigError struct {
	// Field names the parameter, for example "Exponential.Max" or
	// "WithMaxAttempts".
	Field string
	// Value is the refused value.
	Value any
	// Problem says what is wrong with it.
	Problem string
}

// Error describes the refused parameter. Safe from any goroutine.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("tether/policy: invalid %s (%v): %s", e.Field, e.Value, e.Problem)
}

// Is reports whether target is [ErrInvalidConfig]. Safe from any goroutine.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func configErr(field string, value any, problem string) *ConfigError {
	return &ConfigError{Field: field, Value: value, Problem: problem}
}
