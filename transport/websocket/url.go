package websocket

import (
	"net/url"
	"strings"

	"github.com/tether-go/tether/transport"
)

// parseTarget checks a target URL and returns it with the scheme mapped to
// ws or wss, without userinfo and fragment. user holds the userinfo that was
// removed, or nil.
func parseTarget(raw string) (u *url.URL, user *url.Userinfo, err error) {
	u, perr := url.Parse(raw)
	if perr != nil {
		// The url.Error text repeats the raw URL, secrets included: keep
		// only a generic reason.
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "malformed URL"}
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	case "":
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "missing scheme (want ws or wss)"}
	default:
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "unsupported scheme (want ws or wss)"}
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "missing host"}
	}
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.EscapedFragment(), "@") {
		// ws://user:12/pa@host parses with user:12 as the host: dialing it
		// would send the user name to DNS and print it in the error.
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "an '@' after the host may end a password (escape a literal one as %40)"}
	}
	if p := u.Port(); p != "" && !validPort(p) {
		return nil, nil, &URLError{URL: transport.RedactURL(raw), Reason: "invalid port"}
	}
	u.Host = strings.TrimSuffix(u.Host, ":")
	user = u.User
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, user, nil
}

func validPort(p string) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n > 0 && n <= 65535
}

// httpURL returns the http(s) form of a ws(s) URL, the one proxy selection
// and Origin-style decisions expect.
func httpURL(u *url.URL) *url.URL {
	h := *u
	if h.Scheme == "wss" {
		h.Scheme = "https"
	} else {
		h.Scheme = "http"
	}
	return &h
}

// hostPort returns u's host with the default port of its scheme added.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "wss" || u.Scheme == "https" {
		port = "443"
	}
	host := u.Hostname()
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}
