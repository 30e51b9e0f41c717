package polling

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/tether-go/tether/transport"
)

// noRedirects returns a copy of c whose CheckRedirect stops at the first
// redirect, so that Do returns the 3xx answer itself: a redirect would
// carry the target's headers (credentials included) to a URL the caller
// did not name, perhaps over plain http. c is not modified.
func noRedirects(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// redirected returns the error of an answer that redirects (a 3xx other
// than 304), matching [ErrRedirect] and naming the Location (see
// locationText); nil for any other answer.
func redirected(resp *http.Response) error {
	if resp.StatusCode/100 != 3 || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return fmt.Errorf("%w (no Location)", ErrRedirect)
	}
	return fmt.Errorf("%w: Location %s", ErrRedirect, locationText(loc))
}

// locationText is a Location for the text of an error: redacted with
// [transport.RedactURL], without its query and fragment, cut to maxQuoted
// bytes. A server that redirects often echoes the request's URL, token
// included, inside a parameter of its own (http.Redirect to
// "/login?next=/feed?access_token=..."); RedactURL redacts such a nested
// URL or path, but a nested value that does not look like one would pass,
// so the query is left out all the same, and the text says so.
func locationText(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return cutText(transport.RedactURL(loc))
	}
	cut := u.RawQuery != "" || u.ForceQuery || u.Fragment != ""
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	s := cutText(transport.RedactURL(u.String()))
	if cut {
		s += " (query not shown)"
	}
	return s
}

// redactLocations replaces the URLs of h's Location and Content-Location
// headers with their [transport.RedactURL] form: a server that redirects
// often echoes the request's URL, token included, and these headers end up
// in errors.
func redactLocations(h http.Header) {
	for _, k := range []string{"Location", "Content-Location"} {
		for i, v := range h[k] {
			h[k][i] = transport.RedactURL(v)
		}
	}
}
