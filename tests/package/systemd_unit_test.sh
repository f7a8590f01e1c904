#!/usr/bin/env bash
# systemd/kpiwatch.service passes `systemd-analyze verify` without a word about
# it, and `systemd-analyze security --offline=true` rates its exposure at most
# MAX_EXPOSURE (2.0), the score docs/OPERATIONS.md and README.md state.
# Usage: systemd_unit_test.sh UNIT_FILE KPIWATCH_BINARY SOURCE_DIR
set -euo pipefail

unit=$1 binary=$2 source_dir=$3
max_exposure=2.0

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (package systemd; scripts/install-deps.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-unit-XXXXXX")
trap 'rm -rf "$work"' EXIT

# verify checks that ExecStart= can be executed: point it at the built binary.
# The copy keeps the unit's name, so that messages about it say kpiwatch.
sed "s|/usr/bin/kpiwatch|$binary|g" "$unit" >"$work/kpiwatch.service"
grep -q "^ExecStart=$binary serve\$" "$work/kpiwatch.service" || fail "ExecStart= is not /usr/bin/kpiwatch serve"

set +e
verify_output=$(systemd-analyze verify --man=no "$work/kpiwatch.service" 2>&1)
verify_status=$?
set -e
echo "systemd-analyze verify: exit $verify_status"
[[ -n $verify_output ]] && echo "$verify_output"
# Other units of this machine may draw warnings; none may be about ours.
if ((verify_status != 0)) || grep -qi 'kpiwatch' <<<"$verify_output"; then
  fail "systemd-analyze verify reports problems in the unit"
fi

security=$(systemd-analyze security --offline=true "$work/kpiwatch.service" 2>&1) ||
  fail "systemd-analyze security failed: $security"
echo "$security" | grep -v '^✓' || true
exposure=$(sed -n 's/.*Overall exposure level for kpiwatch\.service: \([0-9.]*\).*/\1/p' <<<"$security")
[[ -n $exposure ]] || fail "no exposure level in the output"
echo "exposure: $exposure (at most $max_exposure)"
awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' || fail "exposure $exposure is above $max_exposure"

# What the documents say must be what the unit gets.
for doc in docs/OPERATIONS.md README.md; do
  grep -Eq "exposure.*[^0-9.]${exposure//./\\.}([^0-9]|\$)" "$source_dir/$doc" ||
    fail "$doc does not state the exposure $exposure measured here"
done
echo "PASS"
