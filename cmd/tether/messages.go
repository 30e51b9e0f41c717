package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/tether-go/tether/transport"
)

// maxLine is the longest stdin line dial sends, in bytes.
const maxLine = 16 << 20

// sendBufferBytes bounds the lines dial holds while the connection is
// down: two of the longest.
const sendBufferBytes = 2 * maxLine

// printMessages formats every message from msgs and writes it to out until
// msgs closes, counting them in printed. out is queued, so this never waits for standard output and
// never holds the client up; a failed output is reported through its
// failed channel.
func printMessages(out io.Writer, msgs <-chan transport.Message, pretty bool, printed *atomic.Uint64) {
	var buf bytes.Buffer
	for m := range msgs {
		formatMessage(&buf, m, pretty)
		_, _ = out.Write(buf.Bytes()) // copied into the queue, or counted as skipped
		printed.Add(1)
	}
}

// formatMessage puts m in buf as one output record: a text message as it
// is (indented when pretty and it is JSON), a binary message in standard
// base64; each ends with a newline.
func formatMessage(buf *bytes.Buffer, m transport.Message, pretty bool) {
	buf.Reset()
	switch {
	case m.Type == transport.Binary:
		buf.Grow(base64.StdEncoding.EncodedLen(len(m.Payload)) + 1)
		enc := base64.NewEncoder(base64.StdEncoding, buf)
		_, _ = enc.Write(m.Payload)
		_ = enc.Close()
	case pretty && json.Valid(m.Payload):
		_ = json.Indent(buf, bytes.TrimSpace(m.Payload), "", "  ")
	default:
		buf.Write(m.Payload)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
}

// readLines sends each line of r, without its line ending, on lines until
// r ends or stop closes, then reports why it stopped on done (nil at EOF).
func readLines(r io.Reader, lines chan<- string, done chan<- error, stop <-chan struct{}) {
	sc := bufio.NewScanner(r)
	// Room for a line of maxLine bytes and its "\r\n": the scanner's bound
	// counts the line ending, dial's does not.
	sc.Buffer(make([]byte, 0, 64<<10), maxLine+2)
	n := 1
	for ; sc.Scan(); n++ {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) > maxLine {
			done <- lineTooLong(n)
			return
		}
		select {
		case lines <- string(line):
		case <-stop:
			return
		}
	}
	err := sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		err = lineTooLong(n)
	}
	done <- err
}

// lineTooLong is the error of standard input line n, longer than maxLine.
func lineTooLong(n int) error {
	return fmt.Errorf("line %d is longer than 16 MiB, the longest message dial sends from standard input", n)
}
