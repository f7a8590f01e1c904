#!/usr/bin/env bash
# Builds kpiwatch and runs the daemon on its embedded default: 127.0.0.1:8080,
# state in ./kpiwatch-state, the shipped catalog and bundled dataset.
# Usage (as root on Debian 12, from the repository root): bash scripts/serve.sh [SERVE_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh

bash scripts/install-deps.sh
kpiwatch_build_serve
exec "$KPIWATCH_SERVE_DIR/daemon/kpiwatch" serve "$@"
