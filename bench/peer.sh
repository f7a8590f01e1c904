#!/usr/bin/env bash
# kpiwatch against Debian's Prometheus stack (issue 13): submission -> webhook
# latency, idle RSS and idle CPU, as ratios measured in the same run.
# Usage (from anywhere): bash bench/peer.sh [bench/peer_bench.py options]
#   e.g. --iterations 30 --idle-seconds 30 --intervals 10ms,1s   (see: --help)
# Installs prometheus, prometheus-pushgateway and prometheus-alertmanager with
# apt-get if they are missing (their services are not started: the benchmark
# runs its own instances on 127.0.0.1, in temporary directories).
# Environment: BUILD_DIR (default /tmp/build-bench, as bench/run.sh; an already
# configured build directory is reused as it is), JOBS (default 2), OUT (a file
# to copy the output to; optional), PEER_TIMEOUT (default 1800: seconds the
# driver may run before it is stopped, with everything it started).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-/tmp/build-bench}
jobs=${JOBS:-2}

need=()
for pkg in prometheus prometheus-pushgateway prometheus-alertmanager; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  [ "$(id -u)" -eq 0 ] || apt=(sudo "${apt[@]}")
  echo "== installing ${need[*]}"
  "${apt[@]}" install -y "${need[@]}" || { "${apt[@]}" update && "${apt[@]}" install -y "${need[@]}"; }
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKPIWATCH_BUILD_TESTS=OFF \
    -DKPIWATCH_BUILD_BENCH=ON >/dev/null
fi
from=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")
[ "$from" = "$src" ] || echo "== note: $build builds the sources in $from, not $src"
ninja -C "$build" -j "$jobs" kpiwatch

if rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null); then
  git -C "$src" diff --quiet HEAD -- || rev="$rev (working tree has uncommitted changes)"
else
  rev="unknown (not a git checkout)"
fi
cmd=(python3 "$src/bench/peer_bench.py" --kpiwatch "$build/daemon/kpiwatch" "$@")
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $rev"
echo "== ${cmd[*]}"
# --foreground: the SIGTERM goes to the driver alone, which stops its children by PID.
bounded=(timeout --foreground -k 60 "${PEER_TIMEOUT:-1800}")
status=0
if [ -n "${OUT:-}" ]; then
  "${bounded[@]}" "${cmd[@]}" | tee "$OUT" || status=${PIPESTATUS[0]}
else
  "${bounded[@]}" "${cmd[@]}" || status=$?
fi
[ "$status" -ne 124 ] || echo "peer.sh: the driver ran past PEER_TIMEOUT=${PEER_TIMEOUT:-1800} s" >&2
exit "$status"
