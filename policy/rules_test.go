package policy_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/policy"
	"github.com/tether-go/tether/transport"
)

var (
	retry    = policy.Rule{Action: policy.Retry}
	terminal = policy.Rule{Action: policy.Terminal}
	creds    = policy.Rule{Action: policy.RetryWithCredentials}
)

// closeTable lists every row of DefaultCloseRules at both ends of its range,
// plus the gaps that fall to Default.
var closeTable = []struct {
	code transport.StatusCode
	rule policy.Rule
}{
	{1, retry}, {999, retry}, // not close codes: Default
	{1000, retry}, {1001, retry},
	{1002, terminal}, {1003, terminal},
	{1004, retry}, {1005, retry}, {1006, retry},
	{1007, terminal},
	{1008, creds},
	{1009, terminal}, {1010, terminal},
	{1011, retry}, {1012, retry},
	{1013, policy.Rule{Action: policy.Retry, MinDelay: policy.DefaultTryAgainLaterDelay}},
	{1014, retry},
	{1015, terminal},
	{1016, retry}, {2999, retry}, // unassigned: Default
	{3000, retry}, {3499, retry},
	{3500, terminal}, {3999, terminal},
	{4000, retry}, {4499, retry},
	{4500, terminal}, {4999, terminal},
	{5000, retry}, {65535, retry}, // beyond the registry: Default
}

func TestDefaultCloseRulesTable(t *testing.T) {
	rules := policy.DefaultCloseRules()
	require.NoError(t, rules.Validate())
	for _, tc := range closeTable {
		assert.Equal(t, tc.rule, rules.Lookup(tc.code), "close code %v", tc.code)
	}
}

func TestDefaultCloseRulesThroughPolicy(t *testing.T) {
	p, err := policy.New(policy.Exponential{Jitter: policy.JitterNone}, policy.WithFloorSpread(0))
	require.NoError(t, err)
	for _, tc := range closeTable {
		for _, canRefresh := range []bool{false, true} {
			name := fmt.Sprintf("%v/refresh=%v", tc.code, canRefresh)
			cause := &transport.CloseError{Code: tc.code, Remote: true}
			rc := policy.RetryContext{Attempt: 1, CanRefreshCredentials: canRefresh}.WithError(cause, time.Time{})
			d := p.Next(rc)
			stops := tc.rule.Action == policy.Terminal || (tc.rule.Action == policy.RetryWithCredentials && !canRefresh)
			if !stops {
				assert.Equal(t, max(time.Second, tc.rule.MinDelay), mustDelay(t, d), name)
				continue
			}
			se := mustStop(t, d, policy.RuleCloseCode)
			assert.ErrorIs(t, se, policy.ErrTerminalCloseCode, name)
			assert.Equal(t, tc.code, se.CloseCode, name)
			assert.ErrorIs(t, se, cause, name)
			if tc.rule.Action == policy.RetryWithCredentials {
				assert.ErrorIs(t, se, policy.ErrUnauthorized, name)
			} else {
				assert.NotErrorIs(t, se, policy.ErrUnauthorized, name)
			}
		}
	}
}

var httpTable = []struct {
	status int
	rule   policy.Rule
}{
	{101, terminal}, {200, terminal}, {301, terminal}, {302, terminal}, {399, terminal},
	{400, terminal}, {401, creds}, {402, terminal}, {403, creds}, {404, terminal},
	{405, terminal}, {407, terminal}, {408, retry}, {409, terminal}, {410, terminal},
	{425, retry}, {426, terminal}, {429, retry}, {431, terminal}, {499, terminal},
	{500, retry}, {501, terminal}, {502, retry}, {503, retry}, {504, retry},
	{505, terminal}, {511, retry}, {599, retry},
	{600, terminal}, {99, terminal}, // outside HTTP: Default
}

func TestDefaultHTTPRulesTable(t *testing.T) {
	rules := policy.DefaultHTTPRules()
	require.NoError(t, rules.Validate())
	for _, tc := range httpTable {
		assert.Equal(t, tc.rule, rules.Lookup(tc.status), "HTTP %d", tc.status)
	}
}

func TestRulesWithOverridesWithoutAliasing(t *testing.T) {
	base := policy.DefaultCloseRules()
	n := len(base.Ranges)

	a := base.With(1000, 1000, terminal)
	b := base.With(4000, 4999, policy.Rule{Action: policy.Retry, MinDelay: time.Minute})

	assert.Equal(t, terminal, a.Lookup(1000))
	assert.Equal(t, retry, a.Lookup(1001), "only the overridden code changes")
	assert.Equal(t, retry, b.Lookup(1000), "a sibling override does not leak")
	assert.Equal(t, time.Minute, b.Lookup(4600).MinDelay, "a later range wins over an earlier one")
	assert.Equal(t, retry, base.Lookup(1000), "the base is untouched")
	assert.Len(t, base.Ranges, n)
}

func TestZeroRulesRetryEverything(t *testing.T) {
	var r policy.CloseRules
	assert.Equal(t, retry, r.Lookup(1002))
	require.NoError(t, r.Validate())
}

func TestRulesValidate(t *testing.T) {
	cases := []struct {
		name  string
		rules policy.HTTPRules
		field string
	}{
		{"empty range", policy.HTTPRules{Ranges: []policy.Range[int]{{From: 500, To: 400}}}, "Rules.Ranges[0]"},
		{"unknown action", policy.DefaultHTTPRules().With(418, 418, policy.Rule{Action: 9}), "Rules.Ranges[10].Rule.Action"},
		{"negative min delay", policy.HTTPRules{Default: policy.Rule{MinDelay: -1}}, "Rules.Default.MinDelay"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rules.Validate()
			ce, ok := errors.AsType[*policy.ConfigError](err)
			require.True(t, ok, "got %v", err)
			assert.Equal(t, tc.field, ce.Field)
			_, err = policy.New(nil, policy.WithHTTPRules(tc.rules))
			assert.ErrorIs(t, err, policy.ErrInvalidConfig)
		})
	}
}

func TestActionString(t *testing.T) {
	assert.Equal(t, "retry", policy.Retry.String())
	assert.Equal(t, "terminal", policy.Terminal.String())
	assert.Equal(t, "retry-with-credentials", policy.RetryWithCredentials.String())
	assert.Equal(t, "Action(7)", policy.Action(7).String())
}
