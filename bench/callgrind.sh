#!/usr/bin/env bash
# Instructions the daemon executes per stored row, under valgrind's callgrind:
# a figure that, unlike the rates of run.sh, does not depend on the machine's
# load. It runs kpiwatch_bench_ingest with the daemon under callgrind at two
# sizes and divides the difference of the daemon's instruction counts (so the
# start-up cost cancels) by the difference in rows.
# Usage: bash bench/callgrind.sh      (after bench/run.sh has built BUILD_DIR)
# Environment: BUILD_DIR (default /tmp/build-bench), KEEP=1 keeps the profiles
# (open them with callgrind_annotate --inclusive=yes FILE).
set -euo pipefail
build=${BUILD_DIR:-/tmp/build-bench}
bench=$build/bench/kpiwatch_bench_ingest
daemon=$build/daemon/kpiwatch
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
[ -x "$bench" ] && [ -x "$daemon" ] || { echo "build first: bash bench/run.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/kpiwatch-callgrind-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cat >"$work/kpiwatch" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$work/run.\$\$.out "$daemon" "\$@"
EOF
chmod +x "$work/kpiwatch"

# Runs the benchmark with the given options; prints the daemon's instruction count.
instructions() {
  rm -f "$work"/run.*.out
  "$bench" --kpiwatch "$work/kpiwatch" "$@" >"$work/bench.log" 2>&1 || { cat "$work/bench.log" >&2; exit 1; }
  local out
  out=$(ls "$work"/run.*.out)
  [ -n "${KEEP:-}" ] && cp "$out" "$work/profile$(echo "$@" | tr ' -' '_').out"
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

a1=$(instructions --only a --batches 2)
a2=$(instructions --only a --batches 22)
b1=$(instructions --only b --connections 64 --requests 2)
b2=$(instructions --only b --connections 64 --requests 12)
echo "daemon instructions (callgrind Ir), start-up excluded:"
echo "  (a) batches of 1000:      $(( (a2 - a1) / 20000 )) per row"
echo "  (b) single submissions:   $(( (b2 - b1) / 640 )) per request (64 connections)"
[ -z "${KEEP:-}" ] || echo "profiles kept in $work"
