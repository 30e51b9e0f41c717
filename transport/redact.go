package transport

import (
	"net/url"
	"strings"
)

// Redacted is what [RedactURL] puts in place of a secret.
const Redacted = "REDACTED"

// RedactURL returns rawURL with its secrets replaced by [Redacted], so the
// result is safe to put in an error or a log line: the whole userinfo
// (user name and password) and the value of every query or fragment
// parameter whose name looks like a credential (token, access_token, key,
// signature, secret, password, auth and the like, in any case). The rest of
// the URL is kept as written.
//
// A string that does not parse as a URL is redacted by hand: everything up
// to an '@' in the authority and everything from the first '?' or '#' is
// dropped.
//
// Safe for concurrent use.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return redactUnparsed(rawURL)
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteString(":")
	}
	if u.Opaque != "" {
		// Opaque URLs such as "mailto:x?token=y" keep the query apart.
		b.WriteString(u.Opaque)
	} else {
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
		b.WriteString("?")
		b.WriteString(redactParams(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#")
		b.WriteString(redactParams(u.EscapedFragment()))
	}
	return b.String()
}

// redactParams rewrites a "k=v&k2=v2" string, replacing the values of
// credential-like names. Order and spelling of everything else is kept.
func redactParams(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		if !hasValue {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if SecretParam(name) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// secretExact are parameter names that are secrets only when they are the
// whole name; secretParts are secrets wherever they appear in a name.
var (
	secretExact = []string{"key", "sig", "pwd", "pass", "jwt", "code", "session", "sid"}
	secretParts = []string{"token", "secret", "signature", "password", "passwd", "apikey", "api_key", "api-key", "credential", "auth"}
)

// SecretParam reports whether a query parameter or header-like name looks
// like it carries a credential, by the same rules [RedactURL] uses. The
// match ignores case.
//
// Safe for concurrent use.
func SecretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range secretExact {
		if n == s {
			return true
		}
	}
	for _, s := range secretParts {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactUnparsed is the fallback for strings url.Parse rejects.
func redactUnparsed(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "?" + Redacted
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	end := len(s)
	if i := strings.IndexByte(s[start:], '/'); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
		s = s[:start] + Redacted + s[start+at:]
	}
	return s
}
