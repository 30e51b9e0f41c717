package transport_test

import (
	"net/url"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/tether-go/tether/transport"
)

// TestNestedURLPropertyNoSecretSurvives: a URL holding a secret (in its
// userinfo, a query parameter or a fragment parameter), written as it is
// or escaped in any of the ways a redirect parameter is, as the value of a
// query or fragment parameter of another URL, possibly followed by more
// text and another URL: the secret never survives RedactURLs, neither as
// written nor once the output is unescaped.
func TestNestedURLPropertyNoSecretSurvives(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		secret := "SECRET" + rapid.StringMatching(`[a-z0-9]{4,8}`).Draw(t, "secret")
		inner := rapid.SampledFrom([]string{"https://", "http://", "wss://", "/"}).Draw(t, "inner scheme")
		if inner != "/" {
			if rapid.Bool().Draw(t, "inner userinfo") {
				inner += rapid.SampledFrom([]string{"alice:", "", "al%40ce:", "a+b:"}).Draw(t, "user") + secret + "@"
				secret = "" // checked below through the userinfo
			}
			inner += rapid.SampledFrom([]string{"idp", "idp.example:8443", "[::1]"}).Draw(t, "inner host")
			inner += "/"
		}
		inner += rapid.SampledFrom([]string{"cb", "a/b", ""}).Draw(t, "inner path")
		userinfoSecret := secret == ""
		if userinfoSecret {
			secret = inner[strings.Index(inner, "SECRET"):strings.Index(inner, "@")]
		}
		name := rapid.SampledFrom([]string{"token", "access_token", "code", "key"}).Draw(t, "name")
		switch where := rapid.IntRange(0, 2).Draw(t, "where"); {
		case userinfoSecret && where == 0:
			inner += "?x=1"
		case where == 0 || where == 1:
			inner += "?x=1&" + name + "=" + secret
			if userinfoSecret {
				break
			}
			if rapid.Bool().Draw(t, "inner fragment too") {
				inner += "#s=1"
			}
		default:
			inner += rapid.SampledFrom([]string{"", "?x=1"}).Draw(t, "inner query") + "#" + name + "=" + secret
		}
		inner += rapid.SampledFrom([]string{"", " https://x.example/", " and <https://y.example/?a=b>"}).Draw(t, "inner text")
		written := inner
		switch rapid.IntRange(0, 3).Draw(t, "escape") {
		case 1:
			written = url.QueryEscape(inner)
		case 2:
			written = url.PathEscape(inner)
		case 3: // only the characters that would end the value
			written = strings.NewReplacer("?", "%3F", "&", "%26", "#", "%23", "=", "%3D").Replace(inner)
		}
		param := rapid.SampledFrom([]string{"next", "redirect_uri", "return"}).Draw(t, "param")
		outer := "wss://h/live"
		if rapid.Bool().Draw(t, "in the fragment") {
			outer += rapid.SampledFrom([]string{"", "?room=1"}).Draw(t, "outer query") + "#" + param + "=" + written
		} else {
			outer += "?" + param + "=" + written + rapid.SampledFrom([]string{"", "&room=1"}).Draw(t, "after")
		}
		in := outer + rapid.SampledFrom([]string{"", ": refused", " then https://x.example/?a=1"}).Draw(t, "text")

		got := transport.RedactURLs(in)
		for s, i := got, 0; i < 3; i++ {
			if strings.Contains(s, secret) {
				t.Fatalf("RedactURLs(%q) = %q holds %q", in, got, secret)
			}
			u, err := url.QueryUnescape(s)
			if err != nil {
				break
			}
			s = u
		}
	})
}
