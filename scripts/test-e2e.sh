#!/usr/bin/env bash
# End-to-end tests of the desktop app: builds the UI and the app (UI embedded), starts
# the local mail stack, and drives the real window through tauri-driver and
# WebKitWebDriver under Xvfb, inside a private D-Bus session so every helper that GTK
# starts is torn down with it. Screenshots land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/desktop-deps.sh
tests/mail-stack.sh start

(cd ui && npm ci --no-audit --no-fund && npm run check && npm test && npm run build)
cargo build -p blendesk-desktop --features tauri/custom-protocol
# The shell's lints, warnings denied (the engine crates' are in scripts/test.sh).
cargo clippy --locked -p blendesk-desktop --all-targets --features tauri/custom-protocol -- -D warnings
# The shell's own unit tests (HTML sanitiser, notification escaping, setup form rules).
cargo test -p blendesk-desktop --features tauri/custom-protocol
# `blendesk call start|end` (the CLI) drives the call socket in the tests.
cargo build -p blendesk-cli
# The Debian package of this debug build (no new compile), for tests/package.rs, which
# installs it, opens the installed window and removes it again.
BLENDESK_DEB=$(scripts/package.sh --debug --ui-built | tail -n 1)
export BLENDESK_DEB
# Compile the tests before the timed run, so the timeout covers only running them.
cargo test -p blendesk-e2e --no-run

# Binaries follow CARGO_TARGET_DIR when CI sets one.
bin_dir="${CARGO_TARGET_DIR:-$PWD/target}/debug"
export BLENDESK_DESKTOP_BIN="$bin_dir/blendesk-desktop"
export BLENDESK_CLI_BIN="$bin_dir/blendesk"
eval "$(tests/mail-stack.sh env)"
export BLENDESK_STACK_IMAP_PORT BLENDESK_STACK_SMTP_PORT 2>/dev/null || true
rm -rf target/e2e-screenshots && mkdir -p target/e2e-screenshots
timeout --kill-after=30 "${E2E_TIMEOUT:-900}" \
  dbus-run-session -- xvfb-run -a -s "-screen 0 1440x900x24" \
  cargo test -p blendesk-e2e -- --test-threads=1 "$@"
echo "screenshots: $(find target/e2e-screenshots -maxdepth 1 -type f -printf '%f ')"
