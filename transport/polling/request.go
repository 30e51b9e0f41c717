package polling

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tether-go/tether/internal/reqheader"
	"github.com/tether-go/tether/transport"
)

// requester makes the HTTP requests of one Dial and the Conn it returns. It
// is read-only once built, so any goroutine may use it.
type requester struct {
	o         *options
	header    http.Header // the target's headers plus the subprotocol offer
	host      string      // Host override from the target's headers, or ""
	anonymous bool        // an empty Authorization: no credentials from the URL's userinfo either
}

func newRequester(o *options, target transport.Target) *requester {
	h, host, anonymous := reqheader.Build(target.Header, nil)
	if o.format == JSONArray && h.Get("Accept") == "" {
		h.Set("Accept", "application/json")
	}
	if o.protoHeader != "" && len(target.Subprotocols) > 0 {
		h.Set(o.protoHeader, strings.Join(target.Subprotocols, ", "))
	}
	return &requester{o: o, header: h, host: host, anonymous: anonymous}
}

// answer is what the server replied. body holds the whole body for a 2xx
// answer and an excerpt otherwise (none for a redirect); header has
// Location and Content-Location redacted. An answer whose head is past the bounds (see
// [MaxHeaderBytes]) has only its status and cause: no header, no body.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	tooLarge bool  // a 2xx body above the size limit; body is cut
	cause    error // why the answer cannot be used: its head is past a bound, or it redirects
}

// ok reports a 2xx or 304 answer whose head is within the bounds.
func (a *answer) ok() bool {
	return (a.status/100 == 2 || a.status == http.StatusNotModified) && a.cause == nil
}

// refusal is the typed error for an answer that is not ok.
func (a *answer) refusal() *transport.HandshakeError {
	return &transport.HandshakeError{StatusCode: a.status, Header: a.header, Body: excerpt(a.body), Err: a.cause}
}

// do sends one request under timeout (real time) and reads the answer.
// extra headers are added to the requester's. A request that fails returns
// ctx's error when ctx ended, a [*transport.TimeoutError] for phase when the
// timeout ran out, an error matching [transport.ErrCertificate] when the
// server's certificate failed verification, a [*transport.HandshakeError]
// matching [transport.ErrBadHandshake] when net/http stopped reading an
// answer's head at MaxHeaderBytes, or the network error, with the URL
// redacted in each. An answer whose head net/http read in full but which is
// past a bound, or which redirects (never followed), is an answer with
// cause set.
func (r *requester) do(ctx context.Context, method string, u *url.URL, extra http.Header, body []byte, timeout time.Duration, phase string) (*answer, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), rd)
	if err != nil {
		return nil, redact(err)
	}
	req.Header = r.header.Clone()
	for k, vs := range extra {
		req.Header[k] = vs
	}
	if r.host != "" {
		req.Host = r.host
	}
	if r.anonymous {
		req.URL.User = nil // net/http would send it as Basic credentials
	}
	resp, err := r.o.client.Do(req)
	if err != nil {
		return nil, r.failure(ctx, rctx, err, timeout, phase)
	}
	defer resp.Body.Close()
	if err := checkHead(resp); err != nil {
		return &answer{status: resp.StatusCode, cause: err}, nil
	}
	redactLocations(resp.Header)
	a := &answer{status: resp.StatusCode, header: resp.Header, cause: redirected(resp)}
	if a.status/100 != 2 {
		if a.cause == nil { // a redirect's body only repeats its Location, query and all
			a.body, _ = io.ReadAll(io.LimitReader(resp.Body, transport.BodyExcerptLimit))
		}
		return a, nil
	}
	limit := r.o.maxBodySize
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a body at the limit from a larger one
	}
	a.body, err = readBody(resp, limit)
	if err != nil {
		return nil, r.failure(ctx, rctx, err, timeout, phase)
	}
	if int64(len(a.body)) > r.o.maxBodySize {
		a.body, a.tooLarge = a.body[:r.o.maxBodySize], true
	}
	return a, nil
}

// readBody reads at most limit bytes of resp's body, into one buffer of the
// announced length when the answer has one within the limit (io.ReadAll
// would grow its buffer step by step, allocating twice the body or more).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	body := io.LimitReader(resp.Body, limit)
	n := resp.ContentLength
	if n < 0 || n >= limit {
		return io.ReadAll(body)
	}
	var buf bytes.Buffer
	buf.Grow(int(n) + bytes.MinRead) // room for the final read that finds the end
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}

func (r *requester) failure(ctx, rctx context.Context, err error, timeout time.Duration, phase string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("tether/polling: %s: %w", phase, ctx.Err())
	}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return &transport.TimeoutError{Phase: phase, After: timeout, Err: redact(err)}
	}
	if pastHeadLimit(err) {
		// net/http stopped reading at MaxHeaderBytes: no status, no header.
		return &transport.HandshakeError{Err: headTooLong()}
	}
	if transport.IsCertificateError(err) {
		// The crypto/tls and crypto/x509 errors stay in the chain, for
		// errors.As; the default reconnect policy gives up on it.
		return fmt.Errorf("%w: %w", transport.ErrCertificate, redact(err))
	}
	return redact(err)
}

// redact removes secrets from the URL that net/http puts in its errors,
// and bounds the text of the cause (see boundText): net/http quotes a
// malformed answer from the server in it, whole.
func redact(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cp := *ue
		cp.URL = transport.RedactURL(ue.URL)
		cp.Err = boundText(ue.Err)
		return &cp
	}
	return boundText(err)
}

// excerpt returns b as valid UTF-8 of at most transport.BodyExcerptLimit
// bytes, cut on a rune boundary.
func excerpt(b []byte) string {
	if len(b) > transport.BodyExcerptLimit {
		b = b[:transport.BodyExcerptLimit]
	}
	// Drop a rune cut in half at the end, then replace what is invalid.
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				b = b[:len(b)-i]
			}
			break
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > transport.BodyExcerptLimit {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// waitSeconds is the value of a "Prefer: wait=" header for d.
func waitSeconds(d time.Duration) string {
	secs := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(max(secs, 1)), 10)
}
