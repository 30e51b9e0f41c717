package main

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/tether-go/tether/transport"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The secrets of the CLI tests: a user, a password and a token value made
// of the characters that cut a URL into the wrong parts. Each starts with a
// marker nothing else the CLI prints holds.
const (
	cliUser     = "Us7er"
	cliPassword = "Pw0/s?s#@;%zz x\x01"
	cliToken    = "Tk9/a?b#c@d;e%zz f"
)

// assertNoSecret checks that none of the secrets appears in out, as written
// or escaped, nor even its marker.
func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{cliUser, cliPassword, cliToken} {
		for _, f := range []string{s, s[:3], url.User(s).String(), url.PathEscape(s), url.QueryEscape(s)} {
			assert.NotContains(t, out, f, "%s leaks a secret", what)
		}
	}
}

// rawSecretURL is a URL with the secrets written as they are: it does not
// parse.
func rawSecretURL(hostport string) string {
	return "ws://" + cliUser + ":" + cliPassword + "@" + hostport + "/feed?room=1&token=" + cliToken
}

// escapedSecretURL is the same URL written correctly: it parses and can be
// dialled.
func escapedSecretURL(hostport string) string {
	return "ws://" + url.UserPassword(cliUser, cliPassword).String() + "@" + hostport +
		"/feed?room=1&token=" + url.QueryEscape(cliToken)
}

// TestCommandLineErrorsNeverEchoSecrets: whatever the mistake, the CLI's
// messages never repeat a secret from the command line: a URL goes through
// transport.RedactURL, other arguments are counted or named, never
// printed.
func TestCommandLineErrorsNeverEchoSecrets(t *testing.T) {
	good := escapedSecretURL("127.0.0.1:1")
	for name, args := range map[string][]string{
		"bad URL":                                 {"dial", rawSecretURL("host")},
		"bad URL for trace":                       {"trace", rawSecretURL("host")},
		"slash in the password (issue 13)":        {"dial", "ws://" + cliUser + ":Pw0/ss@host/"},
		"question mark in the password (13)":      {"dial", "ws://" + cliUser + ":Pw0?ss@host"},
		"password that parses as a port and path": {"dial", "ws://" + cliUser + ":12/Pw0@host/"},
		"no host":                          {"dial", "ws://" + url.UserPassword(cliUser, cliPassword).String() + "@/feed"},
		"bad scheme":                       {"dial", "ftp://" + url.UserPassword(cliUser, cliPassword).String() + "@host/"},
		"too many arguments":               {"dial", good, rawSecretURL("host")},
		"unexpected arguments to version":  {"version", good},
		"unexpected arguments to diagram":  {"diagram", rawSecretURL("host"), cliToken},
		"URL as the command":               {rawSecretURL("host")},
		"URL as the help topic":            {"help", good},
		"URL as a flag":                    {"dial", "-" + good},
		"URL as a duration":                {"dial", "-heartbeat", good, good},
		"URL as the reconnect policy":      {"dial", "-reconnect", good, good},
		"token as a constant delay":        {"dial", "-reconnect", "constant:" + cliToken, good},
		"header without a colon":           {"dial", "-H", "Authorization Bearer " + cliToken, good},
		"header with a bad name":           {"dial", "-H", "Bearer " + cliToken + ": x", good},
		"empty subprotocol beside a token": {"dial", "-subprotocol", "base64url.bearer." + cliToken + ",,x", good},
		"boolean flag with a token":        {"dial", "-stdin=" + cliToken, good},
		"token as the diagram format":      {"diagram", "-format", cliToken},
		// Outside review: these parse as URLs (a scheme and an opaque
		// part, or a bare path) and were echoed whole.
		"header typed as the URL":   {"dial", "Authorization: Bearer " + strings.ReplaceAll(cliToken, "%", "")},
		"user:password as the URL":  {"dial", cliUser + ":" + cliUser + "secret"},
		"bare token as the URL":     {"dial", "Bearer" + cliUser},
		"URL as the listen address": {"inspect", "-listen", "wss://" + cliUser + ":pw@127.0.0.1:8090/?token=abc", good},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runSync(t, args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.NotEmpty(t, stderr)
			assertNoSecret(t, "stdout", stdout)
			assertNoSecret(t, "stderr", stderr)
		})
	}
}

// TestCACertErrorNeverEchoesThePath: a -cacert value that is not a file
// (a header typed in the wrong place, say) is not repeated: the path used
// to be quoted in the error (outside review).
func TestCACertErrorNeverEchoesThePath(t *testing.T) {
	code, stdout, stderr := runSync(t, "dial", "-cacert", "Authorization: Bearer "+cliUser, escapedSecretURL("127.0.0.1:1"))
	assert.Equal(t, exitError, code, stderr)
	assert.Contains(t, stderr, "-cacert")
	assertNoSecret(t, "stdout", stdout)
	assertNoSecret(t, "stderr", stderr)
}

// TestCommandLineErrorsStillSayWhat: the messages stay useful without the
// arguments: counts, flag names, and the URL redacted.
func TestCommandLineErrorsStillSayWhat(t *testing.T) {
	good := escapedSecretURL("127.0.0.1:1")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"too many":          {[]string{"dial", good, good}, "want one URL, got 2 arguments"},
		"boolean spaced":    {[]string{"dial", "-stdin", "false", good}, "(a boolean flag takes its value with =, as in -stdin=false)"},
		"no command":        {[]string{}, "tether: no command given"},
		"unexpected":        {[]string{"version", good}, "takes no arguments, got 1 argument"},
		"bad URL":           {[]string{"dial", rawSecretURL("host")}, `bad URL "ws://REDACTED": an invalid port after the host`},
		"bad escape":        {[]string{"dial", "ws://127.0.0.1:1/%zz"}, `: an invalid %-escape`},
		"port out of range": {[]string{"dial", "ws://127.0.0.1:99999/"}, `has a port out of range (1 to 65535)`},
		"'@' after host":    {[]string{"dial", "ws://a:12/b@host/"}, `an '@' after the host must be escaped as %40`},
		"bad duration":      {[]string{"dial", "-heartbeat", good, good}, "invalid value for flag -heartbeat: parse error; want a duration such as 500ms, 10s or 1m30s"},
		"bad count":         {[]string{"dial", "-max-attempts", "abc", good}, "invalid value for flag -max-attempts: parse error; want a whole number"},
		"bad boolean":       {[]string{"dial", "-stdin=maybe", good}, "invalid value for flag -stdin: parse error; want true or false (written -stdin=false)"},
		"unknown flag":      {[]string{"dial", "-nope", good}, "flag provided but not defined: -nope"},
		"URL as a flag":     {[]string{"dial", "-" + good}, "flag provided but not defined: -(not shown)"},
		"missing value":     {[]string{"dial", "-pretty", "-heartbeat"}, "flag needs an argument: -heartbeat"},
		"bad syntax":        {[]string{"dial", "---x", good}, "bad flag syntax"},
		"typo":              {[]string{"dail", good}, "tether: unknown command dail"},
		"URL as command":    {[]string{good}, "tether: unknown command (not shown)"},
		"header no colon":   {[]string{"dial", "-H", "nocolon", good}, `invalid value for flag -H: want "Name: value"`},
		"diagram format":    {[]string{"diagram", "-format", "svg"}, "invalid value for flag -format: want mermaid or dot"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runSync(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// TestDialFailureNeverEchoesSecrets: a URL with a password and a token,
// both escaped as they must be, that cannot be dialled: the transitions,
// the give-up and the exit message redact both.
func TestDialFailureNeverEchoesSecrets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())

	for _, args := range [][]string{
		{"dial", "-stdin=false", "-reconnect", "never", escapedSecretURL(closed)},
		{"trace", "-reconnect", "never", escapedSecretURL(closed)},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, stdout, stderr := runSync(t, args...)
			assert.Equal(t, exitError, code, stderr)
			assert.Contains(t, stderr, "tether: gave up: ")
			assert.Contains(t, stderr, "REDACTED", "the URL is shown, redacted")
			assertNoSecret(t, "stdout", stdout)
			assertNoSecret(t, "stderr", stderr)
		})
	}
}

// TestServerEchoingASecretIsHidden: a server that refuses the client's
// token may quote it back in its close reason, which the CLI's errors and
// transitions print (outside review: "bad token Bearer HDRSECRET" on
// standard error). The CLI hides the values of -H headers and the URL's
// credentials in everything it prints about the connection: dial, trace
// (its diagram too) and inspect.
func TestServerEchoingASecretIsHidden(t *testing.T) {
	for _, cmd := range []string{"dial", "trace", "inspect"} {
		t.Run(cmd, func(t *testing.T) {
			srv := newServer(t)
			args := []string{cmd, "-heartbeat", "0", "-reconnect", "never",
				"-H", "Authorization: Bearer " + cliPassword[:8], srv.URL + "?room=1&token=" + url.QueryEscape(cliToken)}
			switch cmd {
			case "dial":
				args = append(args[:1], append([]string{"-stdin=false"}, args[1:]...)...)
			case "inspect":
				args = append(args[:1], append([]string{"-listen", "127.0.0.1:0"}, args[1:]...)...)
			}
			s := start(t, args...)
			conn := accept(t, srv)
			echo := conn.Request.Header.Get("Authorization") + " " + conn.Request.URL.Query().Get("token")
			require.Contains(t, echo, cliToken, "the server has the secrets")
			require.NoError(t, conn.Close(transport.StatusPolicyViolation, "bad "+echo))
			assert.Equal(t, exitError, s.wait(t))
			assert.Contains(t, s.stderr.String(), "REDACTED", "the close reason is shown, hidden")
			assertNoSecret(t, "stderr", s.stderr.String())
			assertNoSecret(t, "stdout", s.stdout.String())
		})
	}
}

// TestQuotedAndEncodedSecretsAreHidden: errors quote a close reason with
// %q, so a header value holding '"' or '\' was printed escaped, and not
// hidden; the URL's credentials go out as Basic authorization, which a
// server echoing the header printed in base64 (outside review). Both are
// hidden now.
func TestQuotedAndEncodedSecretsAreHidden(t *testing.T) {
	const key = `{"key":"s3cret\value1"}`
	for _, cmd := range []string{"dial", "trace"} {
		t.Run(cmd, func(t *testing.T) {
			srv := newServer(t)
			u, err := url.Parse(srv.URL)
			require.NoError(t, err)
			args := []string{cmd, "-heartbeat", "0", "-reconnect", "never", "-H", "X-Key: " + key, escapedSecretURL(u.Host)}
			if cmd == "dial" {
				args = append(args[:1], append([]string{"-stdin=false"}, args[1:]...)...)
			}
			s := start(t, args...)
			conn := accept(t, srv)
			basic := conn.Request.Header.Get("Authorization")
			require.True(t, strings.HasPrefix(basic, "Basic "), "the URL's credentials went out: %q", basic)
			require.Equal(t, key, conn.Request.Header.Get("X-Key"))
			require.NoError(t, conn.Close(transport.StatusPolicyViolation, basic+" "+key))
			assert.Equal(t, exitError, s.wait(t))
			for what, out := range map[string]string{"stderr": s.stderr.String(), "stdout": s.stdout.String()} {
				assertNoSecret(t, what, out)
				for _, secret := range []string{basic[len("Basic "):], key, `s3cret`} {
					assert.NotContains(t, out, secret, "%s leaks a secret", what)
				}
			}
			assert.Contains(t, s.stderr.String(), "REDACTED")
		})
	}
}

// TestQueryValuesAsTypedAreHidden: a server that quotes the query back
// quotes it as the client typed it, with escapes Go would spell otherwise
// (lower-case, or of a letter) or cannot decode (%zz): those were printed
// in clear, since only the decoded value and Go's own escaping of it were
// hidden (outside review).
func TestQueryValuesAsTypedAreHidden(t *testing.T) {
	const query = "token=SECRET%41TOK1&access_token=SECRET%2dTOK2&api_key=%zzSECRETTOK3"
	srv := newServer(t)
	s := start(t, "dial", "-stdin=false", "-heartbeat", "0", "-reconnect", "never", srv.URL+"?"+query)
	conn := accept(t, srv)
	require.Equal(t, query, conn.Request.URL.RawQuery, "the server sees the query as typed")
	require.NoError(t, conn.Close(transport.StatusPolicyViolation, "bad "+conn.Request.URL.RawQuery))
	assert.Equal(t, exitError, s.wait(t))
	out := s.stderr.String() + s.stdout.String()
	for _, secret := range []string{"SECRET%41TOK1", "SECRETATOK1", "SECRET%2dTOK2", "SECRET-TOK2", "%zzSECRETTOK3", "SECRETTOK3"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, s.stderr.String(), "REDACTED", "the close reason is shown, hidden")
}
