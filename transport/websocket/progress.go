package websocket

// ReadProgress reports the bytes received from the network connection so
// far (frame headers, control frames and partial frames included, and the
// bytes that came with the handshake answer, counted once the reader takes
// them; for wss, the bytes after TLS) and whether a Read, or a Close reading the peer's answer by itself,
// is waiting for the network right now (see [transport.ProgressReporter]).
// The count grows with each read from the network, so it shows a large
// message arriving before Read returns it.
//
// Safe from any goroutine; it never blocks.
func (c *conn) ReadProgress() (received uint64, waiting bool) {
	return c.rd.readProgress()
}
