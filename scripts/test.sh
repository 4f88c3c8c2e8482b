#!/usr/bin/env bash
# Every Blendesk test, on a fresh Debian 12 machine: installs what is missing (the mail
# stack's packages, the desktop's build and WebDriver packages, tauri-driver), starts the
# local mail stack, runs the engine tests against it, then the end-to-end tests in the
# real window under Xvfb. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== mail stack"
tests/mail-stack.sh start

echo "== engine, store, mail, domain, CLI and control tests (real Dovecot + OpenSMTPD)"
# One -p list instead of --workspace: the engine tests must not build the Tauri crate.
# cargo runs the test binaries one after another; the fault tests rely on that (they
# restart the servers).
cargo test --locked \
    -p blendesk-domain -p blendesk-store -p blendesk-mail -p blendesk-engine \
    -p blendesk-cli -p blendesk-control

echo "== desktop end-to-end tests (tauri-driver + WebKitWebDriver under Xvfb)"
scripts/test-e2e.sh

echo "== all tests passed"
