#!/usr/bin/env bash
# Installs the Debian 12 packages kpiwatch builds, tests and runs with.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git curl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libtomlplusplus-dev libcurl4-openssl-dev libhowardhinnant-date-dev tzdata python3-aiosmtpd libspdlog-dev libfmt-dev
  libssl-dev libsystemd-dev libcli11-dev libcsv-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  openssl prometheus-alertmanager
  libjs-chart.js fonts-ipafont-gothic
  poppler-utils
  systemd dpkg-dev
  clang-format clang-tidy
  clang libclang-rt-14-dev
)
# The browser tests (tests/browser/run.sh): Debian's chromium, and node and npm for
# playwright-core. Only where the commands are missing: a machine may have node from elsewhere.
command -v chromium >/dev/null || packages+=(chromium)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
