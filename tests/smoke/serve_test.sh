#!/usr/bin/env bash
# What a new user does first (README, "The two commands"): the serve build's
# binary on its embedded default, no config file, on 127.0.0.1 port 0 with a
# fresh state directory. It must answer /healthz and /readyz, serve the bundled
# figures as people write them (33.1, not 3.31E1) and have alerts firing on them.
# Usage: serve_test.sh KPIWATCH_BINARY
set -euo pipefail

binary=$1
passed=0 failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-smoke-XXXXXX")
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

check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
    passed=$((passed + 1))
  else
    echo "FAILED: $what"
    failed=$((failed + 1))
  fi
}

get() { curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "http://$address$1"; }

: >"$work/log"  # before the daemon starts: the background job's redirection may come after the first read
"$binary" serve --listen 127.0.0.1:0 --state-dir "$work/state" >"$work/log" 2>&1 &
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
  echo "0 passed, 1 failed"
  exit 1
fi
echo "kpiwatch serve is listening on $address"

ready() {
  for _ in $(seq 300); do
    [[ $(get /readyz) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}
check "/readyz answers 200 within 30 s" ready
check "/healthz answers 200 {\"status\":\"ok\"}" \
  bash -c '[[ $1 == 200 && $(cat "$2") == "{\"status\":\"ok\"}" ]]' _ "$(get /healthz)" "$work/body"

series() {
  [[ $(get '/api/v1/kpis/g06.stage_up_rate/series?dims.stage=all') == 200 ]] || return 1
  grep -q '"value":33.1[,}]' "$work/body" && grep -q '"value":26.8[,}]' "$work/body" &&
    ! grep -q '[0-9][eE][-+0-9]' "$work/body"
}
check "the stage-up rate series reads 33.1 and 26.8, written as people write them" series

firing() {
  [[ $(get '/api/v1/alerts?state=firing') == 200 ]] || return 1
  local count
  count=$(grep -o '"state":"firing"' "$work/body" | wc -l)
  echo "   $count alerts firing"
  ((count > 0)) && grep -q '"rule":"g06-stage-up-rate-falling"' "$work/body"
}
check "alerts are firing on the bundled data, the stage-up rate's fall among them" firing
check "the log names the firing stage-up alert" grep -q 'alert firing.*g06-stage-up-rate-falling' "$work/log"

echo "smoke: $passed passed, $failed failed"
((failed == 0))
