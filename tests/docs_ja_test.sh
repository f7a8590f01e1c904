#!/usr/bin/env bash
# Every example of the Japanese guide (docs/ja/README.md) is run here, so that the guide
# cannot drift from the tool: each file under docs/ja/examples/ must appear in the guide
# word for word, the rules must pass `kpiwatch check`, the tests `kpiwatch test`, the
# backtest print what examples/eval.expected holds, and each mistake the exact Japanese
# diagnostic that its .expected file (and the guide) shows.
# Usage: docs_ja_test.sh KPIWATCH SOURCE_DIR
set -u
kpiwatch=$(realpath "$1")
source_dir=$(cd "$2" && pwd)
guide_dir=$source_dir/docs/ja
cd "$guide_dir/examples" || exit 1
guide=$(<"$guide_dir/README.md")
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# The guide shows each file whole.
for f in rules/*.toml tests/*.toml tests/*.expected mistakes/*.toml mistakes/*.expected figures.json eval.expected; do
  [[ "$guide" == *"$(<"$f")"* ]] || fail "$f is not shown word for word in docs/ja/README.md"
done

for f in rules/*.toml; do
  out=$(LC_ALL= LC_MESSAGES= LANG=ja_JP.UTF-8 "$kpiwatch" check "$f" 2>&1) || fail "check $f: $out"
done
out=$("$kpiwatch" check --lang ja rules 2>&1) || fail "check rules: $out"

for f in tests/*.toml; do
  out=$("$kpiwatch" test --lang ja "$f" 2>&1) || fail "test $f: $out"
  expected="${f%.toml}.expected"
  [[ ! -f "$expected" || "$out" == "$(<"$expected")" ]] || fail "$f printed otherwise than $expected:"$'\n'"$out"
done

# Every diagnostic code is listed in the guide and in docs/RULES.md.
rules_md=$(<"$source_dir/docs/RULES.md")
for code in $(grep -o 'Entry{"E-[A-Z-]*"' "$source_dir/core/src/messages.cpp" | sed 's/Entry{"//; s/"//' | sort -u) E-OTHER; do
  [[ "$guide" == *"\`$code\`"* ]] || fail "$code is not in the code list of docs/ja/README.md"
  [[ "$rules_md" == *"\`$code\`"* ]] || fail "$code is not in the code list of docs/RULES.md"
done

got=$("$kpiwatch" eval --lang ja --rules rules --input figures.json --at 2025-07-01 2>&1)
[[ "$got" == "$(<eval.expected)" ]] || fail "eval printed otherwise than eval.expected:"$'\n'"$got"

for f in mistakes/*.toml; do
  expected="${f%.toml}.expected"
  [[ -f "$expected" ]] || { fail "$f has no $expected"; continue; }
  if [[ "$f" == *_test.toml ]]; then
    got=$("$kpiwatch" test --lang ja "$f" 2>&1)
  else
    got=$("$kpiwatch" check --lang ja "$f" 2>&1)
  fi
  status=$?
  [[ $status -eq 1 ]] || fail "$f: exit $status, not 1"
  [[ "$got" == "$(<"$expected")" ]] || fail "$f printed otherwise than $expected:"$'\n'"$got"
done

# The glossary names every KPI of the catalog.
for id in $(grep -oE '^id = "g[0-9]{2}\.[a-z0-9_]+"' "$source_dir/config/catalog.toml" | sed 's/^id = "//; s/"$//'); do
  [[ "$guide" == *"| \`$id\` |"* ]] || fail "KPI $id is not in the glossary of docs/ja/README.md"
done

[[ $failed -eq 0 ]] && echo "every example of docs/ja/README.md runs as the guide says"
exit $failed
