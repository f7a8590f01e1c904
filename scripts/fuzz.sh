#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan+UBSan) in build-fuzz and runs each
# for SECONDS (default 60) with one worker per core, on the seed corpora, the regression
# inputs and the corpus earlier runs grew (build-fuzz/corpus/TARGET). Prints executions and
# crashes per target; exits 1 if any input crashed, leaked or timed out (kept in
# build-fuzz/crashes/TARGET/). docs/FUZZING.md says how to read and replay them.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: submission import rules expression)
# Environment: KPIWATCH_FUZZ_WORKERS (default: nproc), KPIWATCH_FUZZ_DIR (default: build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, not \"$seconds\"" >&2; exit 2; }
shift || true
all=(submission import rules expression)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target \"$t\" (one of: ${all[*]})" >&2; exit 2; }
done
workers=${KPIWATCH_FUZZ_WORKERS:-$(nproc)}
dir=${KPIWATCH_FUZZ_DIR:-build-fuzz}

CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKPIWATCH_FUZZ=ON \
  -DKPIWATCH_BUILD_TESTS=OFF -DKPIWATCH_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzzers

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A run that takes 10 s is a hang; libFuzzer keeps it as timeout-*.
flags=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

failed=0
summary=()
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$t
  corpus=$dir/corpus/$t crashes=$dir/crashes/$t logs=$dir/logs/$t
  seeds=tests/fuzz/seeds/$t regressions=tests/fuzz/regressions/$t
  mkdir -p "$corpus" "$crashes" "$logs" "$regressions"
  rm -f "$logs"/*.log
  before=$(find "$crashes" -type f | wc -l)

  echo "== $t: the seeds and the regression inputs, once each"
  if ! "$bin" "${flags[@]}" -runs=0 -artifact_prefix="$crashes/" "$seeds" "$regressions" >"$logs/replay.log" 2>&1; then
    tail -n 40 "$logs/replay.log"
    summary+=("$t: a seed or regression input fails (log: $logs/replay.log)")
    failed=1
    continue
  fi

  echo "== $t: $workers worker(s) for $seconds s"
  pids=()
  for ((w = 0; w < workers; w++)); do
    # Each worker adds what it finds to the shared corpus, and reads what the others added.
    "$bin" "${flags[@]}" -max_total_time="$seconds" -dict="tests/fuzz/dicts/$t.dict" -artifact_prefix="$crashes/" \
      -seed=$((RANDOM * 32768 + RANDOM + w)) "$corpus" "$seeds" "$regressions" >"$logs/worker-$w.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done

  execs=$(cat "$logs"/worker-*.log | sed -n 's/^stat::number_of_executed_units: *//p' | awk "{ n += \$1 } END { print n + 0 }")
  new=$(($(find "$crashes" -type f | wc -l) - before))
  line="$t: ${execs:-0} executions in $seconds s by $workers worker(s), $new crash(es), corpus $(find "$corpus" -type f | wc -l) files"
  if ((status != 0 || new > 0)); then
    failed=1
    line+=" -- FAILED (logs: $logs; inputs: $crashes)"
    grep -h -m1 -B2 -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|^fuzz: " "$logs"/worker-*.log |
      head -n 60 || true
  fi
  summary+=("$line")
done

echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "replay one: $dir/tests/fuzz/fuzz_TARGET FILE; keep it as a regression: tests/fuzz/regressions/TARGET/NAME"
  exit 1
fi
