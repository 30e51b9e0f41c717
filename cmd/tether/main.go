package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0 // done as asked
	exitError = 1 // runtime failure
	exitUsage = 2 // the command line cannot be run
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // the first closes cleanly
		// The second kills a close that takes too long, at once. Not by
		// restoring the default disposition: a process started with
		// SIGINT ignored (a script's background job) would ignore it.
		s := <-sigs
		code := 128 + 2 // SIGINT
		if n, ok := s.(syscall.Signal); ok {
			code = 128 + int(n)
		}
		os.Exit(code)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env holds the standard streams of one run. stdout and stderr are queued
// (see output): a write never blocks, even when nobody reads the stream,
// and they are safe for concurrent writes: the client's callbacks, the
// message printer and the main goroutine share them.
type env struct {
	stdin  io.Reader
	stdout *output
	stderr *output
}

func newEnv(stdin io.Reader, stdout, stderr io.Writer) *env {
	e := &env{stdin: stdin}
	e.stderr = newOutput(stderr, func(n uint64) {
		fmt.Fprintf(e.stderr, "[skipped] %s of standard error not printed: it did not keep up\n", count(n, "line"))
	})
	e.stdout = newOutput(stdout, e.skippedStdout)
	return e
}

// skippedStdout reports on standard error records standard output dropped.
func (e *env) skippedStdout(n uint64) {
	fmt.Fprintf(e.stderr, "[skipped] %s not printed: standard output did not keep up\n", count(n, "message"))
}

// finish writes out what is still queued and stops the writers; once ctx
// has ended (an interrupt), it waits at most exitGrace more for each
// stream. A standard output that failed turns success into exitError. It
// returns the exit code.
func (e *env) finish(ctx context.Context, code int) int {
	e.stdout.flush(ctx, exitGrace)
	if err := e.stdout.failure(); err != nil && code == exitOK {
		fmt.Fprintf(e.stderr, "tether: writing standard output: %v\n", err)
		code = exitError
	}
	n, cut := e.stdout.close()
	if n > 0 {
		e.skippedStdout(n)
	}
	if cut {
		// Part of it may be on standard output already, without its end.
		fmt.Fprintln(e.stderr, "[skipped] 1 message cut short: standard output did not take all of it before the end")
	}
	e.stderr.flush(ctx, exitGrace)
	e.stderr.close()
	return code
}

// command is one subcommand. setup builds its flag set and returns the
// function that runs it with the positional arguments once flags are
// parsed.
type command struct {
	name     string
	synopsis string // after "tether "
	summary  string // one line for the command list
	detail   string // paragraphs for "tether help name"
	setup    func() (*flag.FlagSet, execFunc)
}

// execFunc runs a command. It returns a *usageError for a command line that
// cannot be run, another error for a runtime failure, nil for success.
type execFunc func(ctx context.Context, args []string, e *env) error

// usageError marks an error of the command line: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// commands lists the subcommands in the order usage shows them.
func commands() []*command {
	return []*command{dialCommand(), traceCommand(), inspectCommand(), diagramCommand(), versionCommand()}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole program: it parses args (without the program name),
// runs the command and returns the exit code. ctx ends on SIGINT or
// SIGTERM. It returns within about exitGrace of the end of ctx when a
// command honours ctx, whatever standard output and standard error do.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv(stdin, stdout, stderr)
	return e.finish(ctx, dispatch(ctx, args, e))
}

// dispatch runs the command args name and returns the exit code.
func dispatch(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "tether: no command given")
		printUsage(e.stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help":
		printUsage(e.stdout)
		return exitOK
	case "help":
		return help(args[1:], e)
	default:
		c := lookup(name)
		if c == nil {
			fmt.Fprintf(e.stderr, "tether: unknown command %s\n", quoteName(name))
			printUsage(e.stderr)
			return exitUsage
		}
		return c.execute(ctx, args[1:], e)
	}
}

// execute parses the command's flags and runs it.
func (c *command) execute(ctx context.Context, args []string, e *env) int {
	fs, exec := c.setup()
	fs.SetOutput(io.Discard) // errors and usage are printed below
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printUsage(e.stdout, fs)
		return exitOK
	}
	if err != nil {
		err = &usageError{err: err}
	} else {
		err = exec(ctx, pos, e)
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "tether %s: %v\nusage: tether %s\nRun 'tether help %s' for details.\n",
			c.name, err, c.synopsis, c.name)
		return exitUsage
	default:
		fmt.Fprintf(e.stderr, "tether: %v\n", err)
		return exitError
	}
}

// help prints the usage of the program or of one command, on stdout.
func help(args []string, e *env) int {
	switch len(args) {
	case 0:
		printUsage(e.stdout)
		return exitOK
	case 1:
		if args[0] == "help" {
			printUsage(e.stdout)
			return exitOK
		}
		if c := lookup(args[0]); c != nil {
			fs, _ := c.setup()
			c.printUsage(e.stdout, fs)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "tether help: unknown command %s\n", quoteName(args[0]))
	default:
		fmt.Fprintln(e.stderr, "tether help: too many arguments")
	}
	printUsage(e.stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `tether is a command-line client for long-lived WebSocket connections.

usage: tether <command> [flags] [arguments]

commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  help      print help about a command

Exit codes: 0 done, 1 runtime failure, 2 bad command line.
Run 'tether help <command>' for a command's flags.
`)
}

func (c *command) printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: tether %s\n\n%s\n", c.synopsis, c.detail)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nflags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
