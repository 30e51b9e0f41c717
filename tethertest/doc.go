// Package tethertest is the public test kit for code built on tether, in the
// spirit of net/http/httptest.
//
// It holds a fake [clock.Clock] that tests step by hand: [FakeClock.Step]
// moves time forward and fires what is due, [FakeClock.BlockUntil] waits
// until the code under test has armed a given number of timers, and
// [FakeClock.Settle] until what the fired timers started has returned, so a
// timing test never sleeps and never depends on how fast the machine is.
//
// It also holds [WSServer], a real WebSocket server on a loopback port that
// the test scripts: it hands over each connection as a [WSConn] to send,
// ping, close, drop or stall. DropAll after a client's Dial has returned
// always drops that connection, Close returns only once every goroutine the
// server started has ended, and the accept backlog holds upgrades rather
// than drop them (see [WSServer]).
//
// Every exported function and method of the package is safe for concurrent
// use. The guide is docs/testing.md in the repository.
package tethertest
