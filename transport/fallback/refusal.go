package fallback

import (
	"errors"
	"net/http"

	"github.com/tether-go/tether/transport"
)

// DefaultProxyRefusal reports whether err is a handshake refused the way a
// proxy or a WebSocket-unaware server refuses one, so that waiting for more
// failures would only delay the fallback: a [*transport.HandshakeError]
// with status 400 (Bad Request), 403 (Forbidden), 404 (Not Found: no
// WebSocket endpoint there), 405 (Method Not Allowed), 426 (Upgrade
// Required) or 501 (Not Implemented), with a 2xx status (the request was
// served as plain HTTP: no upgrade), or with no status at all (an answer
// that is not a WebSocket handshake, such as a 101 without the upgrade
// headers). 403 and 404 are terminal under the client's default reconnect
// rules, so counting them would never reach a switch. Other errors,
// network failures and timeouts included, count toward [WithSwitchAfter].
//
// Safe for concurrent use.
func DefaultProxyRefusal(err error) bool {
	he, ok := errors.AsType[*transport.HandshakeError](err)
	if !ok {
		return false
	}
	switch s := he.StatusCode; {
	case s == 0, s >= 200 && s <= 299:
		return true
	case s == http.StatusBadRequest, s == http.StatusForbidden, s == http.StatusNotFound, s == http.StatusMethodNotAllowed,
		s == http.StatusUpgradeRequired, s == http.StatusNotImplemented:
		return true
	}
	return false
}
