package polling

import (
	"fmt"
	"net/http"

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
// than 304), matching [ErrRedirect] and naming the Location, redacted and
// cut to maxQuoted bytes; nil for any other answer. resp's Location is
// already redacted.
func redirected(resp *http.Response) error {
	if resp.StatusCode/100 != 3 || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return fmt.Errorf("%w (no Location)", ErrRedirect)
	}
	return fmt.Errorf("%w: Location %s", ErrRedirect, cutText(loc))
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
