#!/usr/bin/env bash
# Sets up this machine, builds, and runs every test: style and static checks, bounded
# fuzzing passes, the GCC build's tests, then the Clang ASan+UBSan build's tests (last, so the
# output ends with ctest's summary).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Tests build their own derivations; no binary cache is reachable, so do not wait for one.
# Everything else is Nix's default: builds run in its sandbox, as on a real farm.
export NIX_CONFIG='substituters ='

./scripts/build.sh release
./scripts/build.sh sanitize
# clang-tidy reads the Clang build's compile commands.
./scripts/lint.sh build-sanitize
./scripts/fuzz.sh

(cd build && ctest --output-on-failure -j 2)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-sanitize && ctest --output-on-failure -j 2)
