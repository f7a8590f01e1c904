#!/usr/bin/env bash
# clang-tidy (the root .clang-tidy: bugprone-*, performance-*, a few modernize-*, function size and complexity)
# over the C++ sources, with the compile commands of a configured build tree.
# The whole tree takes about 9 minutes on 2 cores, so by default only the files
# changed since the commit in .ci/tidy-base (the last commit the whole tree was
# checked at) are checked; --all checks every file.
# Usage: bash scripts/tidy.sh [--all] [BUILD_DIR (default: build)]
set -euo pipefail
cd "$(dirname "$0")/.."

all=false
if [[ ${1:-} == --all ]]; then
  all=true
  shift
fi
build_dir=${1:-build}
[[ -f $build_dir/compile_commands.json ]] || { echo "tidy: no $build_dir/compile_commands.json (configure first)" >&2; exit 2; }

sources() { find core config daemon rules storage views tests bench -name '*.cpp' | sort; }

files=()
if $all; then
  mapfile -t files < <(sources)
else
  base=$(cat .ci/tidy-base)
  if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
    echo "tidy: the base $base is not in this clone; checking every file"
    mapfile -t files < <(sources)
  else
    mapfile -t changed < <(git diff --name-only "$base" -- core config daemon rules storage views tests bench |
      grep -E '\.(cpp|hpp)$' || true)
    declare -A chosen=()
    for f in "${changed[@]}"; do
      [[ -f $f ]] || continue
      if [[ $f == *.cpp ]]; then
        chosen[$f]=1
      else
        # A header is checked within the first source file that includes it.
        tu=$(grep -rlF --include='*.cpp' "$(basename "$f")\"" core config daemon rules storage views tests bench | sort | head -n1 || true)
        [[ -n $tu ]] && chosen[$tu]=1
      fi
    done
    mapfile -t files < <(printf '%s\n' "${!chosen[@]}" | sed '/^$/d' | sort)
    echo "tidy: ${#files[@]} files changed since $(git log -1 --format=%h "$base")"
  fi
fi
((${#files[@]})) || { echo "tidy: nothing to check"; exit 0; }

started=$(date +%s)
status=0
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} sh -c 'clang-tidy --quiet -p "$1" "$2" 2>/dev/null >"$1/tidy.$(echo "$2" | tr / _).log" ||
    { cat "$1/tidy.$(echo "$2" | tr / _).log"; echo "tidy: $2 has findings"; exit 1; }' _ "$build_dir" {} ||
  status=1
echo "tidy: ${#files[@]} files in $(($(date +%s) - started)) s, $([[ $status == 0 ]] && echo clean || echo findings)"
exit $status
