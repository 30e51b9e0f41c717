// Package tethertest is the public test kit for code built on tether, in the
// spirit of net/http/httptest.
//
// It holds a fake [clock.Clock] that tests step by hand: [FakeClock.Step]
// moves time forward and fires what is due, and [FakeClock.BlockUntil] waits
// until the code under test has armed a given number of timers, so a timing
// test never sleeps and never depends on how fast the machine is.
package tethertest
