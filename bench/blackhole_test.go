package bench

import (
	"net"
	"sync"
	"sync/atomic"
)

// blackhole is a TCP proxy on loopback whose links can be black-holed: from
// that instant, every byte read from either side is dropped instead of
// forwarded, as a network partition drops packets, while both sockets stay
// open. (tethertest's WSConn.Stall is not used: it takes effect only after
// the frame the server is already waiting for, which answers one more
// ping.)
type blackhole struct {
	ln     net.Listener
	target string
	links  chan *link // every accepted link, in accept order
	wg     sync.WaitGroup

	mu     sync.Mutex
	open   []*link
	closed bool
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	holed          atomic.Bool
}

// hole starts dropping the link's traffic.
func (l *link) hole() { l.holed.Store(true) }

func (l *link) close() {
	_ = l.client.Close()
	_ = l.server.Close()
}

// newBlackhole listens on 127.0.0.1 and forwards to target. links must be
// drained by the caller (it has room for buffer links).
func newBlackhole(target string, buffer int) (*blackhole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &blackhole{ln: ln, target: target, links: make(chan *link, buffer)}
	p.wg.Go(p.accept)
	return p, nil
}

func (p *blackhole) addr() string { return p.ln.Addr().String() }

func (p *blackhole) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.open = append(p.open, l)
		p.mu.Unlock()
		p.wg.Go(func() { l.pipe(s, c) })
		p.wg.Go(func() { l.pipe(c, s) })
		select {
		case p.links <- l:
		default: // nobody is waiting for it
		}
	}
}

// pipe copies src to dst until either fails, dropping what it reads once
// the link is holed.
func (l *link) pipe(dst, src net.Conn) {
	defer l.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !l.holed.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// close stops the proxy and every link, and waits for its goroutines.
func (p *blackhole) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, l := range p.open {
		l.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
