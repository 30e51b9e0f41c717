package policy

import (
	"slices"
	"strconv"
	"time"

	"github.com/tether-go/tether/transport"
)

// Action says what a matching rule does.
type Action uint8

// Actions.
const (
	// Retry reconnects with the strategy's delay (raised to the rule's
	// MinDelay). It is the zero value, so a zero Rule retries.
	Retry Action = iota
	// Terminal stops: retrying would get the same answer.
	Terminal
	// RetryWithCredentials retries when [RetryContext.CanRefreshCredentials]
	// is set (the next attempt carries fresh credentials) and stops with
	// [ErrUnauthorized] when it is not.
	RetryWithCredentials
)

var actionNames = [...]string{"retry", "terminal", "retry-with-credentials"}

// String returns "retry", "terminal" or "retry-with-credentials". Safe
// from any goroutine.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Rule is what happens to a close code or HTTP status.
type Rule struct {
	// Action is retry, terminal, or retry only with fresh credentials.
	Action Action
	// MinDelay is the least delay before retrying; the strategy's delay is
	// raised to it (and spread, see [WithFloorSpread]). 0 for none.
	MinDelay time.Duration
}

// stops reports whether r stops the loop for rc, and with which sentinel.
func (r Rule) stops(rc RetryContext, terminal error) (bool, error) {
	switch r.Action {
	case Terminal:
		return true, terminal
	case RetryWithCredentials:
		if !rc.CanRefreshCredentials {
			return true, ErrUnauthorized
		}
	}
	return false, nil
}

func (r Rule) validate(field string) error {
	if r.Action > RetryWithCredentials {
		return configErr(field+".Action", r.Action, "unknown action")
	}
	if r.MinDelay < 0 {
		return configErr(field+".MinDelay", r.MinDelay, "must not be negative")
	}
	return nil
}

// Code is what rules are keyed by: a close code or an HTTP status.
type Code interface {
	~int | ~uint16
}

// Range applies Rule to every code from From to To, both included.
type Range[K Code] struct {
	// From and To bound the range, both included.
	From, To K
	// Rule applies to every code in the range.
	Rule Rule
}

// Rules maps codes to rules, declaratively. Lookup takes the last range that
// contains the code, so appending a range overrides what came before (which
// is what [Rules.With] does); a code in no range gets Default.
//
// A Rules value is read-only once handed to a policy ([New] copies it); it
// is safe for concurrent use.
type Rules[K Code] struct {
	// Ranges in order of increasing precedence.
	Ranges []Range[K]
	// Default applies to codes no range contains. Its zero value retries.
	Default Rule
}

// CloseRules are rules keyed by WebSocket close code.
type CloseRules = Rules[transport.StatusCode]

// HTTPRules are rules keyed by the HTTP status of a refused handshake.
type HTTPRules = Rules[int]

// Lookup returns the rule for code. Safe for concurrent use.
func (r Rules[K]) Lookup(code K) Rule {
	for i := len(r.Ranges) - 1; i >= 0; i-- {
		if rg := r.Ranges[i]; rg.From <= code && code <= rg.To {
			return rg.Rule
		}
	}
	return r.Default
}

// With returns a copy of r in which codes from..to follow rule, overriding
// every earlier range. r itself is not modified. For one code, pass it as
// both bounds. Safe for concurrent use.
func (r Rules[K]) With(from, to K, rule Rule) Rules[K] {
	r.Ranges = append(slices.Clip(r.Ranges), Range[K]{From: from, To: to, Rule: rule})
	return r
}

// Validate reports an empty range (From above To), an unknown action or a
// negative MinDelay as a [*ConfigError]. Safe for concurrent use.
func (r Rules[K]) Validate() error {
	for i, rg := range r.Ranges {
		field := "Rules.Ranges[" + strconv.Itoa(i) + "]"
		if rg.From > rg.To {
			return configErr(field, rg, "From is above To")
		}
		if err := rg.Rule.validate(field + ".Rule"); err != nil {
			return err
		}
	}
	return r.Default.validate("Rules.Default")
}

func (r Rules[K]) clone() Rules[K] {
	r.Ranges = slices.Clone(r.Ranges)
	return r
}

// DefaultTryAgainLaterDelay is the least delay after a 1013 (try again
// later) close: the server said it is overloaded, so do not come back within
// the first second or two of the backoff.
const DefaultTryAgainLaterDelay = 5 * time.Second

// DefaultCloseRules returns the default close-code rules. The table, with
// the reason for each row, is in docs/reconnect.md:
//
//	0-999      retry     (not close codes; Default)
//	1000-1001  retry     normal closure and going away: proxies and load
//	                     balancers close idle connections with 1000, servers
//	                     restart with 1001
//	1002-1003  terminal  protocol error, unsupported data
//	1004-1006  retry     reserved, no status received, abnormal closure
//	1007       terminal  invalid payload data
//	1008       retry-with-credentials  policy violation: servers send it for
//	                     rejected or expired credentials
//	1009-1010  terminal  message too big, mandatory extension
//	1011-1012  retry     internal error, service restart
//	1013       retry     try again later, at least DefaultTryAgainLaterDelay
//	1014       retry     bad gateway
//	1015       terminal  TLS handshake failure
//	1016-2999  retry     unassigned (Default)
//	3000-3499  retry     registered codes, reconnectable (centrifuge-go)
//	3500-3999  terminal  registered codes, terminal (centrifuge-go)
//	4000-4499  retry     private codes, reconnectable (centrifuge-go)
//	4500-4999  terminal  private codes, terminal (centrifuge-go)
//
// Override single codes or ranges with [Rules.With]. A close the user asked
// for never reaches the policy: the adapter handles it.
func DefaultCloseRules() CloseRules {
	retry, terminal := Rule{Action: Retry}, Rule{Action: Terminal}
	return CloseRules{
		Ranges: []Range[transport.StatusCode]{
			{From: 1000, To: 1001, Rule: retry},
			{From: 1002, To: 1003, Rule: terminal},
			{From: 1004, To: 1006, Rule: retry},
			{From: 1007, To: 1007, Rule: terminal},
			{From: 1008, To: 1008, Rule: Rule{Action: RetryWithCredentials}},
			{From: 1009, To: 1010, Rule: terminal},
			{From: 1011, To: 1012, Rule: retry},
			{From: 1013, To: 1013, Rule: Rule{Action: Retry, MinDelay: DefaultTryAgainLaterDelay}},
			{From: 1014, To: 1014, Rule: retry},
			{From: 1015, To: 1015, Rule: terminal},
			{From: 3000, To: 3499, Rule: retry},
			{From: 3500, To: 3999, Rule: terminal},
			{From: 4000, To: 4499, Rule: retry},
			{From: 4500, To: 4999, Rule: terminal},
		},
		Default: retry,
	}
}

// DefaultHTTPRules returns the default rules for the HTTP status of a
// refused handshake. A status retries when HTTP says the condition is
// temporary; any other answer is final, since asking again gets the same one:
//
//	100-399  terminal  the endpoint answered but is not a WebSocket endpoint
//	                   (or moved: redirects are not followed)
//	400-499  terminal  client errors, except:
//	401,403  retry-with-credentials
//	408      retry     request timeout
//	425      retry     too early
//	429      retry     too many requests; honours Retry-After
//	500-599  retry     server errors (503 honours Retry-After), except:
//	501,505  terminal  not implemented, HTTP version not supported
//	other    terminal  (Default)
//
// Retry-After is honoured for any retried status that carries it.
func DefaultHTTPRules() HTTPRules {
	retry, terminal := Rule{Action: Retry}, Rule{Action: Terminal}
	creds := Rule{Action: RetryWithCredentials}
	return HTTPRules{
		Ranges: []Range[int]{
			{From: 100, To: 399, Rule: terminal},
			{From: 400, To: 499, Rule: terminal},
			{From: 401, To: 401, Rule: creds},
			{From: 403, To: 403, Rule: creds},
			{From: 408, To: 408, Rule: retry},
			{From: 425, To: 425, Rule: retry},
			{From: 429, To: 429, Rule: retry},
			{From: 500, To: 599, Rule: retry},
			{From: 501, To: 501, Rule: terminal},
			{From: 505, To: 505, Rule: terminal},
		},
		Default: terminal,
	}
}
