// Command tether is a command-line client for long-lived WebSocket
// connections, built on the tether library and nothing but its public API.
//
//	tether dial [flags] URL          connect, print messages and transitions, send stdin lines
//	tether trace [flags] URL         connect for a while, then print the Mermaid trace
//	tether inspect [flags] URL       connect, and show the connection live on a web page
//	tether diagram [-format mermaid|dot]
//	tether version
//	tether help [command]
//
// # Output
//
// Messages go to standard output, each on its own line (a text message that
// holds line breaks keeps them), so it can be piped (into jq, say). Everything about the connection (transitions, scheduled retries,
// dropped messages) goes to standard error, as lines such as
//
//	[transition] #2 Connecting --dialed--> Open (websocket)
//
// Both streams are bounded queues drained by a writer goroutine, so output
// that nobody reads never holds up the connection or an interrupt; what
// does not fit is counted and reported as [skipped].
//
// No argument is printed back: a URL only through transport.RedactURL,
// other arguments counted or named by their flag. What a server quotes
// back (a close reason echoing a token) is shown with the values of -H
// headers and the URL's credentials replaced by REDACTED, on standard
// error and in the trace's diagram.
//
// # Exit codes
//
// 0 when the command finished as asked (standard input ended, or an interrupt
// closed the connection cleanly), 1 for a runtime failure (the reconnect
// policy gave up, a file could not be read), printed as "tether: message",
// and 2 for a command line that cannot be run (an unknown command or flag, a
// bad flag value, a missing URL).
//
// # Structure
//
// main only installs the signal handling; run takes the arguments and the
// three standard streams, so the tests drive every command in process,
// against a real WebSocket server on a loopback port.
//
// docs/cli.md documents every command and flag with examples.
package main
