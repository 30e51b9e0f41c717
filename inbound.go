package tether

import (
	"bytes"

	"github.com/tether-go/tether/adapters"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

// onMessageOption carries a typed callback; New checks its type against the
// client's T.
type onMessageOption struct{ f any }

func (onMessageOption) apply(*config) {}

// OnMessage calls f with every decoded message, on the reader goroutine,
// before the message reaches the streams. f must be quick: while it runs,
// nothing else is read. Its T must be the client's message type, otherwise
// New fails with an *OptionError.
func OnMessage[T any](f func(T)) Option { return onMessageOption{f: f} }

// inbound handles one data message on the reader goroutine.
func (c *Client[T]) inbound(_ *adapters.Session, msg transport.Message) {
	if g := c.gate.Load(); g != nil {
		<-*g // OnOpen first
		c.gate.CompareAndSwap(g, nil)
	}
	v, err := c.decode(msg)
	if err != nil {
		c.report(err)
		return
	}
	c.mu.Lock()
	c.latest, c.hasLatest = v, true
	c.mu.Unlock()
	if r := c.cfg.router; r != nil {
		var rerr error
		if env, ok := any(v).(stream.Envelope); ok {
			rerr = r.Dispatch(env)
		} else {
			rerr = r.DispatchPayload(msg.Payload)
		}
		if rerr != nil {
			c.report(rerr)
		}
	}
	if c.onMessage != nil {
		c.onMessage(v)
	}
	c.messages.Publish(v)
}

// decode turns a borrowed payload into a T the caller owns: []byte and
// string take a copy, transport.Message a copy of its payload, anything
// else goes through the codec.
func (c *Client[T]) decode(msg transport.Message) (T, error) {
	var v T
	switch p := any(&v).(type) {
	case *[]byte:
		*p = bytes.Clone(msg.Payload)
	case *string:
		*p = string(msg.Payload)
	case *transport.Message:
		*p = transport.Message{Type: msg.Type, Payload: bytes.Clone(msg.Payload)}
	default:
		return stream.Decode[T](c.cfg.codec, msg.Payload)
	}
	return v, nil
}

// dropped reports a dropped message; any goroutine.
func (c *Client[T]) dropped(d adapters.Drop) {
	if c.cfg.onDrop != nil {
		c.cfg.onDrop(d)
	}
	if l := c.cfg.logger; l != nil {
		l.Warn("tether message dropped", "id", d.ID, "size", d.Size, "reason", d.Reason.Error())
	}
	c.report(&DropError{Drop: d})
}

// report publishes err on the error stream, records it as the latest
// error, and queues the OnError callback.
func (c *Client[T]) report(err error) {
	c.mu.Lock()
	c.lastErr = err
	c.mu.Unlock()
	c.errs.Publish(err)
	if f := c.cfg.onError; f != nil {
		c.cb.post(func() { f(err) })
	}
}
