#!/usr/bin/env bash
# Builds kpiwatch and the ingest benchmark in Release mode and runs it.
# Usage (from anywhere): bash bench/run.sh [kpiwatch_bench_ingest options]
#   default options: --runs 3    (see: kpiwatch_bench_ingest --help)
# Environment: BUILD_DIR (default /tmp/build-bench), JOBS (default 2: the
# machine's cores are shared), OUT (a file to copy the output to; optional),
# BENCH (default ingest; rules or notify run kpiwatch_bench_rules or
# kpiwatch_bench_notify instead, with the same default --runs 3).
#
# The build is the shipped Release build (-O3), as scripts/serve.sh makes it, plus the drivers.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-/tmp/build-bench}
jobs=${JOBS:-2}
bench=${BENCH:-ingest}
case "$bench" in ingest | rules | notify) ;; *) echo "BENCH must be ingest, rules or notify" >&2; exit 2 ;; esac

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKPIWATCH_BUILD_TESTS=OFF -DKPIWATCH_BUILD_BENCH=ON \
  >/dev/null
ninja -C "$build" -j "$jobs" kpiwatch kpiwatch_bench_ingest kpiwatch_bench_rules kpiwatch_bench_notify

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--runs 3)
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
