#!/usr/bin/env bash
# The one definition of how kpiwatch is configured and built. serve.sh, package.sh
# and test.sh source this file, so that what the tests build cannot drift from
# what users run. Run on its own (bash scripts/build.sh), it makes the serve build.

# The build that users run: scripts/serve.sh starts it and scripts/package.sh packs it.
KPIWATCH_SERVE_DIR=build-release
KPIWATCH_SERVE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DKPIWATCH_BUILD_TESTS=OFF -DKPIWATCH_BUILD_BENCH=OFF)

# kpiwatch_build DIR [CMAKE_ARGS...]: configures DIR from the source tree and builds everything in it.
kpiwatch_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j "$(nproc)"
}

kpiwatch_build_serve() {
  kpiwatch_build "$KPIWATCH_SERVE_DIR" "${KPIWATCH_SERVE_ARGS[@]}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  bash scripts/install-deps.sh
  kpiwatch_build_serve
fi
