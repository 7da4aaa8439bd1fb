#!/usr/bin/env bash
# Builds the libFuzzer targets (part of the Clang sanitize build) and gives each a bounded pass
# over its corpus in fuzz/corpus/<name>/. New inputs go to a scratch directory, so the repository
# stays as it is; a crash leaves its input in that directory and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
mapfile -t targets < <(cd fuzz && ls -- *_fuzz.cc | sed 's/\.cc$//')
./scripts/build.sh sanitize "${targets[@]}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for target in build-sanitize/fuzz/*_fuzz; do
  [ -x "$target" ] || continue
  name=$(basename "$target" _fuzz)
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="$scratch/$name/" "$scratch/$name" "fuzz/corpus/$name" >"$scratch/$name.log" 2>&1; then
    tail -40 "$scratch/$name.log"
    echo "fuzz: $name FAILED (crash input kept in the log above)"
    status=1
  fi
done
exit $status
