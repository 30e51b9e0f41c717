package peer

// Option configures a peer started by [Start] or [StartT].
type Option interface{ apply(*options) }

type options struct {
	node     string // the node executable: a path, or a name looked up in PATH
	port     int    // 0: an ephemeral port
	certFile string
	keyFile  string
	dir      string // the integration directory; "" finds it from the working directory
	script   string // the script to run, relative to dir; "" is Script
	args     []string
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithPort makes the peer listen on port (default 0: a free port chosen by
// the system). A fixed port lets a test stop the peer and start it again at
// the same address.
func WithPort(port int) Option {
	return optionFunc(func(o *options) { o.port = port })
}

// WithTLS makes the peer serve wss:// with the certificate and key in the
// PEM files certFile and keyFile (see [WriteCerts]).
func WithTLS(certFile, keyFile string) Option {
	return optionFunc(func(o *options) { o.certFile, o.keyFile = certFile, keyFile })
}

// WithNode sets the Node.js executable: a path, or a name looked up in PATH
// (default "node").
func WithNode(node string) Option {
	return optionFunc(func(o *options) { o.node = node })
}

// withDir sets the integration directory (the one holding package.json,
// node_modules and peer/ws-server.mjs). Tests use it to point at a
// directory without node_modules.
func withDir(dir string) Option {
	return optionFunc(func(o *options) { o.dir = dir })
}

// WithScript runs script (a path relative to the integration directory,
// such as RPCScript) instead of Script, with args after its --port. The
// script follows the same protocol: "LISTEN <port>" first on stdout, then
// one JSON event per line, and it exits when its stdin ends.
func WithScript(script string, args ...string) Option {
	return optionFunc(func(o *options) { o.script, o.args = script, args })
}
