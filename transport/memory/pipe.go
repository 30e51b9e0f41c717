package memory

import "github.com/tether-go/tether/transport"

// PipeURL is the target URL a [Pipe] connection reports.
const PipeURL = "memory://pipe"

// Pipe returns both ends of one fresh, open connection: the client's Conn and
// the server's ServerConn, configured by opts as a [Server] would configure
// them. It is the shortest way to unit-test code that takes a
// [transport.Conn]. A refused option returns a [*ConfigError].
//
// Safe from any goroutine.
func Pipe(opts ...Option) (transport.Conn, *ServerConn, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	l := newLink(&o, transport.Target{URL: PipeURL}, "")
	return &conn{l: l}, &ServerConn{l: l}, nil
}
