#!/usr/bin/env bash
# Cyrus IMAP 3.6 on loopback, beside the Dovecot of tests/mail-stack.sh, for the tests
# that must hold on every server a team may run (claims, keyword budget). Debian's
# cyrus-imapd package conflicts with dovecot-imapd (both provide imap-server), so it is
# never installed: its binaries are taken from the downloaded package (dpkg -x), the
# rest (master, ctl_cyrusdb, saslpasswd2) from packages that do not conflict. Everything
# else lives under one state directory; started without systemd, stopped by its pid.
#
#   tests/cyrus-stack.sh start                 install what is missing, start (or reuse)
#   tests/cyrus-stack.sh stop
#   tests/cyrus-stack.sh env                   host, port and state directory
#   tests/cyrus-stack.sh adduser NAME PASSWORD a login and its INBOX
#
# Users: support, alice, bob, carol, sam (password "secret"); the admin is "cyrus".
set -euo pipefail

DIR="${BLENDESK_STACK_DIR:-/tmp/blendesk-mailstack}/cyrus"
PORT="${BLENDESK_CYRUS_PORT:-$((${BLENDESK_STACK_IMAP_PORT:-14143} + 3))}"
HOST=127.0.0.1
ADMIN_PASSWORD="cyrus-admin-secret"
# The unpacked cyrus-imapd package, kept across state directories (a download).
PKG="${BLENDESK_CYRUS_PKG:-/var/cache/blendesk/cyrus-imapd}"
BIN=/usr/lib/cyrus/bin

log() { echo "cyrus-stack: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_missing() {
    local missing=()
    [ -x "$BIN/master" ] || missing+=(cyrus-common)
    command -v cyradm >/dev/null || missing+=(cyrus-admin)
    command -v saslpasswd2 >/dev/null || missing+=(sasl2-bin)
    [ -e /usr/lib/x86_64-linux-gnu/sasl2/libplain.so ] || missing+=(libsasl2-modules)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
    if [ ! -x "$PKG/usr/lib/cyrus/bin/imapd" ]; then
        log "unpacking cyrus-imapd into $PKG (not installed: it would remove Dovecot's IMAP)"
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download cyrus-imapd >/dev/null 2>&1) || die "apt-get download cyrus-imapd failed"
        as_root mkdir -p "$PKG"
        as_root dpkg -x "$tmp"/cyrus-imapd_*.deb "$PKG"
        rm -rf "$tmp"
    fi
}

write_config() {
    # imapd binds its IDLE socket at <configdirectory>/socket/idle.<pid>: without that
    # directory it silently falls back to polling every 60 s (imapidlepoll).
    mkdir -p "$DIR"/{conf/socket,spool,lock,proc,log}
    cat > "$DIR/imapd.conf" <<EOF
configdirectory: $DIR/conf
partition-default: $DIR/spool
mboxname_lockpath: $DIR/lock
proc_path: $DIR/proc
servername: localhost
altnamespace: yes
unixhierarchysep: yes
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $DIR/sasldb2
sasl_mech_list: PLAIN LOGIN
admins: cyrus
lmtpsocket: $DIR/conf/socket/lmtp
idlesocket: $DIR/conf/socket/idle
notifysocket: $DIR/conf/socket/notify
EOF
    # master does not pass -C on: every command names the configuration itself.
    cat > "$DIR/cyrus.conf" <<EOF
START {
  recover cmd="$BIN/ctl_cyrusdb -C $DIR/imapd.conf -r"
}
SERVICES {
  imap cmd="$PKG/usr/lib/cyrus/bin/imapd -C $DIR/imapd.conf" listen="$HOST:$PORT" prefork=0
}
DAEMON {
  idled cmd="$PKG/usr/lib/cyrus/bin/idled -C $DIR/imapd.conf"
}
EOF
    chown -R cyrus:mail "$DIR"
}

set_password() {
    printf '%s' "$2" | saslpasswd2 -p -c -f "$DIR/sasldb2" -u localhost "$1"
    chown cyrus:mail "$DIR/sasldb2"
    chmod 0640 "$DIR/sasldb2"
}

# One IMAP command as the admin (Python's imaplib: no extra client needed).
admin_create() {
    python3 - "$HOST" "$PORT" "$ADMIN_PASSWORD" "$@" <<'EOF'
import imaplib, sys
host, port, password, *boxes = sys.argv[1:]
c = imaplib.IMAP4(host, int(port))
c.login("cyrus", password)
for box in boxes:
    typ, data = c.create(box)
    if typ != "OK" and b"exists" not in b" ".join(data).lower():
        sys.exit(f"CREATE {box}: {data}")
c.logout()
EOF
}

start() {
    install_missing
    if pid_alive "$DIR/master.pid" && port_open "$PORT"; then return 0; fi
    local fresh=0
    [ -f "$DIR/sasldb2" ] || fresh=1
    write_config
    if [ "$fresh" = 1 ]; then
        set_password cyrus "$ADMIN_PASSWORD"
        for u in support alice bob carol sam; do set_password "$u" secret; done
    fi
    nohup "$BIN/master" -C "$DIR/imapd.conf" -M "$DIR/cyrus.conf" -p "$DIR/master.pid" -D \
        >>"$DIR/log/master.log" 2>&1 9>&- </dev/null &
    for _ in $(seq 1 100); do port_open "$PORT" && break; sleep 0.1; done
    port_open "$PORT" || die "Cyrus did not open port $PORT (see $DIR/log/master.log)"
    if [ "$fresh" = 1 ]; then
        admin_create user/support user/alice user/bob user/carol user/sam
    fi
    log "Cyrus IMAP on $HOST:$PORT, data in $DIR"
}

stop() {
    pid_alive "$DIR/master.pid" || return 0
    local pid
    pid=$(cat "$DIR/master.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    adduser)
        [ $# -eq 3 ] || die "usage: $0 adduser NAME PASSWORD"
        set_password "$2" "$3"
        admin_create "user/$2"
        ;;
    env)
        printf 'BLENDESK_CYRUS_HOST=%s\nBLENDESK_CYRUS_PORT=%s\nBLENDESK_CYRUS_DIR=%s\n' "$HOST" "$PORT" "$DIR"
        ;;
    *) die "usage: $0 start|stop|env|adduser NAME PASSWORD" ;;
esac
