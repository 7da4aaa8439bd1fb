#!/usr/bin/env bash
# Sets up this machine, builds, and runs every test: the GCC build's tests, then the Clang
# ASan+UBSan build's tests, with the style and static checks and the bounded fuzzing passes
# alongside them; fails if any of these fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Tests build their own derivations; no binary cache is reachable, so do not wait for one.
# Everything else is Nix's default: builds run in its sandbox, as on a real farm.
export NIX_CONFIG='substituters ='

./scripts/build.sh release
./scripts/build.sh sanitize

# Lint and fuzzing only need CPU, and the integration tests spend much of their time waiting on
# builds, sockets and child processes: running the checks at the lowest priority beside the tests
# gives them the CPU the tests leave, without taking it from the tests.
checks_log=build-sanitize/checks.log
# Half a minute per fuzz target here (scripts/fuzz.sh alone gives a minute): the corpora are run
# in full either way, and what runs after the tests lengthens the run one for one.
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}
setsid -w nice -n 19 bash -c './scripts/lint.sh build-sanitize && ./scripts/fuzz.sh' >"$checks_log" 2>&1 &
checks=$!
trap 'kill -- "-$checks" 2>/dev/null || true' EXIT
status=0

(cd build && ctest --output-on-failure -j 2) || status=1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-sanitize && ctest --output-on-failure -j 2) || status=1

echo "test: waiting for the lint and fuzz checks"
checks_status=0
wait "$checks" || checks_status=$?
cat "$checks_log"
if [ "$checks_status" != 0 ]; then
  echo "test: the lint or fuzz checks FAILED"
  status=1
fi
trap - EXIT
[ "$status" = 0 ] && echo "test: all passed"
exit "$status"
