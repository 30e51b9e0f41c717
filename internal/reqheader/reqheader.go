// Package reqheader builds the headers of a dial's requests from the ones
// a transport.Target carries, the same way for every transport.
package reqheader

import (
	"net/http"
	"slices"
	"strings"
)

// Build returns h under canonical keys. The values of a key written in
// several spellings ("x-token" and "X-Token") are all kept, in the order of
// the spellings sorted, then as given. Host is left out and returned as
// host (its first value), and so is every key skip reports (skip may be
// nil). An Authorization whose values are all empty is left out too, and
// anonymous reports it: the caller then sends no credentials from the
// URL's userinfo either.
func Build(h http.Header, skip func(canonical string) bool) (out http.Header, host string, anonymous bool) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out = make(http.Header, len(h)+1)
	for _, k := range keys {
		vs := h[k]
		ck := http.CanonicalHeaderKey(k)
		switch {
		case ck == "Host":
			if host == "" && len(vs) > 0 {
				host = vs[0]
			}
			continue
		case skip != nil && skip(ck):
			continue
		}
		out[ck] = append(out[ck], vs...)
	}
	if vs, ok := out["Authorization"]; ok && strings.Join(vs, "") == "" {
		delete(out, "Authorization")
		anonymous = true
	}
	return out, host, anonymous
}
