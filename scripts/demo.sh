#!/usr/bin/env bash
# Open Blendesk on the local demo stack: starts the mail stack, seeds a realistic support
# mailbox (once) and the team's shared documents (policy with alice as supervisor,
# English and Chinese knowledge articles, approved templates: demo/), keeps new customer
# mail trickling in, builds the UI and the app when needed, and opens the window.
# Everything stays on this machine.
#
#   scripts/demo.sh            (needs a display; on a headless machine: xvfb-run -a scripts/demo.sh)
#   DEMO_USER=t_mydemo DEMO_PASSWORD=test scripts/demo.sh    (another mailbox of the stack)
set -euo pipefail
cd "$(dirname "$0")/.."
user="${DEMO_USER:-support}"
password="${DEMO_PASSWORD:-secret}"

bash scripts/desktop-deps.sh
# The stack prints where it listens (BLENDESK_STACK_* honoured: a private stack works too).
stack_env=$(tests/mail-stack.sh start)
imap_port=$(sed -n 's/^BLENDESK_STACK_IMAP_PORT=//p' <<<"$stack_env")
smtp_port=$(sed -n 's/^BLENDESK_STACK_SMTP_PORT=//p' <<<"$stack_env")
ports=(--imap-port "$imap_port" --smtp-port "$smtp_port")
mkdir -p target/demo
python3 scripts/demo-seed.py --user "$user" --password "$password" "${ports[@]}"
python3 scripts/demo-seed.py --user "$user" --password "$password" "${ports[@]}" --trickle "${DEMO_TRICKLE_SECONDS:-45}" --customers 0 \
  > target/demo/trickle.log 2>&1 &
trickle=$!
trap 'kill $trickle 2>/dev/null || true' EXIT

if [ ! -d ui/node_modules ]; then (cd ui && npm ci --no-audit --no-fund); fi
(cd ui && npm run build)
cargo build -p blendesk-desktop --features tauri/custom-protocol
cargo build -p blendesk-cli

cat > target/demo/config.toml <<TOML
[advisor]
id = "alice"
name = "Alice Advisor"

[imap]
host = "127.0.0.1"
port = $imap_port
security = "plain"
username = "$user"
queues = ["INBOX", "Billing", "Returns"]
sent = "Sent"

[smtp]
host = "127.0.0.1"
port = $smtp_port
security = "plain"
username = ""
from = "Shop Support <$user@shop.test>"

[store]
path = "$PWD/target/demo/blendesk.sqlite"
TOML
export BLENDESK_IMAP_PASSWORD="$password"
# The call socket (`blendesk call start --config target/demo/config.toml`, what a
# softphone runs) lives in a private runtime directory; give the demo one if the
# session has none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="$PWD/target/demo/run"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi
scripts/demo-content.sh target/demo/config.toml
"${CARGO_TARGET_DIR:-target}/debug/blendesk-desktop" --config target/demo/config.toml
