#!/usr/bin/env bash
# Runs the benchmarks of bench/ and writes, under bench/out/ (gitignored):
#   bench.txt    the raw `go test -bench` output of every round of the loop
#                benchmarks (Receive, Send, Echo)
#   ratios.md    their table of medians and ratios against raw-gobwas
#   idle.txt     BenchmarkIdle: memory and goroutines per idle connection
#   idle.md      (10,000 connections per client kind)
#   storm.txt    BenchmarkStorm: reconnect times of 1,000 clients after a
#   storm.md     server restart, per jitter mode
#   detect.txt   BenchmarkDetect: time to notice a black-holed peer
#   detect.md    (20 trials)
#   summary.md   the machine, the commit, the commands, and every table
# and the storm plots under docs/img/ (storm-<jitter>.png, storm-cdf.png).
#
# The COUNT runs of each loop figure are taken in COUNT rounds of -count=1,
# each round measuring every implementation once, rather than with
# -count=COUNT (which runs one figure COUNT times in a row): a burst of load
# from elsewhere on the machine then spreads over all implementations
# instead of landing on one of them. Idle, Storm and Detect are not loops
# (each run does a fixed amount of work, b.N is ignored) and run once, with
# TETHER_BENCH_FULL=1 for their full sizes.
#
# Environment: BENCHTIME (default 1s) and COUNT (default 5) set the run
# length of the loops, BENCH (default Receive|Send|Echo) selects them, as
# for go test -bench; PARTS (default "loops idle storm detect") selects
# what runs (transition is fsm's BenchmarkTransition, in the library module).
# Usage: scripts/bench.sh        or: make bench
set -euo pipefail
benchtime="${BENCHTIME:-1s}"
count="${COUNT:-5}"
pattern="${BENCH:-^Benchmark(Receive|Send|Echo)\$}"
parts="${PARTS:-loops idle storm detect transition}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/bench"
mkdir -p out "$root/docs/img"

has() { [[ " $parts " == *" $1 "* ]]; }

{
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
	dirty="$(git -C "$root" status --short -- . ':!bench' ':!docs' 2>/dev/null | awk '{print $2}' | tr '\n' ' ')"
	if [ -n "$dirty" ]; then
		echo
		echo "Uncommitted changes outside bench/ and docs/: $dirty"
	fi
	echo
	echo "$(go version), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"
	echo
} > out/machine.md

if has loops; then
	cmd=(go test -run '^$' -bench "$pattern" -benchtime="$benchtime" -count=1 -timeout=60m .)
	shown="go test -run '^\$' -bench '$pattern' -benchtime=$benchtime -count=1 -timeout=60m ."
	: > out/bench.txt
	for round in $(seq 1 "$count"); do
		echo "== round $round of $count: $shown" >&2
		"${cmd[@]}" | tee -a out/bench.txt
	done
	{
		echo "Command (in bench/): $count rounds of \`$shown\`"
		echo
		go run ./cmd/ratios < out/bench.txt
	} > out/ratios.md
fi

# once NAME: runs BenchmarkNAME once at full size into out/name.txt and
# renders out/name.md.
once() {
	local name="$1" file
	file="$(echo "$name" | tr '[:upper:]' '[:lower:]')"
	local shown="TETHER_BENCH_FULL=1 TETHER_BENCH_IMG_DIR=docs/img go test -run '^\$' -bench '^Benchmark$name\$' -benchtime=1x -count=1 -timeout=30m ."
	echo "== $shown" >&2
	TETHER_BENCH_FULL=1 TETHER_BENCH_IMG_DIR="$root/docs/img" \
		go test -run '^$' -bench "^Benchmark$name\$" -benchtime=1x -count=1 -timeout=30m -v . |
		grep -v -e '^=== RUN' -e '^--- ' | tee "out/$file.txt"
	{
		echo "Command (in bench/): \`$shown\`"
		echo
		go run ./cmd/ratios -plain < "out/$file.txt"
	} > "out/$file.md"
}

has idle && once Idle
has storm && once Storm
has detect && once Detect

# The cost of one lifecycle transition, measured in the library module.
if has transition; then
	shown="go test -run '^\$' -bench '^BenchmarkTransition' -benchmem -count=$count ./fsm"
	echo "== (in the repository root) $shown" >&2
	(cd "$root" && go test -run '^$' -bench '^BenchmarkTransition' -benchmem -count="$count" ./fsm) | tee out/transition.txt
	{
		echo "Command (in the repository root): \`$shown\`"
		echo
		echo '```'
		grep '^Benchmark' out/transition.txt
		echo '```'
		echo
		echo "Median ns/op per benchmark:"
		echo
		grep '^Benchmark' out/transition.txt | awk '{print $1, $3}' | sort -k1,1 -k2,2n |
			awk '{n[$1]++; v[$1, n[$1]] = $2} END {for (k in n) printf "- %s: %s ns\n", k, v[k, int((n[k] + 1) / 2)]}' | sort
	} > out/transition.md
fi

{
	cat out/machine.md
	for f in ratios idle storm detect transition; do
		if [ -f "out/$f.md" ]; then
			echo "## $f"
			echo
			cat "out/$f.md"
			echo
		fi
	done
} > out/summary.md
echo "== wrote bench/out/ and docs/img/storm-*.png" >&2
cat out/summary.md
