// Package reqheader builds the headers of a dial's requests from the ones
// a transport.Target carries, the same way for every transport.
package reqheader

import (
	"net/http"
	"slices"
)

// Build returns h under canonical keys. The values of a key written in
// several spellings ("x-token" and "X-Token") are all kept, in the order of
// the spellings sorted, then as given. Host is left out and returned as
// host (its first value), and so is every key skip reports (skip may be
// nil). An Authorization's empty values are left out; when it has no
// other, anonymous reports it: the caller then sends no credentials from
// the URL's userinfo either.
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
	if vs, ok := out["Authorization"]; ok {
		// Empty values say nothing: without others, no credentials at
		// all; beside others, they are left out, so that the first value
		// is one (a caller reading it with Get would take "" for none, and
		// send the URL's userinfo in place of the token).
		vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
		if len(vs) == 0 {
			delete(out, "Authorization")
			anonymous = true
		} else {
			out["Authorization"] = vs
		}
	}
	return out, host, anonymous
}
