#!/usr/bin/env bash
# Runs the whole suite: first what users run (the serve build of scripts/serve.sh
# on its embedded default, with curl and in headless chromium, and the .deb of
# scripts/package.sh), then the RelWithDebInfo build's tests, clang-tidy on the
# changed files, then the same tests under AddressSanitizer +
# UndefinedBehaviorSanitizer, then the libFuzzer harnesses for 30 s each (clang,
# ASan+UBSan). Every build uses -Wall -Wextra -Wpedantic -Werror.
# Usage (as root on Debian 12, from the repository root): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh

bash scripts/install-deps.sh

run_suite() {
  local dir=$1
  shift
  kpiwatch_build "$dir" "$@"
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" --timeout 300)
}

echo "== the serve build (Release), as scripts/serve.sh makes it, on its embedded default"
kpiwatch_build_serve
bash tests/smoke/serve_test.sh "$KPIWATCH_SERVE_DIR/daemon/kpiwatch"
echo "== the status page in headless chromium, on the serve build (screenshots in $KPIWATCH_SERVE_DIR/screenshots)"
bash tests/browser/run.sh "$KPIWATCH_SERVE_DIR/daemon/kpiwatch" "$KPIWATCH_SERVE_DIR/screenshots"

echo "== the Debian package, as scripts/package.sh makes it"
bash scripts/package.sh
bash tests/package/deb_test.sh dist/kpiwatch_*.deb .

echo "== build and test (RelWithDebInfo)"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== clang-tidy on the files changed since .ci/tidy-base"
bash scripts/tidy.sh build

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer (Debug)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DKPIWATCH_SANITIZE=ON -DKPIWATCH_BUILD_BENCH=OFF

echo "== the fuzzers (tests/fuzz, clang, ASan+UBSan): the seeds and regression inputs, then 30 s each"
bash scripts/fuzz.sh 30
