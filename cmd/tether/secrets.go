package main

import (
	"cmp"
	"encoding/base64"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tether-go/tether/transport"
)

// Secrets the command line holds are kept out of what the CLI prints
// about a connection, even when the server quotes them back: a server
// that refuses a token may echo it in its close reason, which errors and
// transitions quote (they are the server's words, bounded to 123 bytes).
// What is hidden: the value of every -H header of at least minSecret
// bytes, each word of it (split at spaces) of at least minSecretWord
// bytes (the token of "Bearer <token>"), the URL's user and password (and
// the Basic authorization made of them), and the values of its token-like
// query parameters (transport.SecretParam), decoded, as Go escapes them
// and as typed; each also as Go quotes it.
// What a server transforms otherwise (cuts short, encodes, changes the
// case of) is not recognised.
const (
	minSecret     = 4
	minSecretWord = 8
	hiddenSecret  = "REDACTED"
)

// secrets returns what hide must keep out of the output of a connection
// to target made with these flags, longest first. Each secret comes also
// as Go quotes it (`"` and `\` escaped, control characters written as
// escapes): errors quote a server's close reason with %q.
func (f *connFlags) secrets(target string) []string {
	var s []string
	put := func(v string) {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	add := func(v string, least int) {
		if len(v) < least {
			return
		}
		put(v)
		if q := strconv.Quote(v); q[1:len(q)-1] != v {
			put(q[1 : len(q)-1])
		}
	}
	for _, vs := range f.headers.h {
		for _, v := range vs {
			add(v, minSecret)
			for w := range strings.FieldsSeq(v) {
				add(w, minSecretWord)
			}
		}
	}
	if u, err := url.Parse(target); err == nil {
		if u.User != nil {
			add(u.User.Username(), minSecret)
			p, _ := u.User.Password()
			add(p, minSecret)
			// As the handshake sends them: Basic authorization.
			add(base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)), minSecret)
		}
		for k, vs := range u.Query() {
			if transport.SecretParam(k) {
				for _, v := range vs {
					add(v, minSecret)
					add(url.QueryEscape(v), minSecret)
				}
			}
		}
	}
	// And each value as typed: a server that quotes the query quotes it
	// so, with escapes Go would spell otherwise (%2b, %41) or cannot
	// decode at all (%zz, which leaves the parameter out of u.Query).
	for k, v := range rawQuery(target) {
		if transport.SecretParam(k) {
			add(v, minSecret)
		}
	}
	// Longest first: a secret that holds another is hidden whole.
	slices.SortStableFunc(s, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return s
}

// rawQuery yields the parameters of target's query as typed: each name
// decoded when it can be (to be matched), each value as it is. It reads
// the text itself, so a URL that does not parse is read too.
func rawQuery(target string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		_, q, ok := strings.Cut(target, "?")
		if !ok {
			return
		}
		q, _, _ = strings.Cut(q, "#")
		for pair := range strings.SplitSeq(q, "&") {
			k, v, _ := strings.Cut(pair, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if !yield(k, v) {
				return
			}
		}
	}
}

// hider returns a replacer of each secret by hiddenSecret, nil when there
// is none.
func hider(secrets []string) *strings.Replacer {
	if len(secrets) == 0 {
		return nil
	}
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, hiddenSecret)
	}
	return strings.NewReplacer(pairs...)
}
