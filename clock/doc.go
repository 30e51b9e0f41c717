// Package clock is the time source every timed part of tether goes through.
//
// Production code uses [Real]. Tests use the fake clock in
// github.com/tether-go/tether/tethertest, which steps time by hand and reports
// how many timers are armed, so no test has to sleep.
//
// # Contract
//
// A [Clock] is safe for concurrent use. A [Timer] returned by [Clock.AfterFunc]
// runs its function on a goroutine of its own, never on the goroutine that
// armed it or stepped the clock, so the function may block or take locks that
// the caller holds.
package clock
