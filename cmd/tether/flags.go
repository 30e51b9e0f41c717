package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tether-go/tether/transport"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments ("tether dial URL -pretty" as well as "tether dial
// -pretty URL"), and returns the positional arguments. After "--" every
// argument is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
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
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("want \"Name: value\", got %q", s)
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !validHeaderName(name) {
		return fmt.Errorf("invalid header name %q", name)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("invalid value for header %s", name)
	}
	if f.h == nil {
		f.h = make(http.Header)
	}
	f.h.Add(name, value)
	return nil
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 section 5.1).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// listFlag collects a repeatable flag whose values may also be comma lists.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("empty value in %q", s)
		}
		*f = append(*f, p)
	}
	return nil
}

// oneURL checks that args is exactly one WebSocket URL.
func oneURL(args []string) (string, error) {
	switch len(args) {
	case 0:
		return "", usagef("missing URL")
	case 1:
	default:
		return "", usagef("want one URL, got %d arguments: %q", len(args), args)
	}
	u, err := url.Parse(args[0])
	if err != nil {
		return "", usagef("bad URL %q", transport.RedactURL(args[0]))
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss", "http", "https":
	default:
		return "", usagef("bad URL %q: the scheme must be ws, wss, http or https", transport.RedactURL(args[0]))
	}
	if u.Host == "" {
		return "", usagef("bad URL %q: no host", transport.RedactURL(args[0]))
	}
	return args[0], nil
}

// noArgs checks that a command that takes no positional argument got none.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %q", args)
	}
	return nil
}
