// Command gendocs writes the documents generated from code:
// docs/lifecycle.md, from the transition table in package fsm, and
// docs/rpc-machines.md, from the definitions of package rpc's machines.
//
// Run it from the repository root with `make docs` (or
// `go run ./internal/gendocs`). A test in this package fails when a generated
// document in docs/ differs from what the code generates.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	for name, render := range documents {
		path := filepath.Join(*root, name)
		if err := os.WriteFile(path, []byte(render()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}

// documents maps each generated file, relative to the repository root, to
// the function that renders it.
var documents = map[string]func() string{
	"docs/lifecycle.md":    lifecycle,
	"docs/rpc-machines.md": rpcMachines,
}
