package main

import (
	"strings"
	"time"

	"github.com/tether-go/tether/policy"
)

// reconnectPolicy builds the policy -reconnect, -initial, -max and
// -max-attempts describe, with the default close-code and HTTP-status rules.
func (f *connFlags) reconnectPolicy() (*policy.Policy, error) {
	name, arg, hasArg := strings.Cut(f.reconnect, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if name != "exponential" {
		for _, fl := range []string{"initial", "max"} {
			if isSet(f.fs, fl) {
				return nil, usagef("-%s applies to -reconnect exponential only", fl)
			}
		}
	}
	if hasArg != (name == "constant") {
		if hasArg {
			return nil, usagef("-reconnect %s takes no argument", name)
		}
		return nil, usagef("-reconnect constant needs a delay, as in constant:2s")
	}
	var strategy policy.Reconnect
	switch name {
	case "exponential":
		strategy = policy.Exponential{Initial: f.initial, Max: f.max}
	case "constant":
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil {
			return nil, usagef("-reconnect constant:DURATION: %v", err)
		}
		strategy = policy.Constant(d)
	case "signalr":
		strategy = policy.SignalR()
	case "phoenix":
		strategy = policy.Phoenix()
	case "never":
		strategy = policy.Never()
	default:
		return nil, usagef("unknown -reconnect %q: want exponential, constant:DURATION, signalr, phoenix or never", f.reconnect)
	}
	if f.maxAttempts < 0 {
		return nil, usagef("-max-attempts %d is negative", f.maxAttempts)
	}
	p, err := policy.New(strategy, policy.WithMaxAttempts(f.maxAttempts))
	if err != nil {
		return nil, usagef("-reconnect %s: %w", f.reconnect, err)
	}
	return p, nil
}
