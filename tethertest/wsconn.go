package tethertest

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"

	"github.com/tether-go/tether/transport"
)

// RecvQueue is how many messages a WSConn queues for [WSConn.Recv].
const RecvQueue = 1024

// WSConn is the server's end of one connection. A reader goroutine, started
// by the server, reads the client's frames from the start: it answers pings
// and the close handshake, and queues what the client sends for
// [WSConn.Recv], up to [RecvQueue] messages. When that many wait, the next
// ones are discarded, whether or not the test is calling Recv, so that a
// test that never reads does not stall the client; [WSConn.Discarded]
// counts them. With [WithRecvBackpressure] the reader waits for Recv
// instead, and nothing is discarded.
//
// All methods are safe for concurrent use.
type WSConn struct {
	// Subprotocol is the subprotocol the server selected, or "".
	Subprotocol string
	// Request is the upgrade request, with the client's headers.
	Request *http.Request

	conn net.Conn
	br   *bufio.Reader
	srv  *WSServer

	wmu       sync.Mutex // one writer: frames never interleave
	bw        *bufio.Writer
	closeSent bool // the server's close frame is written: nothing may follow it; under wmu

	in        chan transport.Message
	discarded atomic.Uint64 // messages the full queue refused (see Discarded)
	done      chan struct{}
	once      sync.Once
	err       error

	smu    sync.Mutex
	resume chan struct{} // closed while not stalled

	hold     atomic.Bool           // leave the client's close frame to Close (see HoldClose)
	closeIn  chan struct{}         // closed when a held close frame came
	closeErr *transport.CloseError // that frame; set before closeIn closes

	ready bool // upgraded, so Accept may return it; guarded by srv.mu
}

// Send sends one message. It blocks until the frame is written to the
// socket, which takes a while only when the client stops reading and the
// socket buffers fill; Drop or the server's Close unblocks it. Frames of
// concurrent calls never interleave. After the connection has ended, or
// once the server's close frame is sent (Close, or the answer to the
// client's), it returns [net.ErrClosed] and sends nothing: RFC 6455 lets
// no data follow a close frame.
func (c *WSConn) Send(typ transport.MessageType, payload []byte) error {
	return c.write(ws.NewFrame(ws.OpCode(typ), true, payload))
}

// SendFragmented sends payload as parts frames (at least one), as Send
// does; a concurrent Send may come between two of them.
func (c *WSConn) SendFragmented(typ transport.MessageType, payload []byte, parts int) error {
	parts = max(parts, 1)
	size := (len(payload) + parts - 1) / parts
	op := ws.OpCode(typ)
	for i := 0; i < parts; i++ {
		lo, hi := min(i*size, len(payload)), min((i+1)*size, len(payload))
		if err := c.write(ws.NewFrame(op, i == parts-1, payload[lo:hi])); err != nil {
			return err
		}
		op = ws.OpContinuation
	}
	return nil
}

// Ping sends a ping, as Send sends a message; the client's pong arrives
// through Recv.
func (c *WSConn) Ping(payload []byte) error { return c.write(ws.NewPingFrame(payload)) }

// Close sends a close frame with code and reason, as Send sends a message;
// it does not wait for the answer. The connection ends when the client
// answers (or when it is dropped). Nothing follows it: later calls of
// Send, Ping and Close return [net.ErrClosed].
func (c *WSConn) Close(code transport.StatusCode, reason string) error {
	return c.write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
}

// Drop closes the TCP connection without a close frame. When it returns,
// the connection has ended (Done is closed, Err is [io.ErrUnexpectedEOF]
// unless it had ended before). It does not block, and a second call does
// nothing.
func (c *WSConn) Drop() { c.end(io.ErrUnexpectedEOF) }

// Stall stops reading from the client: pings go unanswered and, once the
// socket buffers fill, the client's writes block. A black hole. The reader
// may already be waiting for the next frame: that one is still read (and a
// ping answered), none after it. It does not block.
func (c *WSConn) Stall() {
	c.smu.Lock()
	select {
	case <-c.resume:
		c.resume = make(chan struct{})
	default:
	}
	c.smu.Unlock()
}

// Resume undoes Stall: reading goes on where it stopped. It does not block.
func (c *WSConn) Resume() {
	c.smu.Lock()
	select {
	case <-c.resume:
	default:
		close(c.resume)
	}
	c.smu.Unlock()
}

// HoldClose makes the connection leave the client's close frame
// unanswered: Recv returns it (a *transport.CloseError, Remote true) once
// the messages before it are received, Send still sends, and Close sends
// the answer. The connection ends when the client hangs up. A test uses it
// to send messages between the two close frames, as RFC 6455 lets a
// server do. Call it before the client's close frame comes; it does not
// block.
func (c *WSConn) HoldClose() { c.hold.Store(true) }

// Recv returns the next message from the client (data or a pong), blocking
// until there is one, the connection ends, or ctx ends. Once the connection
// has ended and the queued messages are read, it returns how it ended (see
// Err): the client's close frame as a *transport.CloseError, for one (or,
// after HoldClose, once that frame has come).
func (c *WSConn) Recv(ctx context.Context) (transport.Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.closeIn:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return transport.Message{}, c.closeErr
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return transport.Message{}, c.err
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	}
}

// Done is closed when the connection has ended. It does not block.
func (c *WSConn) Done() <-chan struct{} { return c.done }

// Err says how the connection ended, blocking until it has: a
// *transport.CloseError for the client's close frame, [io.ErrUnexpectedEOF]
// after Drop (and after the server's DropAll or Close), or the read error
// that ended it.
func (c *WSConn) Err() error {
	<-c.done
	return c.err
}

func (c *WSConn) write(f ws.Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return net.ErrClosed
	default:
	}
	if c.closeSent {
		return net.ErrClosed
	}
	if err := ws.WriteFrame(c.bw, f); err != nil {
		return err
	}
	if f.Header.OpCode == ws.OpClose {
		c.closeSent = true
	}
	return c.bw.Flush()
}

func (c *WSConn) end(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
		_ = c.conn.Close()
		c.srv.forget(c)
	})
}

func (c *WSConn) waitResumed() bool {
	c.smu.Lock()
	resume := c.resume
	c.smu.Unlock()
	select {
	case <-resume:
		return true
	case <-c.done:
		return false
	}
}

// readLoop reads the client's frames, answers pings and the close
// handshake, and queues messages for Recv.
func (c *WSConn) readLoop() {
	var (
		msg []byte
		op  ws.OpCode
	)
	for c.waitResumed() {
		h, err := ws.ReadHeader(c.br)
		if err != nil {
			c.end(err)
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			c.end(err)
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpPing:
			_ = c.write(ws.NewPongFrame(payload))
		case ws.OpPong:
			c.deliver(transport.Message{Type: transport.Pong, Payload: payload})
		case ws.OpClose:
			code, reason := transport.StatusNoStatusReceived, ""
			if len(payload) >= 2 {
				code, reason = transport.StatusCode(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			ce := &transport.CloseError{Code: code, Reason: reason, Remote: true}
			if c.hold.Load() {
				// The answer is the test's to send (Close): read on
				// until the client hangs up.
				c.closeErr = ce
				close(c.closeIn)
				_, _ = io.Copy(io.Discard, c.br)
				c.end(ce)
				return
			}
			if len(payload) >= 2 {
				_ = c.write(ws.NewCloseFrame(payload[:2]))
			} else {
				_ = c.write(ws.NewCloseFrame(nil))
			}
			c.end(ce)
			return
		case ws.OpContinuation:
			msg = append(msg, payload...)
			if h.Fin {
				c.deliver(transport.Message{Type: transport.MessageType(op), Payload: msg})
				msg = nil
			}
		default:
			if h.Fin {
				c.deliver(transport.Message{Type: transport.MessageType(h.OpCode), Payload: payload})
			} else {
				op, msg = h.OpCode, payload
			}
		}
	}
}

// deliver queues m for Recv. By default a full queue discards it (a test
// that never calls Recv must not block the server); with
// WithRecvBackpressure it waits for room, or for the end.
func (c *WSConn) deliver(m transport.Message) {
	if c.srv.lossless {
		select {
		case c.in <- m:
		case <-c.done:
		}
		return
	}
	select {
	case c.in <- m:
	default:
		c.discarded.Add(1)
	}
}

// Discarded returns how many of the client's messages (data and pongs)
// were discarded because RecvQueue of them waited for Recv (never with
// WithRecvBackpressure). A test that counts what the server received
// checks it is zero. It does not block.
func (c *WSConn) Discarded() uint64 { return c.discarded.Load() }
