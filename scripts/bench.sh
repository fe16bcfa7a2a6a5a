#!/bin/sh
# Runs callbackd's load benchmarks (see BENCHMARKS.md): the baseline,
# SQLite and PostgreSQL under the same load, as a Markdown table on stdout.
#   scripts/bench.sh            # about 3 minutes
#   scripts/bench.sh -scale     # and the 1,000,000-callback measurements
set -e
cd "$(dirname "$0")/.."
exec go run ./scripts/benchmarks "$@"
