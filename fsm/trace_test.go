package fsm_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/tether-go/tether/fsm"
)

// traceWith is a recorded trace whose third transition failed with cause.
func traceWith(cause error) []fsm.Transition {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []fsm.Transition{
		{Seq: 0, From: fsm.Idle, To: fsm.Idle, Time: at},
		{Seq: 1, From: fsm.Idle, To: fsm.Connecting, Event: fsm.EventConnect, Transport: "websocket", Time: at},
		{Seq: 2, From: fsm.Connecting, To: fsm.Waiting, Event: fsm.EventDialFailed, Transport: "websocket",
			Cause: cause, Time: at.Add(20 * time.Millisecond)},
	}
}

// A 503 used to show as "handshake refused..." (cut at 80 characters).
const refused503 = "tether/transport: handshake refused: HTTP 503 Service Unavailable: the server is restarting, retry in a minute"

func TestTraceShowsTheWholeCause(t *testing.T) {
	trace := traceWith(errors.New(refused503))
	require.Contains(t, fsm.TraceMermaid(trace),
		"    Connecting->>Waiting: 2. dial_failed at +20ms, websocket, "+refused503+"\n")
	require.Contains(t, fsm.TraceDOT(trace),
		`    "Connecting" -> "Waiting" [label="2. dial_failed at +20ms, websocket, `+refused503+`"];`+"\n")
}

// TestTraceSaysWhatItDoesNotHold: a client keeps the latest 256
// transitions; a diagram of them used to start mid-story, its times
// counted from the first shown, with no word of the others (outside
// review of tether trace: 256 arrows of 299).
func TestTraceSaysWhatItDoesNotHold(t *testing.T) {
	whole := traceWith(errors.New("refused"))
	require.NotContains(t, fsm.TraceMermaid(whole), "Note over", "a whole trace has no note")
	late := whole[2:] // from Seq 2: one transition is not held
	require.Contains(t, fsm.TraceMermaid(late),
		"    Note over Connecting: 1 earlier transitions not kept: times count from number 2\n")
}

func TestTraceBoundsALongCause(t *testing.T) {
	long := strings.Repeat("é", fsm.MaxTraceCause) // 2 bytes each: the bound falls inside a rune
	for name, out := range map[string]string{
		"mermaid": fsm.TraceMermaid(traceWith(errors.New(long))),
		"dot":     fsm.TraceDOT(traceWith(errors.New(long))),
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, utf8.ValidString(out))
			kept := strings.Repeat("é", fsm.MaxTraceCause/2)
			require.Contains(t, out, kept+"… (512 more bytes)")
			require.NotContains(t, out, kept+"é")
		})
	}
	// Exactly at the bound: whole, no marker.
	exact := strings.Repeat("x", fsm.MaxTraceCause)
	require.Contains(t, fsm.TraceMermaid(traceWith(errors.New(exact))), exact+"\n")
	require.NotContains(t, fsm.TraceMermaid(traceWith(errors.New(exact))), "more bytes")
}

// Causes a server or a transport could write: each tries to end the
// message or the string, add a line, open a comment, a directive or
// markup.
var hostileCauses = []string{
	"a;b",
	"x\n    Idle->>Closed: injected",
	"x\r\n}\ndigraph evil {",
	"%%{init: {'theme':'dark'}}%%",
	"%% a comment",
	"<script>alert(1)</script><br>&lt;",
	`"]; "Idle" -> "Closed" [label="injected`,
	`back\slash \N \G \E \T \H \L \` + `"`,
	"#quot; #59; #9829;",
	"nul\x00 bell\x07 esc\x1b del\x7f c1\u0085 ls\u2028 ps\u2029 bom\ufeff",
	"bad utf-8 \xff\xfe end",
	"{curly} `tick` tab\there",
}

var (
	dotEdge   = regexp.MustCompile(`^    "[A-Za-z]+" -> "[A-Za-z]+" \[label="(?:[^"\\\n]|\\[\\"n])*"\];$`)
	mermaidOK = regexp.MustCompile(`^    [A-Za-z]+->>[A-Za-z]+: [^;#%<>&"{}\x00-\x1f\x7f\x{85}\x{2028}\x{2029}]*$`)
)

// checkTrace checks the shape of both diagrams of trace: every transition
// on a line of its own, the line well formed, nothing unescaped.
func checkTrace(t require.TestingT, trace []fsm.Transition) {
	mer := fsm.TraceMermaid(trace)
	lines := strings.Split(strings.TrimSuffix(mer, "\n"), "\n")
	states := len(fsm.States())
	require.Len(t, lines, 1+states+len(trace)-1, "one line per transition:\n%s", mer)
	for _, l := range lines[1+states:] {
		// Entity codes are the one use of '#' and ';'; <br/> the one of '<'.
		plain := regexp.MustCompile(`#[0-9]+;`).ReplaceAllString(strings.ReplaceAll(l, "<br/>", ""), "")
		require.Regexp(t, mermaidOK, plain)
		require.True(t, utf8.ValidString(l))
	}

	dot := fsm.TraceDOT(trace)
	lines = strings.Split(strings.TrimSuffix(dot, "\n"), "\n")
	require.Len(t, lines, 3+states+len(trace)-1+1, "one line per transition:\n%s", dot)
	require.Equal(t, "}", lines[len(lines)-1])
	for _, l := range lines[3+states : len(lines)-1] {
		require.Regexp(t, dotEdge, l)
		require.True(t, utf8.ValidString(l))
	}
}

func TestTraceEscapesHostileCauses(t *testing.T) {
	for _, c := range hostileCauses {
		t.Run(c, func(t *testing.T) {
			tr := traceWith(errors.New(c))
			tr[1].Transport = c // the transport's name is text from outside too
			checkTrace(t, tr)
		})
	}
}

func TestTraceEscapingKeepsTheText(t *testing.T) {
	mer := fsm.TraceMermaid(traceWith(errors.New(`a;b #1 50% <b> & "q" {x}` + "\nline2\x01")))
	require.Contains(t, mer, `a#59;b #35;1 50#37; #60;b#62; #38; #34;q#34; #123;x#125;<br/>line2#92;x01`)
	dot := fsm.TraceDOT(traceWith(errors.New(`say "hi" \N` + "\nline2\x01")))
	require.Contains(t, dot, `say \"hi\" \\N\nline2\\x01"];`)
}

func TestTraceEscapesAnyCause(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cause := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.RuneFrom([]rune("#;%<>&\"{}\\\n\r\t\x00\u2028`' :-"))),
			rapid.StringN(fsm.MaxTraceCause-4, fsm.MaxTraceCause+4, -1)).Draw(rt, "cause")
		checkTrace(rt, traceWith(errors.New(cause)))
	})
}
