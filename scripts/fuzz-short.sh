#!/usr/bin/env bash
# Runs every Fuzz target in the repository's modules for a short budget each.
# Usage: scripts/fuzz-short.sh [budget]  (a count such as 60000x; see the Makefile for why not a duration)
# A target can set its own budget with a comment line "// fuzz-short: 5000x" right above it.
set -euo pipefail
dur="${1:-60000x}"
cd "$(dirname "$0")/.."
for mod in . integration; do
	[ -f "$mod/go.mod" ] || continue
	files="$(cd "$mod" && { grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . || true; } | { grep -v node_modules || true; } | sort)"
	[ -n "$files" ] || continue
	while read -r file; do
		dir="$(dirname "$file")"
		# "budget name" pairs: the budget comment on the line above, or the default.
		awk -v def="$dur" '
			/^\/\/ fuzz-short: / { budget = $3; next }
			match($0, /^func (Fuzz[A-Za-z0-9_]*)\(/) { name = substr($0, 6, RLENGTH - 6); print (budget ? budget : def), name }
			{ budget = "" }
		' "$mod/$file" | while read -r budget name; do
			echo "== fuzz $mod/$dir $name ($budget)"
			(cd "$mod" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$budget" "$dir")
		done
	done <<<"$files"
done
