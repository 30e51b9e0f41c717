package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:     "version",
		synopsis: "version",
		summary:  "print the version",
		detail: `Version prints the version of tether this binary was built from (a module
version, or "(devel)" for a build inside the repository), the VCS revision
when it is known, and the Go version.`,
		setup: func() (*flag.FlagSet, execFunc) {
			fs := flag.NewFlagSet("version", flag.ContinueOnError)
			return fs, func(_ context.Context, args []string, e *env) error {
				if err := noArgs(args); err != nil {
					return err
				}
				_, err := fmt.Fprintln(e.stdout, versionString())
				return err
			}
		},
	}
}

// versionString describes the build: "tether v1.2.3 go1.26.8", with the
// revision after the version when the build recorded one.
func versionString() string {
	version, rev, dirty := "(unknown)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "tether " + version
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " " + rev
		if dirty {
			out += "-dirty"
		}
	}
	return out + " " + runtime.Version()
}
