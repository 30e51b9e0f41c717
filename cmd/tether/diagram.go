package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/tether-go/tether/fsm"
)

func diagramCommand() *command {
	return &command{
		name:     "diagram",
		synopsis: "diagram [-format mermaid|dot]",
		summary:  "print the lifecycle state diagram",
		detail: `Diagram prints the connection lifecycle, drawn from the transition table the
client runs: a Mermaid stateDiagram-v2 (the default) or a Graphviz digraph.

  tether diagram -format dot | dot -Tsvg > lifecycle.svg`,
		setup: func() (*flag.FlagSet, execFunc) {
			fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
			format := fs.String("format", "mermaid", "diagram `language`: mermaid or dot")
			return fs, func(_ context.Context, args []string, e *env) error {
				if err := noArgs(args); err != nil {
					return err
				}
				f, err := fsm.ParseFormat(*format)
				if err != nil {
					// Named by its flag, never repeated (it may be anything).
					return usagef("invalid value for flag -format: want mermaid or dot")
				}
				d, err := fsm.Diagram(f)
				if err != nil {
					return err
				}
				if !strings.HasSuffix(d, "\n") {
					d += "\n"
				}
				_, err = fmt.Fprint(e.stdout, d)
				return err
			}
		},
	}
}
