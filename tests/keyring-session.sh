#!/usr/bin/env bash
# A private Secret Service for tests that must see a secret land in the OS keyring:
# a D-Bus session bus and gnome-keyring-daemon (secrets only, a login keyring unlocked
# with a throwaway password) under one state directory. No systemd, no desktop session.
#
#   tests/keyring-session.sh start DIR   install what is missing, start; prints
#                                        DBUS_SESSION_BUS_ADDRESS=... for the caller
#   tests/keyring-session.sh stop DIR    stop both by their pids
set -euo pipefail

log() { echo "keyring-session: $*" >&2; }
die() { log "$*"; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

cmd="${1:-}"
DIR="${2:-}"
[ -n "$DIR" ] || die "usage: $0 start|stop DIR"

install_missing() {
    local missing=()
    command -v dbus-daemon >/dev/null || missing+=(dbus)
    command -v dbus-send >/dev/null || missing+=(dbus-bin)
    command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || true
        as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
    fi
}

case "$cmd" in
    start)
        install_missing
        mkdir -p "$DIR/data" "$DIR/run"
        chmod 0700 "$DIR/run"
        address="unix:path=$DIR/run/bus"
        dbus-daemon --session --fork --address="$address" --print-pid=3 3>"$DIR/dbus.pid" \
            || die "dbus-daemon did not start"
        export DBUS_SESSION_BUS_ADDRESS="$address" XDG_DATA_HOME="$DIR/data" XDG_RUNTIME_DIR="$DIR/run"
        # --unlock reads the login keyring's password from stdin (created when missing).
        printf 'blendesk-test-keyring' | nohup gnome-keyring-daemon --foreground --unlock --components=secrets \
            >"$DIR/keyring.log" 2>&1 &
        echo $! >"$DIR/keyring.pid"
        for _ in $(seq 1 100); do
            if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; then
                echo "DBUS_SESSION_BUS_ADDRESS=$address"
                exit 0
            fi
            sleep 0.1
        done
        die "gnome-keyring-daemon did not take org.freedesktop.secrets (see $DIR/keyring.log)"
        ;;
    stop)
        for f in "$DIR/keyring.pid" "$DIR/dbus.pid"; do
            if [ -s "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
            rm -f "$f"
        done
        ;;
    *) die "usage: $0 start|stop DIR" ;;
esac
