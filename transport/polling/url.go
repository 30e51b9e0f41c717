package polling

import (
	"net/url"
	"strings"

	"github.com/tether-go/tether/transport"
)

// endpoints are the URLs one Conn talks to. send is nil when sends are off.
type endpoints struct {
	poll *url.URL
	send *url.URL
}

// resolveURLs turns a target URL into the poll and send URLs: ws and wss map
// to http and https, the rewrite applies, then the paths.
func (o *options) resolveURLs(raw string) (endpoints, error) {
	bad := func(reason string, err error) (endpoints, error) {
		return endpoints{}, &URLError{URL: transport.RedactURL(raw), Reason: reason, Err: err}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The url.Error text repeats the raw URL, secrets included.
		return bad("malformed URL", nil)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	case "":
		return bad("missing scheme (want http, https, ws or wss)", nil)
	default:
		return bad("unsupported scheme (want http, https, ws or wss)", nil)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return bad("missing host", nil)
	}
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.EscapedFragment(), "@") {
		// http://user:12/pa@host parses with user:12 as the host.
		return bad("an '@' after the host may end a password (escape a literal one as %40)", nil)
	}
	u.Fragment, u.RawFragment = "", ""
	if o.rewrite != nil {
		cp := *u
		r, err := o.rewrite(&cp)
		if err != nil {
			return bad("URL rewrite failed", err)
		}
		if r == nil || (r.Scheme != "http" && r.Scheme != "https") || r.Hostname() == "" {
			return bad("URL rewrite returned no http(s) URL with a host", nil)
		}
		u = r
	}
	poll := withPath(u, o.pollPath)
	e := endpoints{poll: poll}
	if o.sendEnabled {
		e.send = poll
		if o.sendPath != "" {
			e.send = withPath(u, o.sendPath)
		}
	}
	return e, nil
}

// withPath returns a copy of u with its path replaced by path, or u's copy
// unchanged when path is "".
func withPath(u *url.URL, path string) *url.URL {
	cp := *u
	if path != "" {
		cp.Path, cp.RawPath = path, ""
	}
	return &cp
}
