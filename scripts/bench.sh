#!/usr/bin/env bash
# Builds the release flavour, runs the farm simulator (build/bench/hydra-sim) and every
# benchmark (build/bench/*_bench) in turn, and ends with one table of their headline figures,
# each against the reference it was measured beside. The environment passes through
# (HYDRA_BENCH_NAR_MIB=64 for a quick run); arguments go to every benchmark. Exits non-zero if
# any of them fails, after running all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh release
# Nix must not wait for an unreachable binary cache.
export NIX_CONFIG="${NIX_CONFIG-substituters =}"
shopt -s nullglob
benches=(build/bench/hydra-sim build/bench/*_bench)
if ((${#benches[@]} < 2)); then
  echo "bench.sh: no benchmarks in build/bench" >&2
  exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=0
for b in "${benches[@]}"; do
  [[ -x $b ]] || continue
  echo "== $(basename "$b")"
  "$b" "$@" | tee -a "$out" || { echo "bench.sh: $(basename "$b") failed" >&2; failed=1; }
done
echo
echo "| benchmark | figure | ours | reference | ratio |"
echo "|---|---|---:|---:|---:|"
grep -a '^@summary' "$out" | while IFS=$'\t' read -r _ bench figure ours reference ratio; do
  echo "| $bench | $figure | $ours | $reference | $ratio |"
done
exit "$failed"
