package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tether-go/tether/internal/errtext"
	"github.com/tether-go/tether/transport"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments ("tether dial URL -pretty" as well as "tether dial
// -pretty URL"), and returns the positional arguments. After "--" every
// argument is positional, and so is a lone "-".
//
// It sets each flag through fs.Set instead of calling fs.Parse, because the
// flag package repeats a refused value in its error, and a value may be a
// secret: a header, or a URL given where a flag value was expected. Its
// errors name the flag and say why, never the value; they use the same
// words as the flag package.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(pos, args[i+1:]...), nil
		case len(a) < 2 || a[0] != '-':
			pos = append(pos, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "" || name[0] == '-' {
			return nil, errors.New("bad flag syntax")
		}
		f := fs.Lookup(name)
		switch {
		case f == nil && (name == "h" || name == "help"):
			return nil, flag.ErrHelp
		case f == nil:
			return nil, fmt.Errorf("flag provided but not defined: -%s", quoteName(name))
		case isBool(f) && !hasValue:
			value = "true"
		case !hasValue && i+1 == len(args):
			return nil, fmt.Errorf("flag needs an argument: -%s", name)
		case !hasValue:
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, fmt.Errorf("invalid value for flag -%s: %w%s", name, err, want(f))
		}
	}
	return pos, nil
}

// want says what a flag of f's kind takes, for the error of a value it
// refused ("" when its own error says it).
func want(f *flag.Flag) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case time.Duration:
		return "; want a duration such as 500ms, 10s or 1m30s"
	case int, int64, uint, uint64:
		return "; want a whole number"
	case bool:
		return "; want true or false (written -" + f.Name + "=false)"
	}
	return ""
}

// isBool reports whether f is a boolean flag, which takes no separate
// value.
func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// maxNameLen is the longest command or flag name a message repeats.
const maxNameLen = 24

// quoteName returns s for a message about an unknown command or flag name
// when it looks like one (letters and '-', up to maxNameLen), and a
// placeholder otherwise: the argument may be a URL or a token typed in the
// wrong place, and the CLI never prints those back.
func quoteName(s string) string {
	if s == "" || len(s) > maxNameLen || strings.TrimLeft(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != "" {
		return "(not shown)"
	}
	return s
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string {
	if f == nil || len(f.h) == 0 {
		return ""
	}
	var b strings.Builder
	_ = f.h.Write(&b)
	return strings.TrimSpace(b.String())
}

func (f *headerFlag) Set(s string) error {
	// Neither the value nor a name that is not a token is repeated: either
	// may be a credential written the wrong way.
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return errors.New(`want "Name: value"`)
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	// The library's own check, so that -H and WithHeader refuse the same
	// headers with the same words (a tab is the only control character a
	// value may hold).
	if err := (transport.Target{Header: http.Header{name: {value}}}).Check(); err != nil {
		return err
	}
	if h, ok := handshakeHeaders[http.CanonicalHeaderKey(name)]; ok {
		// The handshake writes it; the transport would leave it out.
		return fmt.Errorf("the handshake writes %s itself%s", h.name, h.instead)
	}
	if f.h == nil {
		f.h = make(http.Header)
	}
	f.h.Add(name, value)
	return nil
}

// handshakeHeaders are the headers the WebSocket handshake writes itself
// (or, for a body's framing, must not have), which -H refuses rather than
// have them left out without a word: their names as the RFC spells them,
// with the flag to use instead, if any.
var handshakeHeaders = map[string]struct{ name, instead string }{
	"Upgrade":                  {"Upgrade", ""},
	"Connection":               {"Connection", ""},
	"Sec-Websocket-Key":        {"Sec-WebSocket-Key", ""},
	"Sec-Websocket-Version":    {"Sec-WebSocket-Version", ""},
	"Sec-Websocket-Protocol":   {"Sec-WebSocket-Protocol", ": use -subprotocol"},
	"Sec-Websocket-Extensions": {"Sec-WebSocket-Extensions", ""},
	"Content-Length":           {"Content-Length", ": the handshake has no body"},
	"Transfer-Encoding":        {"Transfer-Encoding", ": the handshake has no body"},
}

// listFlag collects a repeatable flag whose values may also be comma lists.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return errors.New("empty value in the list") // the list is not repeated: it may hold a token
		}
		*f = append(*f, p)
	}
	return nil
}

// oneURL checks that args is exactly one WebSocket URL. Its errors show
// the URL only through [transport.RedactURL], and never the other
// arguments.
func oneURL(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing URL")
	case 1:
	default:
		for _, a := range args {
			if a == "true" || a == "false" {
				// -stdin false: the flag took no value, the word is an argument.
				return "", usagef("want one URL, got %s (a boolean flag takes its value with =, as in -stdin=false)", count(uint64(len(args)), "argument"))
			}
		}
		return "", usagef("want one URL, got %s", count(uint64(len(args)), "argument"))
	}
	raw := args[0]
	u, err := url.Parse(raw)
	if err != nil {
		return "", usagef("bad URL %q%s", transport.RedactURL(raw), errtext.URLFault(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss", "http", "https":
	default:
		return "", usagef("bad URL %q: the scheme must be ws, wss, http or https", transport.RedactURL(raw))
	}
	if u.Host == "" {
		return "", usagef("bad URL %q: no host", transport.RedactURL(raw))
	}
	// An '@' after the host may end a password that holds a '/', '?' or
	// '#'; what looks like the host would then be part of the password, and
	// dialing it would print it.
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.EscapedFragment(), "@") {
		return "", usagef("bad URL %q: an '@' after the host must be escaped as %%40 (escape '/', '?' and '#' in a password too)", transport.RedactURL(raw))
	}
	return raw, nil
}

// noArgs checks that a command that takes no positional argument got none.
// The arguments are counted, not repeated.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("takes no arguments, got %s", count(uint64(len(args)), "argument"))
	}
	return nil
}

// count returns "1 thing" or "n things".
func count(n uint64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.FormatUint(n, 10) + " " + thing + "s"
}
