#!/usr/bin/env bash
# The coordination backends side by side in one run (issue 15's benchmark):
# 1. engine `backends_bench`: 20 apps with their real claim loops, the mailbox backend
#    (Dovecot with CONDSTORE) vs PostgreSQL (the no-CONDSTORE Dovecot + the team
#    database): claim latency p50/p99 and arrival-to-owner p50/p99/max;
# 2. coord-pg `claim_bench`: 20 up to 200 simulated apps claiming back to back against
#    one PostgreSQL, to show where it bends.
# Release builds; starts the mail stack and PostgreSQL if they are not running.
#   bench/backends.sh                 # BENCH_EMAILS=300 BENCH_RATE=10 BENCH_APPS=20,50,100,200
set -euo pipefail
cd "$(dirname "$0")/.."

tests/mail-stack.sh start >/dev/null
pg_env=$(tests/pg-stack.sh start)
while IFS='=' read -r key value; do export "$key=$value"; done <<< "$pg_env"

cargo build --release -p blendesk-engine --example backends_bench
cargo build --release -p blendesk-coord-pg --example claim_bench
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/examples"

echo "== 20 apps, the mailbox backend and PostgreSQL side by side"
"$bin/backends_bench"
echo
echo "== simulated apps against one PostgreSQL"
BENCH_APPS="${BENCH_APPS:-20,50,100,200}" "$bin/claim_bench"
