#!/usr/bin/env bash
# Builds the Debian package from the serve build (the Release build that
# scripts/serve.sh runs) into dist/kpiwatch_<version>_amd64.deb.
# Usage (as root on Debian 12, from the repository root): bash scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh

bash scripts/install-deps.sh
kpiwatch_build_serve
rm -rf dist
cpack --config "$KPIWATCH_SERVE_DIR/CPackConfig.cmake" -G DEB -B dist
rm -rf dist/_CPack_Packages
ls dist/kpiwatch_*.deb
