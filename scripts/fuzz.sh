#!/usr/bin/env bash
# Run each libFuzzer target given on the command line for FUZZ_SECONDS seconds,
# starting from its seed corpus in tests/fuzz/corpus/<name without fuzz_>/ and
# keeping what it learns in build-fuzz/corpus/ (never in the repo).
set -euo pipefail
secs=${FUZZ_SECONDS:-60}
status=0
for bin in "$@"; do
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=build-fuzz/corpus/$name
	mkdir -p "$work"
	dirs=("$work")
	[ -d "$seeds" ] && dirs+=("$seeds")
	echo "fuzz: $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build-fuzz/ "${dirs[@]}" >"build-fuzz/$name.log" 2>&1; then
		echo "fuzz: $name FAILED (see build-fuzz/$name.log)"
		tail -n 30 "build-fuzz/$name.log"
		status=1
	else
		grep -E '^Done|^#[0-9]+.*DONE' "build-fuzz/$name.log" | tail -n 1 || true
	fi
done
exit $status
