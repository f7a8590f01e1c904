#!/usr/bin/env bash
# Builds kpiwatch and one benchmark driver in Release mode and runs it.
# Usage (from anywhere): bash bench/run.sh [kpiwatch_bench_ingest options]
#   default options: --runs 3    (see: kpiwatch_bench_ingest --help)
# Environment: BUILD_DIR (default /tmp/build-bench), JOBS (default 2: the
# machine's cores are shared), OUT (a file to copy the output to; optional),
# BENCH (default ingest; rules or notify run kpiwatch_bench_rules or
# kpiwatch_bench_notify instead, with the same default --runs 3; scale runs
# kpiwatch_bench_scale, default: 10^4, 10^5 and 10^6 series, --quick for a smoke run).
#
# The build is the shipped Release build (-O3), as scripts/serve.sh makes it, plus the drivers.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-/tmp/build-bench}
jobs=${JOBS:-2}
bench=${BENCH:-ingest}
case "$bench" in ingest | rules | notify | scale) ;; *) echo "BENCH must be ingest, rules, notify or scale" >&2; exit 2 ;; esac

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKPIWATCH_BUILD_TESTS=OFF -DKPIWATCH_BUILD_BENCH=ON \
  >/dev/null
ninja -C "$build" -j "$jobs" kpiwatch "kpiwatch_bench_$bench"

args=("$@")
if [ ${#args[@]} -eq 0 ] && [ "$bench" != scale ]; then args=(--runs 3); fi
if rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null); then
  git -C "$src" diff --quiet HEAD -- || rev="$rev (working tree has uncommitted changes)"
else
  rev="unknown (not a git checkout)"
fi
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $rev"
echo "== $build/bench/kpiwatch_bench_$bench ${args[*]}"
if [ -n "${OUT:-}" ]; then
  "$build/bench/kpiwatch_bench_$bench" "${args[@]}" | tee "$OUT"
else
  "$build/bench/kpiwatch_bench_$bench" "${args[@]}"
fi
