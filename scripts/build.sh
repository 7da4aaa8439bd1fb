#!/usr/bin/env bash
# Configures and builds one flavour: release (GCC), sanitize (Clang, ASan+UBSan) or fuzz (Clang);
# further arguments name the only targets to build (default: everything, tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
shift || true
jobs=$(nproc)
case "$flavour" in
  release)  dir=build;          args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++) ;;
  sanitize) dir=build-sanitize; args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DHYDRA_SANITIZE=ON -DHYDRA_BENCH=OFF) ;;
  fuzz)     dir=build-fuzz;     args=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DHYDRA_FUZZ=ON -DHYDRA_TESTS=OFF -DHYDRA_BENCH=OFF) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, sanitize, fuzz)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$jobs" "${targets[@]}"
