#!/usr/bin/env bash
# Builds kpiwatch and runs the daemon on its embedded default: 127.0.0.1:8080,
# state in ./kpiwatch-state, the shipped catalog and bundled dataset.
# Usage (as root on Debian 12, from the repository root): bash scripts/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DKPIWATCH_BUILD_TESTS=OFF -DKPIWATCH_BUILD_BENCH=OFF
cmake --build build-release -j "$(nproc)" --target kpiwatch
exec build-release/daemon/kpiwatch serve "$@"
