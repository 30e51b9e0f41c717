package peer

import "errors"

// Errors of Start and Wait. Match them with errors.Is.
var (
	// ErrNodeMissing means the Node.js executable was not found.
	ErrNodeMissing = errors.New("peer: node not found (install Node.js 20+; CI does)")
	// ErrWSMissing means the npm ws package is not installed next to the
	// peer script.
	ErrWSMissing = errors.New("peer: npm package ws not installed (run `npm ci` in integration/)")
	// ErrExited means the peer process ended: before it printed its LISTEN
	// line (from Start), or while Wait was waiting for an event.
	ErrExited = errors.New("peer: process exited")
	// ErrStartTimeout means the peer did not print its LISTEN line in time.
	ErrStartTimeout = errors.New("peer: no LISTEN line in time")
)
