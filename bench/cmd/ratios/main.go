package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	ref := flag.String("ref", "raw-gobwas", "impl every ratio is computed against")
	plain := flag.Bool("plain", false, "no ratios: the median of every metric, in the order reported")
	flag.Parse()
	rep, err := parse(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(rep.families) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results on stdin")
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	if *plain {
		renderPlain(w, rep)
	} else {
		render(w, rep, *ref)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}
