#!/usr/bin/env bash
# Runs the side-by-side benchmarks of bench/ and writes, under bench/out/
# (gitignored):
#   bench.txt   the raw `go test -bench` output of every round
#   ratios.md   the command, the machine, and the table of medians and
#               ratios against raw-gobwas (go run ./cmd/ratios)
#
# The COUNT runs of each figure are taken in COUNT rounds of -count=1, each
# round measuring every implementation once, rather than with -count=COUNT
# (which runs one figure COUNT times in a row): a burst of load from
# elsewhere on the machine then spreads over all implementations instead of
# landing on one of them.
#
# Environment: BENCHTIME (default 1s) and COUNT (default 5) set the run
# length, BENCH (default .) selects benchmarks, as for go test -bench.
# Usage: scripts/bench.sh        or: make bench
set -euo pipefail
benchtime="${BENCHTIME:-1s}"
count="${COUNT:-5}"
pattern="${BENCH:-.}"
cd "$(dirname "$0")/../bench"
mkdir -p out
cmd=(go test -run '^$' -bench "$pattern" -benchtime="$benchtime" -count=1 -timeout=60m ./...)
shown="go test -run '^\$' -bench '$pattern' -benchtime=$benchtime -count=1 -timeout=60m ./..."
: > out/bench.txt
for round in $(seq 1 "$count"); do
	echo "== round $round of $count: $shown" >&2
	"${cmd[@]}" | tee -a out/bench.txt
done
{
	echo "Command (in bench/): $count rounds of \`$shown\`"
	echo
	echo "$(go version), $(nproc) CPUs"
	echo
	go run ./cmd/ratios < out/bench.txt
} > out/ratios.md
echo "== wrote bench/out/bench.txt and bench/out/ratios.md" >&2
cat out/ratios.md
