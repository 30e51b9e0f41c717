package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether/fsm"
)

func TestDiagram(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		format fsm.Format
	}{
		{[]string{"diagram"}, fsm.Mermaid},
		{[]string{"diagram", "-format", "mermaid"}, fsm.Mermaid},
		{[]string{"diagram", "--format", "DOT"}, fsm.DOT},
		{[]string{"diagram", "-format=dot"}, fsm.DOT},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			want, err := fsm.Diagram(tc.format)
			require.NoError(t, err)
			if !strings.HasSuffix(want, "\n") {
				want += "\n"
			}
			code, stdout, stderr := runSync(t, tc.args...)
			require.Equal(t, exitOK, code, stderr)
			assert.Equal(t, want, stdout)
			assert.Empty(t, stderr)
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runSync(t, "version")
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "tether "), stdout)
	assert.True(t, strings.HasSuffix(stdout, " "+runtime.Version()+"\n"), stdout)
}

func TestHelpGoesToStdoutAndExits0(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "usage: tether <command>"},
		{[]string{"--help"}, "usage: tether <command>"},
		{[]string{"help"}, "usage: tether <command>"},
		{[]string{"help", "dial"}, "-subprotocol list"},
		{[]string{"dial", "-h"}, "usage: tether dial [flags] URL"},
		{[]string{"trace", "--help"}, "-for duration"},
		{[]string{"help", "diagram"}, "-format language"},
		{[]string{"help", "version"}, "usage: tether version"},
		{[]string{"help", "help"}, "usage: tether <command>"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runSync(t, tc.args...)
			assert.Equal(t, exitOK, code)
			assert.Contains(t, stdout, tc.want)
			assert.Empty(t, stderr)
		})
	}
}

func TestBadCommandLinesExit2(t *testing.T) {
	const url = "ws://127.0.0.1:1/never-dialed"
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"help", "bogus"},
		{"help", "dial", "trace"},
		{"dial"},
		{"dial", url, url},
		{"dial", "-nope", url},
		{"dial", "ftp://example.com/"},
		{"dial", "ws://"},
		{"dial", "::not a url"},
		{"dial", "-H", "no colon", url},
		{"dial", "-H", "bad name: v", url},
		{"dial", "-H", ": empty name", url},
		{"dial", "-H", "X-A: a\x01b", url}, // a control character other than a tab
		{"dial", "-H", "X-A: a\x7fb", url},
		{"dial", "-H", "Sec-WebSocket-Protocol: chat", url}, // the handshake writes it: it was left out without a word
		{"dial", "-H", "connection: keep-alive", url},
		{"dial", "-H", "Transfer-Encoding: chunked", url}, // the handshake has no body: it was sent as given
		{"dial", "-H", "Content-Length: 5", url},
		{"dial", "-subprotocol", "a,,b", url},
		{"dial", "-subprotocol", "a b", url},
		{"dial", "-subprotocol", "v1\r\nX-Evil: 1", url},
		{"dial", "-subprotocol", "a,a", url},
		{"dial", "-heartbeat", "-1s", url},
		{"dial", "-heartbeat", "5s", "-pong-timeout", "5s", url},
		{"dial", "-heartbeat", "0", "-pong-timeout", "5s", url}, // a pong timeout with no heartbeat was accepted and ignored
		{"dial", "-heartbeat", "nonsense", url},
		{"dial", "-reconnect", "sometimes", url},
		{"dial", "-reconnect", "constant", url},
		{"dial", "-reconnect", "constant:soon", url},
		{"dial", "-reconnect", "constant:-1s", url},
		{"dial", "-reconnect", "never:1s", url},
		{"dial", "-reconnect", "signalr", "-initial", "2s", url},
		{"dial", "-initial", "10s", "-max", "1s", url},
		{"dial", "-max-attempts", "-1", url},
		{"dial", "-dial-timeout", "0s", url},
		{"trace", url, "-for", "0s"},
		{"trace"},
		{"diagram", "-format", "svg"},
		{"diagram", "extra"},
		{"version", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runSync(t, args...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "usage: tether ")
		})
	}
}
