#!/usr/bin/env bash
# Every Blendesk test, on a fresh Debian 12 machine: installs what is missing (the mail
# stack's packages, the desktop's build and WebDriver packages, tauri-driver), starts the
# local mail stack and the test PostgreSQL, runs the engine and coordination tests against
# them, then the end-to-end tests in the real window under Xvfb. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot run gains nothing from incremental compilation, whose cache was half of a
# 30 GB target directory, and debug sections were a third of each of the ~80 test
# binaries (~55 MB apiece); CI machines have little disk. A failing test still names its
# file and line (the panic location is compiled in), and a backtrace its functions.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}"
export CARGO_PROFILE_DEV_STRIP="${CARGO_PROFILE_DEV_STRIP:-debuginfo}"

echo "== checks: formatting, lints (warnings denied), shell scripts"
command -v shellcheck >/dev/null || {
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo -n); fi
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends shellcheck >/dev/null
}
cargo fmt --all --check
cargo clippy --locked --all-targets \
    -p blendesk-domain -p blendesk-store -p blendesk-mail -p blendesk-engine \
    -p blendesk-cli -p blendesk-control -p blendesk-testkit -p blendesk-e2e -p blendesk-coord-pg -- -D warnings
mapfile -t scripts < <(git ls-files '*.sh' '*.bash' .ci/run)
shellcheck "${scripts[@]}"

echo "== mail stack (Dovecot mdbox and Maildir, OpenSMTPD, Cyrus)"
tests/mail-stack.sh start

echo "== PostgreSQL (the coordination backend's tests)"
pg_env=$(tests/pg-stack.sh start)
while IFS='=' read -r key value; do export "$key=$value"; done <<< "$pg_env"

echo "== engine, store, mail, domain, CLI, control, testkit and coord-pg tests (real Dovecot + OpenSMTPD, Cyrus, PostgreSQL)"
# One -p list instead of --workspace: the engine tests must not build the Tauri crate.
# cargo runs the test binaries one after another; the fault tests rely on that (they
# restart the servers).
cargo test --locked \
    -p blendesk-domain -p blendesk-store -p blendesk-mail -p blendesk-engine \
    -p blendesk-cli -p blendesk-control -p blendesk-testkit -p blendesk-coord-pg

echo "== desktop end-to-end tests (tauri-driver + WebKitWebDriver under Xvfb)"
scripts/test-e2e.sh

echo "== all tests passed"
