#!/usr/bin/env bash
# The Debian package under a real systemd: boots Debian 12 in a container
# (systemd-nspawn on a debootstrap root from Debian's archive), installs the
# .deb, and checks what docs/OPERATIONS.md promises of the service:
#   1. `systemctl enable --now kpiwatch`: active, READY, answers on 127.0.0.1:8080;
#   2. a rule added and `systemctl reload kpiwatch`: the new rule runs, same PID;
#   3. a broken rule and `systemctl reload`: the reload fails with file:line:col,
#      the service keeps running on the old rules;
#   4. `kill -9` of the main PID: systemd restarts it, nothing acknowledged is lost;
#   5. a hung event loop (SIGSTOP of the main PID, which needs no hook: the
#      process stops pinging): the watchdog kills it and systemd restarts it;
#   6. `journalctl -u kpiwatch RULE=<id>` finds the rule's alert lines.
# The container has its own network namespace (loopback only) and is thrown
# away at the end (--ephemeral); the debootstrap root is cached in
# $KPIWATCH_NSPAWN_CACHE (default /var/cache/kpiwatch-nspawn), so a second run
# takes about a minute, half of it the watchdog's timeout.
#
# Usage (as root on Debian 12, from the repository root):
#   bash scripts/systemd-container.sh [DEB]
# DEB defaults to the newest dist/kpiwatch_*.deb, built by scripts/package.sh if
# there is none. Needs the packages debootstrap and systemd-container, and a
# kernel that lets root make namespaces and mounts (not an unprivileged container).
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${KPIWATCH_NSPAWN_CACHE:-/var/cache/kpiwatch-nspawn}
root=$cache/bookworm
# The mirror this machine's apt uses, else Debian's.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/* *$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
# The package's run-time dependencies (dpkg-shlibdeps) and what the checks use.
packages=systemd,systemd-sysv,dbus,curl,ca-certificates,adduser,libsqlite3-0,libsystemd0,libssl3,libfmt9
packages+=,libspdlog1.10,libtomlplusplus3,libcsv3,libboost-json1.81.0,libboost-url1.81.0

step() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  if [[ -n ${leader:-} ]]; then
    in_container systemctl status kpiwatch --no-pager -l >&2 || true
    in_container journalctl -u kpiwatch --no-pager -n 60 >&2 || true
  fi
  exit 1
}

[[ $(id -u) == 0 ]] || fail "run as root (debootstrap and systemd-nspawn need it)"
for tool in debootstrap systemd-nspawn nsenter; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install debootstrap systemd-container)"
done

deb=${1:-}
if [[ -z $deb ]]; then
  deb=$(ls -t dist/kpiwatch_*.deb 2>/dev/null | head -n1 || true)
  if [[ -z $deb ]]; then
    bash scripts/package.sh
    deb=$(ls -t dist/kpiwatch_*.deb | head -n1)
  fi
fi
[[ -f $deb ]] || fail "no package at $deb"
deb=$(realpath "$deb")

if [[ ! -x $root/usr/lib/systemd/systemd ]]; then
  step "debootstrap bookworm from $mirror into $root (once; minutes)"
  rm -rf "$root.tmp"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$packages" bookworm "$root.tmp" "$mirror"
  mv "$root.tmp" "$root"
fi

# A cached root from an older list: add what it lacks (from the root's own apt sources).
missing=()
for p in ${packages//,/ }; do
  [[ -e $root/var/lib/dpkg/info/$p.list || -e $root/var/lib/dpkg/info/$p:amd64.list ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  step "add ${missing[*]} to the cached root"
  systemd-nspawn --quiet --register=no --keep-unit --directory="$root" \
    sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends ${missing[*]}" ||
    fail "cannot install ${missing[*]} into $root"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-nspawn-XXXXXX")
nspawn_pid=""
leader=""
cleanup() {
  if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    # SIGRTMIN+3 asks the container's systemd to halt; SIGKILL after 30 s.
    if [[ -n $leader ]]; then kill -s RTMIN+3 "$leader" 2>/dev/null || true; fi
    for _ in $(seq 300); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/deb"
cp "$deb" "$work/deb/kpiwatch.deb"

step "boot the container (systemd-nspawn --boot --ephemeral)"
systemd-nspawn --quiet --boot --ephemeral --register=no --keep-unit --private-network \
  --directory="$root" --machine=kpiwatch-test --bind-ro="$work/deb:/mnt/deb" --console=pipe \
  >"$work/console.log" 2>&1 </dev/null &
nspawn_pid=$!
# The container's PID 1, seen from here: the child of systemd-nspawn that runs systemd.
for _ in $(seq 300); do
  for child in $(pgrep -P "$nspawn_pid" || true); do
    [[ $(readlink "/proc/$child/exe" 2>/dev/null) == */systemd ]] && leader=$child
  done
  [[ -n $leader ]] && break
  kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn exited: $(cat "$work/console.log")"
  sleep 0.1
done
[[ -n $leader ]] || fail "no systemd in the container after 30 s: $(cat "$work/console.log")"
in_container() { nsenter --target "$leader" --all -- "$@"; }
# systemctl answers once the container's manager has its socket; then wait for the boot to finish.
booted=""
for _ in $(seq 120); do
  booted=$(in_container systemctl is-system-running 2>/dev/null || true)
  [[ $booted == running || $booted == degraded ]] && break
  sleep 0.5
done
[[ $booted == running || $booted == degraded ]] || fail "the container did not boot within 60 s: ${booted:-no answer}"
echo "container systemd $(in_container systemctl --version | head -n1), state $booted"

api() { in_container curl -sS --max-time 10 "$@"; }
status_of() { in_container curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }
main_pid() { in_container systemctl show -P MainPID kpiwatch; }
wait_ready() {
  for _ in $(seq 600); do
    [[ $(in_container systemctl is-active kpiwatch || true) == active ]] &&
      [[ $(status_of http://127.0.0.1:8080/readyz) == 200 ]] && return 0
    sleep 0.1
  done
  fail "kpiwatch is not active and ready after 60 s"
}
# Waits (up to $2 s) until the main PID differs from $1 and the service is ready again.
wait_restarted() {
  local old=$1 deadline=$2
  for _ in $(seq $((deadline * 10))); do
    local now
    now=$(main_pid)
    [[ $now != 0 && $now != "$old" ]] && wait_ready && return 0
    sleep 0.1
  done
  fail "systemd did not restart kpiwatch within ${deadline} s (MainPID still $old)"
}
alerts_of() { api "http://127.0.0.1:8080/api/v1/alerts?rule=$1"; }
# Waits (up to 30 s) until rule $1 has a firing alert: a reload is a SIGHUP, done after systemctl returns.
wait_firing() {
  for _ in $(seq 300); do
    [[ $(alerts_of "$1") == *'"state":"firing"'* ]] && return 0
    sleep 0.1
  done
  return 1
}

step "install the package"
in_container dpkg -i /mnt/deb/kpiwatch.deb || fail "dpkg -i failed (dependencies: $packages)"
[[ $(in_container systemctl is-enabled kpiwatch || true) == disabled ]] || fail "a new install must not enable the unit"
token_block=$(in_container kpiwatch token create --name nspawn-admin --admin)
token=$(head -n1 <<<"$token_block")
tail -n +2 <<<"$token_block" | in_container tee -a /etc/kpiwatch/kpiwatch.toml >/dev/null

step "1. systemctl enable --now kpiwatch"
in_container systemctl enable --now kpiwatch
wait_ready
pid1=$(main_pid)
echo "active, MainPID $pid1; $(in_container systemctl show -P StatusText kpiwatch)"
[[ $(in_container stat -c %a /var/lib/kpiwatch) == 700 ]] || fail "the state directory is not 0700"
[[ $(in_container stat -c %a /var/lib/kpiwatch/kpiwatch.db) == 600 ]] || fail "the database is not 0600"
figure='{"kpi": "g01.trainees", "period": "2031", "value": 4321, "source": "nspawn"}'
created=$(in_container curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data "$figure" http://127.0.0.1:8080/api/v1/submissions)
[[ $created == 201 ]] || fail "a submission got $created, not 201"

step "2. add a rule, systemctl reload"
rule_id=nspawn-trainees-recorded
in_container tee /etc/kpiwatch/rules.d/nspawn.toml >/dev/null <<EOF
[[rule]]
id = "$rule_id"
title = "Trainees recorded (a rule added in the container)"
kpi = "g01.trainees"
severity = "info"
summary_ja = "研修受講者数は{value}人（{period}）"
summary_en = "Trainees: {value} in {period}"

[rule.threshold]
above = 0
EOF
[[ $(alerts_of $rule_id) == *'"state":"firing"'* ]] && fail "the rule fired before the reload"
in_container systemctl reload kpiwatch || fail "systemctl reload failed on a valid rule"
wait_ready
[[ $(main_pid) == "$pid1" ]] || fail "the reload restarted the process"
wait_firing $rule_id || fail "the added rule does not run after the reload"
echo "the added rule fires; MainPID still $pid1"

step "3. break a rule, systemctl reload fails, the old rules keep running"
in_container tee /etc/kpiwatch/rules.d/broken.toml >/dev/null <<'EOF'
[[rule]]
id = "broken"
kpi = "g01.no_such_kpi"
severity = "warning"
EOF
if in_container systemctl reload kpiwatch; then fail "systemctl reload succeeded on a broken rule"; fi
[[ $(in_container systemctl is-active kpiwatch) == active ]] || fail "a failed reload stopped the service"
[[ $(main_pid) == "$pid1" ]] || fail "a failed reload restarted the process"
[[ $(alerts_of $rule_id) == *'"state":"firing"'* ]] || fail "the old rules stopped after a failed reload"
in_container journalctl -u kpiwatch --no-pager -n 30 | grep -q 'broken.toml:[0-9]*:[0-9]*:' ||
  fail "the journal does not say where the broken rule is (file:line:col)"
in_container journalctl -u kpiwatch --no-pager -n 30 | grep 'broken.toml:' | head -n3
in_container rm /etc/kpiwatch/rules.d/broken.toml

step "4. kill -9 the main PID: systemd restarts it, nothing lost"
in_container sh -c "kill -9 $pid1"  # the shell's kill: the root has no procps
wait_restarted "$pid1" 30
pid2=$(main_pid)
api "http://127.0.0.1:8080/api/v1/kpis/g01.trainees/series" | grep -q '"period":"2031"' ||
  fail "the acknowledged figure of 2031 is gone after kill -9"
echo "restarted as $pid2 (NRestarts=$(in_container systemctl show -P NRestarts kpiwatch)); the figure is there"

step "5. hang the event loop (SIGSTOP): the watchdog restarts it"
watchdog=$(in_container systemctl show -P WatchdogUSec kpiwatch)
echo "WatchdogUSec=$watchdog; expect the kill within it plus TimeoutAbortSec"
in_container sh -c "kill -STOP $pid2"
wait_restarted "$pid2" 120
in_container journalctl -u kpiwatch --no-pager | grep -q 'Watchdog timeout' ||
  fail "the restart was not the watchdog's"
in_container journalctl -u kpiwatch --no-pager | grep 'Watchdog timeout' | tail -n1
echo "restarted as $(main_pid)"

step "6. journalctl -u kpiwatch RULE=$rule_id"
lines=$(in_container journalctl -u kpiwatch --no-pager -o cat "RULE=$rule_id")
[[ -n $lines ]] || fail "no journal entry with RULE=$rule_id"
echo "$lines" | head -n3
other=$(in_container journalctl -u kpiwatch --no-pager -o verbose "RULE=$rule_id" | grep -c '^ *RULE=' || true)
mismatched=$(in_container journalctl -u kpiwatch --no-pager -o verbose "RULE=$rule_id" | grep '^ *RULE=' |
  grep -vc "RULE=$rule_id\$" || true)
[[ $mismatched == 0 ]] || fail "RULE= matched entries of other rules"
echo "$other entries with RULE=$rule_id"

step "the security rating under this systemd"
in_container systemd-analyze security kpiwatch --no-pager 2>/dev/null | tail -n1 || true

echo "PASS: the unit under a real systemd (enable, reload, failed reload, kill -9, watchdog, RULE=)"
