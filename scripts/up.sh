#!/usr/bin/env bash
# Sets up this machine, builds hydra, and brings the whole system up: a private PostgreSQL
# cluster under $HYDRA_DATA (unless HYDRA_DBI names a database), the schema, and the daemons.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Only what runs: the tests and benchmarks are built by scripts/test.sh.
./scripts/build.sh release hydra hydra-queue-runner hydra-evaluator hydra-notify hydra-server
if [ -z "${HYDRA_DATA:-}" ]; then
  if [ "$(id -u)" = 0 ]; then export HYDRA_DATA=/var/lib/hydra; else export HYDRA_DATA="$HOME/.local/share/hydra"; fi
fi
# With no arguments, also create the example project (examples/hello) so the whole pipeline runs.
if [ $# -eq 0 ]; then set -- --example "$PWD/examples/hello"; fi
exec ./build/bin/hydra up "$@"
