package transport

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// Redacted is what [RedactURL] puts in place of a secret.
const Redacted = "REDACTED"

// RedactURL returns rawURL with its secrets replaced by [Redacted], so the
// result is safe to put in an error or a log line. Whatever rawURL holds,
// the result never contains:
//
//   - the userinfo: user name and password go together;
//   - the value of a query or fragment parameter whose name looks like a
//     credential ([SecretParam]). Parameters are separated by '&' or ';'.
//     A secret value runs to the next '&', so a ';' inside it is taken as
//     part of it; when the last query parameter is a secret, the fragment
//     is dropped too, since a '#' in the value would have cut it there.
//
// The rest of a URL that parses is kept as written.
//
// A URL that does not parse, or whose parts cannot be told apart, is never
// echoed. An '@' anywhere but at the end of the userinfo (in the path, the
// query or the fragment, or in a URL without "//") may be the end of a
// password that holds a '/', '?' or '#', which would make the host, path
// and query parts of the password: only the scheme is kept, as in
// "ws://REDACTED". Otherwise a URL that does not parse keeps its scheme and
// host, when the host is made of plain host characters, and the rest
// becomes "/REDACTED"; a string without "scheme://" or "//" becomes
// "REDACTED". So does a string that parses but is no URL: a bare word
// ("notaurl", a pasted token), and the part after "scheme:" of an opaque
// URL ("alice:secret" becomes "alice:REDACTED", while "localhost:8080"
// keeps its port). A path from its root ("/feed?token=t") keeps its path.
//
// A URL inside a parameter's value (a redirect target:
// "?next=https://idp/cb?access_token=t", a path with its query or
// fragment, "?next=/feed?token=t", a private-use scheme's redirect) is
// redacted the same way, written as it is, query-escaped, escaped more
// than once or escaped only in part: the value is looked at as written
// and decoded, and the form that redacts more is kept, the decoded one
// escaped again. Past four levels of nesting, a value that may hold a URL
// is replaced whole, so the work stays linear in the input.
//
// What it cannot know: a value that holds an unescaped '&' ends there, as
// it does for every server, and what follows is taken as another
// parameter.
//
// Safe for concurrent use.
func RedactURL(rawURL string) string { return redactURL(rawURL, 0) }

// maxNested is how deep redactURL looks into URLs nested in parameters
// (and escaped again): a value deeper than that which may hold a URL is
// replaced whole. Each level looks at a value as written and decoded, so
// the work is about 2^maxNested passes over the input at most, however it
// is built (a chain of nested URLs took time quadratic in its length).
const maxNested = 4

// redactURL is RedactURL for a URL depth levels deep in another's
// parameters.
func redactURL(rawURL string, depth int) string {
	if rawURL == "" {
		return ""
	}
	u, err := url.Parse(rawURL)
	if err != nil || ambiguous(rawURL) {
		return redactUnparsed(rawURL)
	}
	if u.Scheme == "" && u.Host == "" && u.User == nil && !strings.HasPrefix(rawURL, "/") {
		// Not a URL: a bare word, perhaps a token typed in the wrong place.
		return Redacted
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString(":")
	}
	switch {
	case u.Opaque != "" && strings.Trim(u.Opaque, "0123456789") == "":
		// "localhost:8080": a host and port without "//", a port is no secret.
		b.WriteString(u.Opaque)
	case u.Opaque != "":
		// An opaque part ("mailto:x", or "user:password" and "Authorization:
		// Bearer t" typed where a URL goes) may be a credential.
		b.WriteString(Redacted)
	default:
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			if u.Host != "" || u.Path != "" || u.User != nil {
				b.WriteString("//")
			}
			if u.User != nil {
				b.WriteString(Redacted)
				b.WriteString("@")
			}
			b.WriteString(u.Host)
		}
		b.WriteString(u.EscapedPath())
	}
	if u.RawQuery != "" || u.ForceQuery {
		q, secretLast := redactParams(u.RawQuery, depth)
		b.WriteString("?")
		b.WriteString(q)
		if secretLast {
			return b.String()
		}
	}
	if i := strings.IndexByte(rawURL, '#'); i >= 0 {
		// The fragment as written (it is the first '#': one in the
		// userinfo made the URL ambiguous), so that a nested URL's own
		// '#' stays one and a URL with nothing to redact is kept whole;
		// escaped, as url writes it, when it holds a byte that is not
		// printable ASCII (a control character is never echoed).
		frag := rawURL[i+1:]
		if !printable(frag) {
			frag = u.EscapedFragment()
		}
		f, _ := redactParams(frag, depth)
		b.WriteString("#")
		b.WriteString(f)
	}
	return b.String()
}

// printable reports whether s is made of printable ASCII, space excluded.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// redactParams rewrites a "k=v&k2=v2" (or ';'-separated) string, replacing
// the values of credential-like names. A secret value runs to the next
// '&'. Order and spelling of everything else is kept. It reports whether
// the last parameter was a secret.
func redactParams(raw string, depth int) (string, bool) {
	var b strings.Builder
	for raw != "" {
		seg, sep, rest := raw, "", ""
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			seg, sep, rest = raw[:i], raw[i:i+1], raw[i+1:]
		}
		k, v, hasValue := strings.Cut(seg, "=")
		if !hasValue || !secretName(k) {
			if hasValue {
				seg = k + "=" + redactNested(v, depth)
			}
			b.WriteString(seg)
			b.WriteString(sep)
			raw = rest
			continue
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(Redacted)
		amp := strings.IndexByte(raw, '&')
		if amp < 0 {
			return b.String(), true
		}
		b.WriteString("&")
		raw = raw[amp+1:]
	}
	return b.String(), false
}

// redactNested redacts the URLs inside a parameter's value (a redirect
// target, say: "?next=https://idp/cb?access_token=t", a path with its
// query or fragment, "?next=/feed?token=t", or a private-use scheme's,
// "?redirect_uri=com.example.app:/cb?code=t"), written as they are,
// query-escaped ("https%3A%2F%2F..."), escaped more than once, or escaped
// only in part ("https://idp/cb%3Ftoken%3Dt", or a nested URL's own '#'
// that a fragment holds as "%23"). The value is looked at as written and,
// when it holds escapes, decoded (an invalid escape is left as it is):
// whichever form redacts more is returned, the decoded one escaped again.
// A value with nothing to redact is returned as it is. Past maxNested
// levels, a value that may hold a URL becomes Redacted.
func redactNested(v string, depth int) string {
	if depth >= maxNested {
		if strings.Contains(v, ":/") || strings.Contains(v, ":\\") || strings.Contains(strings.ToLower(v), "%3a") || strings.HasPrefix(v, "/") {
			return Redacted
		}
		return v
	}
	r := v
	switch {
	case urlValue(v):
		// One URL (decoded, a space, quote or angle bracket it held
		// escaped does not end it, as it would in text).
		r = redactURL(v, depth+1)
	case strings.HasPrefix(v, "/") && strings.ContainsAny(v, "?#"): // a path with its query or fragment
		r = redactURL(v, depth+1)
	case strings.Contains(v, "://"):
		r = redactURLs(v, depth+1)
	}
	if strings.ContainsAny(v, "%+") {
		if u := unescape(v); u != v {
			if d := redactNested(u, depth+1); redacted(u, d) > redacted(v, r) {
				return url.QueryEscape(d)
			}
		}
	}
	return r
}

// urlValue reports whether v is a URL from its start: "scheme://...", or
// "scheme:/path" with a query or a fragment (a private-use scheme's
// redirect, RFC 8252).
func urlValue(v string) bool {
	n := schemeLen(v)
	if n == 0 {
		return false
	}
	rest := v[n:]
	if strings.HasPrefix(rest, "//") {
		return true
	}
	// A browser reads '\' as '/': "https:\\idp\cb?token=t" is a URL too.
	return (strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "\\")) && strings.ContainsAny(rest, "?#")
}

// unescape decodes v as a query value: "+" is a space and "%XX" the byte
// XX, an invalid escape being left as it is.
func unescape(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b.WriteByte(unhex(v[i+1])<<4 | unhex(v[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// redacted returns how many secrets r, the redaction of v, took out.
func redacted(v, r string) int { return strings.Count(r, Redacted) - strings.Count(v, Redacted) }

// secretName reports whether an escaped parameter name looks like a
// credential.
func secretName(k string) bool {
	name, err := url.QueryUnescape(k)
	if err != nil {
		name = k
	}
	return SecretParam(name)
}

// ambiguous reports whether raw has an '@' that url.Parse would not take
// as the end of the userinfo: after the authority (in the path, query or
// fragment), or anywhere in a URL without one.
func ambiguous(raw string) bool {
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return false
	}
	_, end, ok := authority(raw)
	return !ok || at >= end
}

// authority returns where the authority of raw starts (after "scheme://"
// or a leading "//") and ends (at the first '/', '?' or '#' after it, as
// url.Parse cuts it), and false when raw has none.
func authority(raw string) (start, end int, ok bool) {
	rest := raw[schemeLen(raw):]
	if !strings.HasPrefix(rest, "//") {
		return 0, 0, false
	}
	start = len(raw) - len(rest) + 2
	end = len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	return start, end, true
}

// schemeLen returns the length of raw's "scheme:" prefix (RFC 3986: a
// letter, then letters, digits, '+', '-' or '.'), or 0 when it has none.
func schemeLen(raw string) int {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i + 1
		default:
			return 0
		}
	}
	return 0
}

// redactUnparsed is the conservative form of a URL that does not parse or
// whose '@' cannot be placed: see [RedactURL].
func redactUnparsed(raw string) string {
	start, end, ok := authority(raw)
	if !ok {
		return Redacted
	}
	host := raw[start:end]
	if strings.IndexByte(raw, '@') >= 0 || !plainHost(host) {
		return raw[:start] + Redacted
	}
	if end == len(raw) {
		return raw
	}
	return raw[:end] + "/" + Redacted
}

// plainHost reports whether s is a non-empty run of the characters a host
// and port are written with: letters, digits, '.', '-', '_', '~', ':',
// '[', ']' and '%'.
func plainHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(".-_~:[]%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// What makes a parameter name a secret, ignoring case: secretParts
// anywhere in it; secretWords as one of its words, where words are split
// at every character that is not a letter or a digit and where a
// lower-case letter is followed by an upper-case one ("private_key" and
// "apiKey" end with the word "key", "keyboard" is one word); secretNames
// as the whole name.
var (
	secretParts = []string{
		"token", "secret", "password", "passwd", "passphrase", "signature", "credential", "auth",
		"session", "sessid", "apikey", "accesskey", "privatekey", "hmac", "bearer",
	}
	secretWords = []string{"key", "sig", "pwd", "pass", "pw", "jwt", "sid", "otp", "ticket"}
	secretNames = []string{"code"}
)

// SecretParam reports whether a query parameter or header-like name looks
// like it carries a credential, by the rules [RedactURL] uses: it contains
// token, secret, password, passwd, passphrase, signature, credential,
// auth, session, sessid, apikey, accesskey, privatekey, hmac or bearer; or
// one of its words is key, sig, pwd, pass, pw, jwt, sid, otp or ticket
// (words are split at anything but a letter or a digit, and before an
// upper-case letter that follows a lower-case one, so "private_key",
// "access-key" and "apiKey" match and "keyboard" does not); or it is
// "code". The match ignores case.
//
// Safe for concurrent use.
func SecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range secretParts {
		if strings.Contains(n, s) {
			return true
		}
	}
	for _, w := range words(name) {
		if slices.Contains(secretWords, w) {
			return true
		}
	}
	return slices.Contains(secretNames, n)
}

// words splits name into lower-case words: at every rune that is not a
// letter or a digit, and between a lower-case letter and an upper-case
// one.
func words(name string) []string {
	var b strings.Builder
	prevLower := false
	for _, r := range name {
		switch {
		case unicode.IsUpper(r):
			if prevLower {
				b.WriteByte(' ')
			}
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
		prevLower = unicode.IsLower(r)
	}
	return strings.Fields(b.String())
}

// RedactURLs returns s with every URL in it ("scheme://" and what follows
// up to a space, a quote or an angle bracket) passed through [RedactURL]:
// for the text of an error that may quote a URL, such as a custom
// transport's. An unescaped space inside a URL ends it there, as it does
// for a reader, and the punctuation that ends a sentence (':', ',', ';',
// '.', ')' at the URL's very end) is left outside it: a secret value
// ending in such punctuation shows that punctuation after the redaction.
func RedactURLs(s string) string { return redactURLs(s, 0) }

// redactURLs is RedactURLs for text depth levels deep in a URL's
// parameters.
func redactURLs(s string, depth int) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i
		for start > 0 && schemeByte(s[start-1]) {
			start--
		}
		for start < i && !isLetter(s[start]) { // a scheme starts with a letter
			start++
		}
		end := i + len("://")
		for end < len(s) && !strings.ContainsRune(" \t\r\n\"'`<>", rune(s[end])) {
			end++
		}
		// Punctuation that ends the URL's sentence is not the URL's: in
		// "dial ws://h/?token=t: refused" the colon stays after the
		// redacted value (at most that character of a value ending so
		// shows).
		for end > i+len("://") && strings.IndexByte(":,;.)", s[end-1]) >= 0 {
			end--
		}
		b.WriteString(s[:start])
		b.WriteString(redactURL(s[start:end], depth))
		s = s[end:]
	}
}

// RedactErr returns err with every URL in its text redacted
// ([RedactURLs]): an error whose Error is the redacted text and which
// unwraps to err, so that errors.Is and errors.As find what err holds. An
// error whose text holds no URL (and nil) is returned as it is.
func RedactErr(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	red := RedactURLs(text)
	if red == text {
		return err
	}
	return &redactedError{text: red, err: err}
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// schemeByte reports whether c may be part of a URL scheme (RFC 3986).
func schemeByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
