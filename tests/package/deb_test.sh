#!/usr/bin/env bash
# The Debian package, end to end on a scratch root: the .deb that
# scripts/package.sh builds from the serve build; `dpkg -x` and `dpkg --root` install it; the files are where the
# unit and docs/OPERATIONS.md say; the installed binary passes
# `kpiwatch check` on the installed config and rules; the maintainer scripts
# succeed where systemd is not running, create the user and protect the config.
# Nothing outside the scratch directory is touched: dpkg acts on its own root
# and admin directory, the scripts see DPKG_ROOT, and systemctl,
# deb-systemd-helper and deb-systemd-invoke are stand-ins that record their calls.
# Usage: deb_test.sh DEB SOURCE_DIR
set -euo pipefail

deb=$1 source_dir=$2
export PATH="$PATH:/usr/sbin:/sbin"  # dpkg wants ldconfig and start-stop-daemon

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
for tool in dpkg dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || fail "$tool is missing (package dpkg-dev; scripts/install-deps.sh)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT

[[ -f $deb ]] || fail "no package at $deb"
dpkg-deb --info "$deb"

echo "== control fields"
depends=$(dpkg-deb --field "$deb" Depends)
for lib in libc6 libstdc++6 libsqlite3-0 libsystemd0 libssl3 libfmt9 libspdlog1.10 libtomlplusplus3 libcsv3 \
  libboost-json1.81.0 libboost-url1.81.0; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done
grep -q 'systemd | adduser' <<<"$depends" || fail "Depends lacks 'systemd | adduser': $depends"
dpkg-deb --control "$deb" "$work/control"
for script in postinst prerm postrm; do
  [[ -x $work/control/$script ]] || fail "$script missing or not executable"
  sh -n "$work/control/$script" || fail "$script: syntax error"
done
grep -qx '/etc/kpiwatch/kpiwatch.toml' "$work/control/conffiles" || fail "kpiwatch.toml is not a conffile"
grep -qx '/etc/kpiwatch/rules.d/g06.toml' "$work/control/conffiles" || fail "the rules are not conffiles"

check_tree() {
  local root=$1
  for f in usr/bin/kpiwatch usr/lib/systemd/system/kpiwatch.service usr/lib/sysusers.d/kpiwatch.conf \
    etc/kpiwatch/kpiwatch.toml etc/kpiwatch/rules.d/g01.toml etc/kpiwatch/rules.d/g11.toml \
    usr/share/kpiwatch/catalog.toml usr/share/kpiwatch/dataset/bundled.json usr/share/kpiwatch/rules/g06.toml \
    usr/share/kpiwatch/rules/tests/g06_test.toml usr/share/doc/kpiwatch/OPERATIONS.md \
    usr/share/doc/kpiwatch/README.md usr/share/doc/kpiwatch/kpiwatch.example.toml usr/share/doc/kpiwatch/ja/README.md; do
    [[ -f $root/$f ]] || fail "$f is not in the package"
  done
  [[ -x $root/usr/bin/kpiwatch ]] || fail "usr/bin/kpiwatch is not executable"
  local unit=$root/usr/lib/systemd/system/kpiwatch.service
  grep -qx 'ExecStart=/usr/bin/kpiwatch serve' "$unit" || fail "the unit does not start /usr/bin/kpiwatch"
  grep -qx 'ExecReload=/usr/bin/kpiwatch check' "$unit" || fail "the unit does not check before reloading"
  grep -qx 'Environment=KPIWATCH_CONFIG=/etc/kpiwatch/kpiwatch.toml' "$unit" || fail "the unit's config path"
  cmp -s "$root/usr/share/kpiwatch/catalog.toml" "$source_dir/config/catalog.toml" || fail "catalog.toml differs"
  cmp -s "$root/etc/kpiwatch/kpiwatch.toml" "$source_dir/config/kpiwatch.service.toml" || fail "kpiwatch.toml differs"
  [[ $(stat -c %a "$root/etc/kpiwatch/kpiwatch.toml") == 640 ]] || fail "kpiwatch.toml is not mode 0640"
  # The installed binary on the installed config, rules and rule tests.
  local out
  out=$("$root/usr/bin/kpiwatch" check --config "$root/etc/kpiwatch/kpiwatch.toml" 2>&1) ||
    fail "kpiwatch check on the installed config: $out"
  echo "$out"
  grep -q "^OK: config $root/etc/kpiwatch/kpiwatch.toml, catalog with 11 goals and 38 KPIs, [1-9][0-9]* rules" <<<"$out" ||
    fail "unexpected check output"
  out=$("$root/usr/bin/kpiwatch" test "$root"/usr/share/kpiwatch/rules/tests/*_test.toml 2>&1) ||
    fail "kpiwatch test on the installed rule tests: $out"
  tail -1 <<<"$out"
  [[ $("$root/usr/bin/kpiwatch" version) == "kpiwatch $(dpkg-deb --field "$deb" Version)" ]] ||
    fail "kpiwatch version does not match the package version"
}

echo "== dpkg -x"
dpkg -x "$deb" "$work/x"
check_tree "$work/x"

if (($(id -u) != 0)); then
  echo "dpkg --root needs root to give the files their owners; not run by this user (dpkg -x checks passed)"
  echo "PASS (without dpkg --root)"
  exit 0
fi

echo "== dpkg --root: install, with systemd not running"
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc" "$work/bin"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
# Users and groups of the scratch root, as a base system has them.
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
# Stand-ins; deb-systemd-helper answers as for a unit it has never seen.
for tool in systemctl deb-systemd-helper deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\ncase "$*" in *debian-installed*|*was-enabled*) exit 1 ;; esac\n' \
    "$tool" "$work/calls" >"$work/bin/$tool"
  chmod +x "$work/bin/$tool"
done
touch "$work/calls"
dpkg_root() {
  PATH="$work/bin:$PATH" dpkg --root="$root" --force-script-chrootless --force-depends --force-not-root \
    --log="$work/dpkg.log" "$@"
}
dpkg_root --install "$deb"
check_tree "$root"
dpkg_root --status kpiwatch | grep -qx 'Status: install ok installed' || fail "dpkg does not list it as installed"
cat "$work/calls"
grep -q '^systemctl' "$work/calls" && fail "systemctl was called although systemd is not running in the root"
grep -qx 'deb-systemd-helper update-state kpiwatch.service' "$work/calls" ||
  fail "the postinst did not record the unit's state"
grep -q ' enable ' "$work/calls" && fail "a new installation enabled the service"
if command -v systemd-sysusers >/dev/null; then
  grep -q '^kpiwatch:x:[0-9]*:[0-9]*:.*:/var/lib/kpiwatch:' "$root/etc/passwd" ||
    fail "the user kpiwatch was not created in the root: $(cat "$root/etc/passwd")"
  gid=$(awk -F: '$1 == "kpiwatch" { print $3 }' "$root/etc/group")
  [[ $(stat -c '%u:%g %a' "$root/etc/kpiwatch/kpiwatch.toml") == "0:$gid 640" ]] ||
    fail "kpiwatch.toml is not root:kpiwatch 0640: $(stat -c '%u:%g %a' "$root/etc/kpiwatch/kpiwatch.toml")"
else
  echo "systemd-sysusers is not installed here: user creation in a scratch root not checked"
fi

echo "== dpkg --root: an edited conffile survives removal and goes on purge"
echo '# edited by the operator' >>"$root/etc/kpiwatch/rules.d/g06.toml"
: >"$work/calls"
dpkg_root --remove kpiwatch
[[ -e $root/usr/bin/kpiwatch ]] && fail "remove left the binary"
[[ -f $root/etc/kpiwatch/rules.d/g06.toml ]] || fail "remove deleted a conffile"
grep -q '^systemctl' "$work/calls" && fail "systemctl was called on remove although systemd is not running"
dpkg_root --purge kpiwatch
[[ -e $root/etc/kpiwatch/kpiwatch.toml ]] && fail "purge left kpiwatch.toml"
grep -qx 'deb-systemd-helper purge kpiwatch.service' "$work/calls" || fail "the postrm did not purge the unit's state"
cat "$work/calls"
echo "PASS"
