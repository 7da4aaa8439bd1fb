#!/usr/bin/env bash
# Builds the release flavour and runs every benchmark (build/bench/*_bench) in turn.
# The environment passes through (HYDRA_BENCH_NAR_MIB=64 for a quick run); arguments go to
# every benchmark. Exits non-zero if any benchmark fails, after running all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh release
# Nix must not wait for an unreachable binary cache.
export NIX_CONFIG="${NIX_CONFIG-substituters =}"
shopt -s nullglob
benches=(build/bench/*_bench)
if ((${#benches[@]} == 0)); then
  echo "bench.sh: no benchmarks in build/bench" >&2
  exit 1
fi
failed=0
for b in "${benches[@]}"; do
  [[ -x $b ]] || continue
  echo "== $(basename "$b")"
  "$b" "$@" || { echo "bench.sh: $(basename "$b") failed" >&2; failed=1; }
done
exit "$failed"
