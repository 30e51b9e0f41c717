package main

import (
	"strings"
	"time"

	"github.com/tether-go/tether/policy"
)

// reconnectPolicy builds the policy -reconnect, -initial, -max and
// -max-attempts describe, with the default close-code and HTTP-status rules.
func (f *connFlags) reconnectPolicy() (*policy.Policy, error) {
	// Errors name the policy only once it is known: the value may be
	// anything, a URL given in the wrong place among others.
	name, arg, hasArg := strings.Cut(f.reconnect, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	var strategy policy.Reconnect
	switch name {
	case "exponential":
		strategy = policy.Exponential{Initial: f.initial, Max: f.max}
	case "constant":
		if !hasArg {
			return nil, usagef("-reconnect constant needs a delay, as in constant:2s")
		}
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil {
			return nil, usagef("-reconnect constant:DURATION: the delay is not a duration (such as 2s)")
		}
		strategy = policy.Constant(d)
	case "signalr":
		strategy = policy.SignalR()
	case "phoenix":
		strategy = policy.Phoenix()
	case "never":
		strategy = policy.Never()
	default:
		return nil, usagef("unknown -reconnect policy: want exponential, constant:DURATION, signalr, phoenix or never")
	}
	if hasArg && name != "constant" {
		return nil, usagef("-reconnect %s takes no argument", name)
	}
	if name != "exponential" {
		for _, fl := range []string{"initial", "max"} {
			if isSet(f.fs, fl) {
				return nil, usagef("-%s applies to -reconnect exponential only", fl)
			}
		}
	}
	if f.maxAttempts < 0 {
		return nil, usagef("-max-attempts %d is negative", f.maxAttempts)
	}
	p, err := policy.New(strategy, policy.WithMaxAttempts(f.maxAttempts))
	if err != nil {
		return nil, usagef("-reconnect %s: %w", name, err)
	}
	return p, nil
}
