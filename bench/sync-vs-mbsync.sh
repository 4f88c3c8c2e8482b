#!/usr/bin/env bash
# Sync benchmark: a cold `blendesk sync` into an empty SQLite database against `mbsync`
# (Debian isync) pulling the same IMAP folder into an empty Maildir, both from the
# project's local Dovecot (tests/mail-stack.sh). Prints figures; it is not a pass/fail test
# of speed, but it fails loudly when either tool does not mirror every message.
#
#   bench/sync-vs-mbsync.sh [--messages N] [--runs R] [--only mbsync|blendesk]
#                           [--no-build] [--keep]
#
#   --messages N   messages to seed (default 10000, ~6 KB each; use 500 for a quick check)
#   --runs R       rounds (default 2). Each round times mbsync as shipped, mbsync with
#                  "FSync no" (mbsync-nofsync) and blendesk, each into an empty target.
#                  Round 1 is "cold": right after Dovecot indexed the folder. Later rounds
#                  are "warm": Dovecot's caches were filled by round 1. The order of the
#                  tools is reversed in every other round.
#   --only T       time only mbsync (both variants) or only blendesk
#   --no-build     do not run cargo; use target/release/blendesk (or $BLENDESK_BIN) as is
#   --keep         keep the temp dir and the seeded mailbox (paths printed at the end)
#
# Environment: BLENDESK_STACK_DIR / _IMAP_PORT / _SMTP_PORT as for tests/mail-stack.sh,
# BENCH_SEED (default 20240601) for the generated messages.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=10000
RUNS=2
ONLY=""
BUILD=1
KEEP=0
SEED="${BENCH_SEED:-20240601}"

die() { echo "bench: ERROR: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --messages) N="${2:?--messages needs a number}"; shift 2 ;;
        --messages=*) N="${1#*=}"; shift ;;
        --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
        --runs=*) RUNS="${1#*=}"; shift ;;
        --only) ONLY="${2:?--only needs mbsync or blendesk}"; shift 2 ;;
        --only=*) ONLY="${1#*=}"; shift ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "--messages must be a positive integer, got '$N'"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, got '$RUNS'"
case "$ONLY" in ""|mbsync|blendesk) ;; *) die "--only takes mbsync or blendesk" ;; esac
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

# ---- tools ------------------------------------------------------------------------------
missing=()
command -v mbsync >/dev/null || missing+=(isync)
[ -x /usr/bin/time ] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || true
    as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# ---- temp dir, seeded user, cleanup -----------------------------------------------------
TMP="$(mktemp -d /tmp/blendesk-bench.XXXXXX)"
chmod 0755 "$TMP"
# One mailbox per timed tool, each a copy of the same seeded Maildir, so every tool's first
# round meets a server that has indexed its folder but never served a message body.
BUSER="t_bench_$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
user_for() { case "$1" in mbsync) echo "${BUSER}_mb" ;; mbsync-nofsync) echo "${BUSER}_nf" ;; *) echo "${BUSER}_bd" ;; esac; }
TOOLS=()
STACK_DIR=""
cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        say "kept: $TMP and ${STACK_DIR:-?}/mail/${BUSER}_*"
    else
        rm -rf "$TMP"
        local t u
        for t in mbsync mbsync-nofsync blendesk; do
            u="$(user_for "$t")"
            if [ -n "$STACK_DIR" ] && [ -d "$STACK_DIR/mail/$u" ]; then rm -rf "${STACK_DIR:?}/mail/${u:?}"; fi
        done
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- blendesk binary --------------------------------------------------------------------
BIN="${BLENDESK_BIN:-$ROOT/target/release/blendesk}"
BUILD_STATUS="not needed"
if want blendesk; then
    if [ "$BUILD" = 1 ]; then
        say "building: cargo build --release -p blendesk-cli (log: $TMP/build.log)"
        if (cd "$ROOT" && cargo build --release -p blendesk-cli) >"$TMP/build.log" 2>&1; then
            BUILD_STATUS="ok"
        else
            BUILD_STATUS="FAILED"
            echo "==================================================================" >&2
            echo "bench: BLENDESK BUILD FAILED: cargo build --release -p blendesk-cli" >&2
            echo "bench: last lines of the build log:" >&2
            { tail -n 25 "$TMP/build.log" 2>/dev/null || true; } | sed 's/^/    /' >&2
            echo "bench: blendesk is NOT timed in this run; mbsync figures follow." >&2
            echo "==================================================================" >&2
        fi
    else
        BUILD_STATUS="skipped (--no-build)"
    fi
    if [ "$BUILD_STATUS" != FAILED ] && [ ! -x "$BIN" ]; then
        say "no blendesk binary at $BIN"
        BUILD_STATUS="FAILED (no binary at $BIN)"
    fi
fi

# ---- mail stack -------------------------------------------------------------------------
say "starting (or reusing) the local mail stack"
STACK_ENV="$("$ROOT/tests/mail-stack.sh" start)" || die "tests/mail-stack.sh start failed"
eval "$STACK_ENV"
# The seed is a Maildir copied into place: the stack's Maildir Dovecot serves it (the
# main one stores mdbox, which cannot be seeded with plain files).
STACK_DIR="$BLENDESK_STACK_DIR/maildir"
HOST="$BLENDESK_STACK_HOST"
IMAP_PORT="$BLENDESK_STACK_MAILDIR_PORT"
SMTP_PORT="$BLENDESK_STACK_SMTP_PORT"

# ---- seed -------------------------------------------------------------------------------
if want mbsync; then TOOLS+=(mbsync mbsync-nofsync); fi
if want blendesk && [[ "$BUILD_STATUS" != FAILED* ]]; then TOOLS+=(blendesk); fi
say "seeding $N messages into $TMP/seed/Maildir"
t0=$(date +%s%N)
python3 "$ROOT/bench/seed_maildir.py" "$TMP/seed/Maildir" --count "$N" --seed "$SEED" 2>"$TMP/seed.log" \
    || { cat "$TMP/seed.log" >&2; die "seeding failed"; }
SEED_INFO="$(cat "$TMP/seed.log")"
chown -R vmail:vmail "$TMP/seed"
say "$SEED_INFO (in $(( ($(date +%s%N) - t0) / 1000000 )) ms)"

for tool in "${TOOLS[@]}"; do
    u="$(user_for "$tool")"
    [ ! -e "$STACK_DIR/mail/$u" ] || die "$STACK_DIR/mail/$u already exists"
    say "copying the seed into $u's INBOX ($STACK_DIR/mail/$u/Maildir) for $tool"
    cp -a "$TMP/seed" "$STACK_DIR/mail/$u"
    # Let Dovecot build its index (uidlist, index, cache of flags/date/size) before timing,
    # so no tool pays for the first scan of the folder.
    python3 - "$HOST" "$IMAP_PORT" "$u" "$N" <<'EOF' || die "indexing $u's INBOX through IMAP failed"
import imaplib, sys
host, port, user, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = imaplib.IMAP4(host, port)
c.login(user, "test")
typ, data = c.select("INBOX", readonly=True)
exists = int(data[0])
if exists != n:
    sys.exit("INBOX has %d messages after seeding, expected %d" % (exists, n))
typ, data = c.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE RFC822.SIZE)")
if typ != "OK":
    sys.exit("UID FETCH failed: %r" % (data,))
c.logout()
EOF
done
rm -rf "$TMP/seed"

# ---- runners ----------------------------------------------------------------------------
# Each runner appends one line to $TMP/results: tool round label messages seconds rss_kb
RESULTS="$TMP/results"
: >"$RESULTS"
FAILED=0

# $3 = yes: mbsync as shipped (fsync after every message); no: "FSync no" (tool name
# mbsync-nofsync), closer to a database that commits in batches.
run_mbsync() {
    local round="$1" label="$2" fsync="$3" dir="$TMP/mbsync-$1-$3" tool=mbsync
    [ "$fsync" = yes ] || tool=mbsync-nofsync
    mkdir -p "$dir"
    cat >"$TMP/mbsyncrc-$round-$fsync" <<EOF
FSync $fsync

IMAPAccount bench
Host $HOST
Port $IMAP_PORT
User $(user_for "$tool")
Pass test
SSLType None
AuthMechs LOGIN

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path $dir/
Inbox $dir/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns INBOX
Create Near
Sync Pull
SyncState *
EOF
    say "round $round ($label): $tool"
    local rc=0
    /usr/bin/time -f '%e %M' -o "$TMP/time" mbsync -q -c "$TMP/mbsyncrc-$round-$fsync" bench \
        >"$TMP/$tool-$round.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        sed 's/^/    /' "$TMP/$tool-$round.log" >&2
        echo "bench: ERROR: $tool exited with $rc" >&2
        FAILED=1; return 0
    fi
    local got
    got=$(find "$dir/INBOX/cur" "$dir/INBOX/new" -type f 2>/dev/null | wc -l || true)
    read -r secs rss <"$TMP/time"
    echo "$tool $round $label $got $secs $rss" >>"$RESULTS"
    if [ "$got" -ne "$N" ]; then
        echo "bench: ERROR: $tool mirrored $got messages, expected $N" >&2
        FAILED=1
    fi
    rm -rf "$dir"
}

run_blendesk() {
    local round="$1" label="$2" dir="$TMP/blendesk-$1"
    mkdir -p "$dir"
    cat >"$dir/config.toml" <<EOF
[advisor]
id = "bench"
name = "Bench"

[imap]
host = "$HOST"
port = $IMAP_PORT
security = "plain"
username = "$(user_for blendesk)"
queues = ["INBOX"]
sent = "Sent"

[smtp]
host = "$HOST"
port = $SMTP_PORT
security = "plain"
username = "$(user_for blendesk)"
from = "Shop Support <support@shop.test>"

[store]
path = "$dir/blendesk.db"
EOF
    say "round $round ($label): blendesk sync"
    local rc=0
    BLENDESK_IMAP_PASSWORD=test BLENDESK_SMTP_PASSWORD=test \
        XDG_CONFIG_HOME="$dir/xdg-config" XDG_DATA_HOME="$dir/xdg-data" \
        /usr/bin/time -f '%e %M' -o "$TMP/time" "$BIN" sync --json --config "$dir/config.toml" \
        >"$dir/out.json" 2>"$dir/err.log" || rc=$?
    if [ $rc -ne 0 ]; then
        { tail -n 20 "$dir/err.log" 2>/dev/null || true; } | sed 's/^/    /' >&2
        echo "bench: ERROR: blendesk sync exited with $rc" >&2
        FAILED=1; return 0
    fi
    local got
    got=$(python3 - "$dir/out.json" <<'EOF'
import json, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
obj = None
try:
    obj = json.loads(text)
except ValueError:
    for line in reversed(text.splitlines()):  # tolerate progress lines before the object
        try:
            obj = json.loads(line)
            break
        except ValueError:
            continue
if not isinstance(obj, dict) or not isinstance(obj.get("messages"), int):
    print("unparsable")
else:
    print(obj["messages"])
EOF
)
    if [ "$got" = unparsable ]; then
        echo "bench: ERROR: blendesk sync --json printed no JSON object with an integer \"messages\":" >&2
        { head -c 2000 "$dir/out.json" 2>/dev/null || true; } | sed 's/^/    /' >&2
        FAILED=1; return 0
    fi
    read -r secs rss <"$TMP/time"
    echo "blendesk $round $label $got $secs $rss" >>"$RESULTS"
    if [ "$got" -ne "$N" ]; then
        echo "bench: ERROR: blendesk mirrored $got messages, expected $N" >&2
        FAILED=1
    fi
    rm -rf "$dir"
}

# ---- rounds -----------------------------------------------------------------------------
BLENDESK_OK=0
if want blendesk && [[ "$BUILD_STATUS" != FAILED* ]]; then BLENDESK_OK=1; fi
for round in $(seq 1 "$RUNS"); do
    if [ "$round" = 1 ]; then label=cold; else label=warm; fi
    say "load average before round $round: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ $((round % 2)) = 1 ]; then order="mbsync mbsync-nofsync blendesk"; else order="blendesk mbsync-nofsync mbsync"; fi
    for tool in $order; do
        # Flush dirty pages (the seeded files, the previous run's target and its removal)
        # so that no tool pays for another's writeback; then let the disk settle.
        sync
        sleep 2
        case "$tool" in
            mbsync) if want mbsync; then run_mbsync "$round" "$label" yes; fi ;;
            mbsync-nofsync) if want mbsync; then run_mbsync "$round" "$label" no; fi ;;
            blendesk) if [ "$BLENDESK_OK" = 1 ]; then run_blendesk "$round" "$label"; fi ;;
        esac
    done
done

# ---- report -----------------------------------------------------------------------------
echo
echo "Sync benchmark: $N messages in one INBOX on Dovecot $HOST:$IMAP_PORT (plain IMAP, loopback)"
echo "seed: $SEED_INFO"
echo "machine: $(nproc) CPUs, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blendesk build: $BUILD_STATUS"
echo
python3 - "$RESULTS" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
fmt = "%-15s %-5s %-5s %9s %9s %11s %13s"
print(fmt % ("tool", "round", "cache", "messages", "seconds", "messages/s", "peak RSS MB"))
rate = {}
for tool, rnd, label, msgs, secs, rss in rows:
    s = max(float(secs), 0.01)
    r = int(msgs) / s
    rate[(tool, rnd)] = (r, label)
    print(fmt % (tool, rnd, label, msgs, "%.2f" % float(secs), "%.0f" % r, "%.1f" % (int(rss) / 1024)))
print()
rounds = sorted({rnd for _, rnd, *_ in rows}, key=int)
for rnd in rounds:
    b = rate.get(("blendesk", rnd))
    for ref in ("mbsync", "mbsync-nofsync"):
        m = rate.get((ref, rnd))
        if b and m:
            ratio = b[0] / m[0]
            verdict = "meets target >= 1.0" if ratio >= 1.0 else "BELOW target 1.0"
            if ratio >= 3.0:
                verdict += ", reaches the 3x aim"
            print("ratio round %s (%s): blendesk msg/s / %s msg/s = %.2f  (%s)"
                  % (rnd, b[1], ref, ratio, verdict))
        else:
            print("ratio round %s vs %s: n/a (%s not timed)" % (rnd, ref, "blendesk" if not b else ref))
EOF
echo
echo "Each tool reads its own copy of the same mailbox. cold = round 1: empty target, fresh"
echo "process, Dovecot had only indexed that copy (flags, dates, sizes) and never served a body;"
echo "the files were just written, so they are likely in the OS page cache. warm = later"
echo "rounds: empty target again, same copy, Dovecot's caches filled by that tool's round 1."
echo "mbsync = isync as shipped (FSync yes: an fsync per message, so its time follows the"
echo "disk's fsync latency); mbsync-nofsync = the same with 'FSync no', a stricter yardstick."

if [[ "$BUILD_STATUS" == FAILED* ]]; then
    echo
    echo "blendesk was NOT measured: its build failed (cargo build --release -p blendesk-cli)."
    FAILED=1
fi
[ "$FAILED" = 0 ] || { echo "bench: FAILED (see errors above)" >&2; exit 1; }
