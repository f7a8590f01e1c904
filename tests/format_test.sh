#!/usr/bin/env bash
# Every C++ source file is as clang-format (the root .clang-format) writes it.
# Usage: format_test.sh SOURCE_DIR [CLANG_FORMAT]
set -euo pipefail

source_dir=$1 clang_format=${2:-clang-format}
command -v "$clang_format" >/dev/null || { echo "FAIL: $clang_format is missing (scripts/install-deps.sh)"; exit 1; }
cd "$source_dir"
mapfile -t files < <(find core config daemon rules storage views tests bench -name '*.cpp' -o -name '*.hpp' -o -name '*.h' | sort)
((${#files[@]} > 0)) || { echo "FAIL: no source files under $source_dir"; exit 1; }
unformatted=()
for f in "${files[@]}"; do
  "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]})); then
  echo "not formatted (run: clang-format -i FILE):"
  printf '  %s\n' "${unformatted[@]}"
  "$clang_format" --dry-run "${unformatted[0]}" 2>&1 | head -n 20
  exit 1
fi
echo "${#files[@]} files formatted"
