#!/usr/bin/env bash
# Runs every Fuzz target in the repository's modules for a short time each.
# Usage: scripts/fuzz-short.sh [duration]
set -euo pipefail
dur="${1:-10s}"
cd "$(dirname "$0")/.."
for mod in . integration; do
	[ -f "$mod/go.mod" ] || continue
	(
		cd "$mod"
		# "pkgdir FuzzName" pairs, found from the source.
		grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . 2>/dev/null | grep -v node_modules | while read -r f; do
			dir="$(dirname "$f")"
			grep -oE '^func (Fuzz[A-Za-z0-9_]*)\(' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/' | while read -r name; do
				echo "== fuzz $mod/$dir $name ($dur)"
				go test -run '^$' -fuzz "^${name}\$" -fuzztime "$dur" "./$dir"
			done
		done
	)
done
