#!/usr/bin/env bash
# Style and static checks: clang-format on every C++ file, clang-tidy on the sources.
# Needs a configured build directory (compile_commands.json), by default ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mapfile -t files < <(git ls-files '*.cc' '*.hh')
echo "lint: clang-format on ${#files[@]} files"
clang-format --dry-run --Werror "${files[@]}"
mapfile -t sources < <(git ls-files 'src/*.cc')
echo "lint: clang-tidy on ${#sources[@]} sources"
tidy=$(command -v run-clang-tidy-14 || command -v run-clang-tidy)
"$tidy" -quiet -p "$build" -j "$(nproc)" "${sources[@]}" >"$build/clang-tidy.log" 2>&1 || {
  grep -E 'error:|warning:' "$build/clang-tidy.log" | sort -u | head -50
  echo "lint: clang-tidy found problems (full log: $build/clang-tidy.log)"
  exit 1
}
echo "lint: clean"
