#!/usr/bin/env bash
# Builds kpiwatch and runs the whole test suite twice: a normal build, then
# one under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage (as root on Debian 12, from the repository root): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
run_suite() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" --timeout 300)
}

echo "== build and test (RelWithDebInfo, -Wall -Wextra -Wpedantic -Werror)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DKPIWATCH_SANITIZE=ON -DKPIWATCH_BUILD_BENCH=OFF
