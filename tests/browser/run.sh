#!/usr/bin/env bash
# The status page in a real browser: Debian's chromium, headless, driven by
# playwright-core (from the npm registry, pinned by package-lock.json; it downloads
# no browser) under node's own test runner, against the real daemon on its
# embedded default (catalog, shipped rules, bundled figures) on 127.0.0.1 port 0
# with a fresh state directory. The config adds only an admin token, made by
# `kpiwatch token create`, for the tests that act from the page.
# Screenshots of every page at 1280 and 375 px wide go to OUT_DIR.
# Usage: run.sh KPIWATCH_BINARY OUT_DIR
# Exits 77 (ctest's skip) when node, npm or chromium is missing.
set -euo pipefail

binary=$(realpath "$1")
out_dir=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
chromium=${KPIWATCH_CHROMIUM:-$(command -v chromium || true)}

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "skipped: $tool is missing (bash scripts/install-deps.sh installs it)"
    exit 77
  fi
done
if [[ -z $chromium ]]; then
  echo "skipped: chromium is missing (bash scripts/install-deps.sh installs it)"
  exit 77
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
  echo "FAILED: node $(node --version) is older than 18, which playwright-core needs"
  exit 1
fi

echo "== node $(node --version), npm $(npm --version), $("$chromium" --version 2>/dev/null)"

# The npm packages live beside the screenshots, outside the source tree.
modules_dir=${KPIWATCH_BROWSER_MODULES:-$(dirname "$out_dir")/browser-node}
mkdir -p "$modules_dir" "$out_dir"
cp "$here/package.json" "$here/package-lock.json" "$modules_dir/"
echo "== npm ci in $modules_dir (playwright-core as package-lock.json pins it)"
(cd "$modules_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 180 npm ci --no-audit --no-fund)

work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-browser-XXXXXX")
pid=
stop() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# An admin token as an operator makes one: its text on the first line, then the block.
"$binary" token create --name browser-admin --admin >"$work/token" 2>/dev/null
admin_token=$(head -n1 "$work/token")
{
  printf '[server]\nlisten = "127.0.0.1:0"\n\n[storage]\nstate_directory = "%s"\n\n' "$work/state"
  tail -n +2 "$work/token"
} >"$work/kpiwatch.toml"

: >"$work/log" # before the daemon starts, so that the first read finds it
"$binary" serve --config "$work/kpiwatch.toml" >"$work/log" 2>&1 &
pid=$!
address=
for _ in $(seq 300); do
  address=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "$work/log" | head -n1)
  [[ -n $address ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $address ]]; then
  echo "FAILED: the daemon did not log 'listening on' within 30 s:"
  cat "$work/log"
  exit 1
fi
ready=
for _ in $(seq 300); do
  if [[ $(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://$address/readyz") == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.1
done
if [[ -z $ready ]]; then
  echo "FAILED: /readyz did not answer 200 within 30 s:"
  cat "$work/log"
  exit 1
fi
echo "== kpiwatch serve (pid $pid) is ready on $address; screenshots go to $out_dir"

status=0
KPIWATCH_URL="http://$address" KPIWATCH_ADMIN_TOKEN=$admin_token KPIWATCH_CHROMIUM=$chromium \
  KPIWATCH_BROWSER_MODULES=$modules_dir KPIWATCH_SCREENSHOTS=$out_dir \
  timeout --kill-after=10 420 node --test "$here/status_page.test.mjs" || status=$?
if ((status != 0)); then
  echo "== the daemon's log (last 40 lines)"
  tail -n 40 "$work/log"
fi
exit "$status"
