#!/usr/bin/env bash
# Runs every Fuzz target in the repository's modules for a short time each.
# Usage: scripts/fuzz-short.sh [budget]  (a count such as 60000x; see the Makefile for why not a duration)
set -euo pipefail
dur="${1:-60000x}"
cd "$(dirname "$0")/.."
for mod in . integration; do
	[ -f "$mod/go.mod" ] || continue
	# "dir name" pairs, found from the source (go test -fuzz takes one target at a time).
	targets="$(cd "$mod" && { grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*\(' . || true; } |
		grep -v node_modules | sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u || true)"
	[ -n "$targets" ] || continue
	while read -r dir name; do
		echo "== fuzz $mod/$dir $name ($dur)"
		(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" "$dir")
	done <<<"$targets"
done
