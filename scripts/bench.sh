#!/usr/bin/env bash
# make bench: run every benchmark under tests/bench/ (executables named bench_*).
# Each prints its measured figures beside their targets; nothing here asserts,
# because speed depends on the machine (tests must pass on a loaded 2-core box).
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
status=0
for b in tests/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $b"
	"./$b" || { echo "benchmark $b failed to run (exit $?)"; status=1; }
done
exit $status
