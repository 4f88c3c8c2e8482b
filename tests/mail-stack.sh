#!/usr/bin/env bash
# The local mail stack used by every test and by the demo:
# Dovecot (IMAP + LMTP) and OpenSMTPD on loopback, delivering into mdbox mailboxes under
# one state directory; beside them, for the tests that must run on every server a team
# may have, a second Dovecot storing Maildir (port IMAP+2) and Cyrus IMAP (port IMAP+3,
# tests/cyrus-stack.sh). No systemd; every process is started here and stopped by its pid.
# mdbox, not Maildir, for the main one: Maildir keeps only a mailbox's first 26
# keywords in file names and never announces changes to the others to IDLE.
#
#   tests/mail-stack.sh start            install what is missing, start (or reuse) the stack
#   tests/mail-stack.sh stop             stop both servers
#   tests/mail-stack.sh status           exit 0 when both answer, 1 otherwise
#   tests/mail-stack.sh env              print the stack's settings as shell assignments
#   tests/mail-stack.sh restart-imap     stop and start Dovecot only (tests of reconnects)
#   tests/mail-stack.sh stop-smtp | start-smtp
#   tests/mail-stack.sh start-nocondstore   a second Dovecot without CONDSTORE (port IMAP+1)
#   tests/mail-stack.sh start-maildir | start-cyrus   only that server (port IMAP+2 | IMAP+3)
#   tests/mail-stack.sh start-oauth      the OAuth2 pair: tests/oauth-server.py (port IMAP+5)
#                                        and a Dovecot on the same mailboxes that logs in only
#                                        by XOAUTH2/OAUTHBEARER, asking that server (port IMAP+4),
#                                        with STARTTLS (test CA: tls/ca.crt) and mail
#                                        submission by XOAUTH2 (port IMAP+6)
#   BLENDESK_STACK_SMTP=off tests/mail-stack.sh start   everything but OpenSMTPD (one per
#                                        machine: for a second stack beside a running one)
#   tests/mail-stack.sh reset            stop everything and delete the state
#
# Users (password "secret"): support (the shared support mailbox), alice, bob, carol
# (advisors), sam (supervisor), on domain shop.test; any address @example.com is a
# customer mailbox named after its local part (customers cust* log in with "secret"). Tests make their own isolated users: any
# name starting with "t_" logs in with password "test" and receives mail for
# t_...@shop.test or t_...@example.com. User "canary" has a unique password that tests
# look for in every file Blendesk writes.
set -euo pipefail

DIR="${BLENDESK_STACK_DIR:-/tmp/blendesk-mailstack}"
IMAP_PORT="${BLENDESK_STACK_IMAP_PORT:-14143}"
SMTP_PORT="${BLENDESK_STACK_SMTP_PORT:-12525}"
HOST=127.0.0.1

log() { echo "mail-stack: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

install_missing() {
    local missing=()
    command -v dovecot >/dev/null || missing+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd)
    command -v smtpd >/dev/null || missing+=(opensmtpd)
    command -v mbsync >/dev/null || missing+=(isync)
    [ -x /usr/lib/dovecot/submission ] || missing+=(dovecot-submissiond)
    command -v openssl >/dev/null || missing+=(openssl)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || true
        as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
    fi
    id vmail >/dev/null 2>&1 || as_root useradd -r -M -s /usr/sbin/nologin vmail
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_port() {
    for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
    return 1
}

write_config() {
    mkdir -p "$DIR"/{run,state,mail}
    local uid gid
    uid=$(id -u vmail); gid=$(id -g vmail)
    cat > "$DIR/passwd" <<EOF
support:{PLAIN}secret
alice:{PLAIN}secret
bob:{PLAIN}secret
carol:{PLAIN}secret
sam:{PLAIN}secret
canary:{PLAIN}Canary-7f3a9c1e-PW
EOF
    cat > "$DIR/dovecot.conf" <<EOF
protocols = imap lmtp
listen = $HOST
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 0
mail_uid = $uid
mail_gid = $gid
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
mail_location = mdbox:~/mdbox
mail_attribute_dict = file:%h/dovecot-attributes
# IMAP ACLs (RFC 4314): a team's mailbox is shared with each advisor, who logs in as
# themselves; the owner grants rights per folder with SETACL (see README, "Who may
# change the policy"). Without ACL entries only the owner has rights.
mail_plugins = \$mail_plugins acl
plugin {
  acl = vfile
  acl_shared_dict = file:$DIR/state/shared-mailboxes.db
}
passdb {
  driver = passwd-file
  args = $DIR/passwd
}
passdb {
  driver = static
  args = password=test
  username_filter = t_*
}
passdb {
  driver = static
  args = password=secret
  username_filter = cust*
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$DIR/mail/%n allow_all_users=yes
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
# Other users' mailboxes, as shared/<owner>/<folder>. The index lives with the owner's
# mail (no per-user INDEX), so every advisor sees the same flags and MODSEQs: the claim
# compare-and-swap depends on that.
namespace shared {
  type = shared
  separator = /
  prefix = shared/%%u/
  location = mdbox:%%h/mdbox
  subscriptions = no
  list = children
}
service imap-login {
  chroot =
  inet_listener imap {
    address = $HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service lmtp {
  unix_listener lmtp-sock {
    mode = 0666
  }
}
protocol imap {
  mail_plugins = \$mail_plugins imap_acl
  imap_metadata = yes
  mail_max_userip_connections = 500
}
protocol lmtp {
  mail_max_userip_connections = 500
}
EOF
    printf '@shop.test vmail\n@example.com vmail\n' > "$DIR/virt"
    printf 'vmail %s:%s:%s/mail\n' "$uid" "$gid" "$DIR" > "$DIR/users"
    cat > "$DIR/smtpd.conf" <<EOF
table virt file:$DIR/virt
table users file:$DIR/users
listen on $HOST port $SMTP_PORT
action "local" lmtp "$DIR/run/lmtp-sock" rcpt-to virtual <virt> userbase <users>
match from any for domain "shop.test" action "local"
match from any for domain "example.com" action "local"
EOF
    chown -R vmail:vmail "$DIR/mail"
    chmod 0755 "$DIR" "$DIR/mail"
}

start_imap() {
    if pid_alive "$DIR/run/master.pid" && port_open "$IMAP_PORT"; then return 0; fi
    # A previous master may still be shutting down: it refuses a second start meanwhile.
    if pid_alive "$DIR/run/master.pid"; then
        local pid; pid=$(cat "$DIR/run/master.pid")
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    dovecot -c "$DIR/dovecot.conf" 9>&- </dev/null >>"$DIR/dovecot.log" 2>&1 || die "dovecot failed to start (see $DIR/dovecot.log)"
    wait_port "$IMAP_PORT" || die "dovecot did not open port $IMAP_PORT (see $DIR/dovecot.log)"
}

stop_pidfile() {
    local f="$1"
    pid_alive "$f" || { rm -f "$f"; return 0; }
    local pid; pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 0; }; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
}

start_smtp() {
    if pid_alive "$DIR/smtpd.pid" && port_open "$SMTP_PORT"; then return 0; fi
    smtpd -n -f "$DIR/smtpd.conf" >/dev/null 2>&1 || die "smtpd.conf rejected: $(smtpd -n -f "$DIR/smtpd.conf" 2>&1 | tail -1)"
    # OpenSMTPD's control socket and spool are system-wide: one per machine.
    if pgrep -x smtpd >/dev/null; then
        die "another OpenSMTPD runs on this machine (its control socket is system-wide): stop it first (tests/mail-stack.sh stop, with that stack's BLENDESK_STACK_DIR)"
    fi
    # Mail queued by an earlier run would land in this run's mailboxes.
    as_root find /var/spool/smtpd -mindepth 2 -type f -delete 2>/dev/null || true
    nohup smtpd -f "$DIR/smtpd.conf" -d >>"$DIR/smtpd.log" 2>&1 9>&- </dev/null &
    echo $! > "$DIR/smtpd.pid"
    wait_port "$SMTP_PORT" || die "smtpd did not open port $SMTP_PORT (see $DIR/smtpd.log)"
}

# A second Dovecot on the same mailboxes that does not announce CONDSTORE (nor QRESYNC)
# and keeps no custom keywords (any keyword longer than one character is refused with
# NO [CANNOT]; system flags such as \Answered still work): what Microsoft 365 looks like
# to a team, unfit for the mailbox backend. IMAP only, port IMAP_PORT+1.
start_plain_imap() {
    local port=$((IMAP_PORT + 1))
    port_open "$port" && return 0
    mkdir -p "$DIR/run-nocondstore" "$DIR/state-nocondstore"
    sed -e "s|^protocols = .*|protocols = imap|" \
        -e "s|^base_dir = .*|base_dir = $DIR/run-nocondstore|" \
        -e "s|^state_dir = .*|state_dir = $DIR/state-nocondstore|" \
        -e "s|port = $IMAP_PORT|port = $port|" \
        "$DIR/dovecot.conf" > "$DIR/dovecot-nocondstore.conf"
    {
        echo "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS MOVE NAMESPACE"
        echo "mail_max_keyword_length = 1"
    } >> "$DIR/dovecot-nocondstore.conf"
    dovecot -c "$DIR/dovecot-nocondstore.conf" 9>&- </dev/null >>"$DIR/dovecot.log" 2>&1 || die "the no-CONDSTORE dovecot failed to start"
    wait_port "$port" || die "the no-CONDSTORE dovecot did not open port $port"
}

# The same users on Maildir (port IMAP_PORT+2, own state and mail under maildir/), for
# the tests that show what a team on Maildir gets. IMAP only: tests APPEND their mail.
start_maildir_imap() {
    local port=$((IMAP_PORT + 2)) md="$DIR/maildir"
    if pid_alive "$md/run/master.pid" && port_open "$port"; then return 0; fi
    mkdir -p "$md"/{run,state,mail}
    chown vmail:vmail "$md/mail"
    sed -e "s|^protocols = .*|protocols = imap|" \
        -e "s|^base_dir = .*|base_dir = $md/run|" \
        -e "s|^state_dir = .*|state_dir = $md/state|" \
        -e "s|^log_path = .*|log_path = $md/dovecot.log|" \
        -e "s|^info_log_path = .*|info_log_path = $md/dovecot.log|" \
        -e "s|^mail_location = .*|mail_location = maildir:~/Maildir|" \
        -e "s|location = mdbox:%%h/mdbox|location = maildir:%%h/Maildir|" \
        -e "s|home=$DIR/mail/%n|home=$md/mail/%n|" \
        -e "s|file:$DIR/state/shared-mailboxes.db|file:$md/state/shared-mailboxes.db|" \
        -e "s|port = $IMAP_PORT|port = $port|" \
        "$DIR/dovecot.conf" > "$md/dovecot.conf"
    dovecot -c "$md/dovecot.conf" 9>&- </dev/null >>"$md/dovecot.log" 2>&1 || die "the Maildir dovecot failed to start (see $md/dovecot.log)"
    wait_port "$port" || die "the Maildir dovecot did not open port $port"
}

# OAuth2: the tests' authorization server (python3, standard library) and a Dovecot on
# the same mailboxes whose only passdb is oauth2: every bearer token is introspected
# there (no auth cache), so a token the server expired or revoked is refused at once.
# A test CA ($DIR/tls/ca.crt, what a company's own CA is to its advisors: the config's
# ca_file) and a server certificate signed by it for 127.0.0.1 and localhost (rustls
# refuses a CA certificate as the server's own). The OAuth2 Dovecot uses it for STARTTLS.
make_test_ca() {
    [ -s "$DIR/tls/server.crt" ] && [ -s "$DIR/tls/ca.crt" ] && return 0
    local tmp="$DIR/tls/tmp"
    mkdir -p "$tmp"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Blendesk mail test CA" \
            -keyout "$tmp/ca.key" -out "$tmp/ca.crt" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$DIR/tls/server.key" -out "$tmp/server.csr" &&
        printf 'subjectAltName=DNS:localhost,IP:%s\nbasicConstraints=CA:FALSE\n' "$HOST" > "$tmp/ext" &&
        openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
            -days 3650 -extfile "$tmp/ext" -out "$DIR/tls/server.crt"
    } >/dev/null 2>&1 || die "openssl could not make the test certificates"
    cp "$tmp/ca.crt" "$DIR/tls/ca.crt"
    rm -rf "$tmp"
    chmod 0600 "$DIR/tls/server.key"
}

start_oauth() {
    local port=$((IMAP_PORT + 4)) as_port=$((IMAP_PORT + 5))
    if ! { pid_alive "$DIR/oauth-server.pid" && port_open "$as_port"; }; then
        command -v python3 >/dev/null || die "python3 is needed for the OAuth2 test server"
        nohup python3 "$(dirname "$0")/oauth-server.py" --port "$as_port" >>"$DIR/oauth-server.log" 2>&1 9>&- </dev/null &
        echo $! > "$DIR/oauth-server.pid"
        wait_port "$as_port" || die "the OAuth2 test server did not open port $as_port (see $DIR/oauth-server.log)"
    fi
    if pid_alive "$DIR/run-oauth/master.pid" && port_open "$port" && port_open $((IMAP_PORT + 6)); then return 0; fi
    stop_pidfile "$DIR/run-oauth/master.pid" # an older one, without mail submission
    mkdir -p "$DIR/run-oauth" "$DIR/state-oauth"
    cat > "$DIR/dovecot-oauth2.conf.ext" <<EOF
introspection_url = http://$HOST:$as_port/introspect
introspection_mode = post
force_introspection = yes
username_attribute = username
username_format = %Ln
active_attribute = active
active_value = true
timeout_msecs = 10000
EOF
    make_test_ca
    sed -e "s|^protocols = .*|protocols = imap submission|" \
        -e "s|^ssl = no|ssl = yes\nssl_cert = <$DIR/tls/server.crt\nssl_key = <$DIR/tls/server.key|" \
        -e "s|^base_dir = .*|base_dir = $DIR/run-oauth|" \
        -e "s|^state_dir = .*|state_dir = $DIR/state-oauth|" \
        -e "s|^log_path = .*|log_path = $DIR/dovecot-oauth.log|" \
        -e "s|^info_log_path = .*|info_log_path = $DIR/dovecot-oauth.log|" \
        -e "s|^auth_mechanisms = .*|auth_mechanisms = xoauth2 oauthbearer|" \
        -e "/^passdb {/,/^}/d" \
        -e "s|port = $IMAP_PORT|port = $port|" \
        "$DIR/dovecot.conf" > "$DIR/dovecot-oauth.conf"
    printf 'passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = %s\n}\n' "$DIR/dovecot-oauth2.conf.ext" >> "$DIR/dovecot-oauth.conf"
    # Mail submission (RFC 6409) as Microsoft 365 and Gmail offer it: STARTTLS, then SASL
    # XOAUTH2 with the same bearer token, relayed to the stack's OpenSMTPD.
    cat >> "$DIR/dovecot-oauth.conf" <<EOF
hostname = localhost
submission_relay_host = $HOST
submission_relay_port = $SMTP_PORT
submission_relay_ssl = no
service submission-login {
  chroot =
  inet_listener submission {
    address = $HOST
    port = $((IMAP_PORT + 6))
  }
}
EOF
    dovecot -c "$DIR/dovecot-oauth.conf" 9>&- </dev/null >>"$DIR/dovecot-oauth.log" 2>&1 || die "the OAuth2 dovecot failed to start (see $DIR/dovecot-oauth.log)"
    wait_port "$port" || die "the OAuth2 dovecot did not open port $port"
}

start_cyrus() {
    BLENDESK_STACK_DIR="$DIR" BLENDESK_CYRUS_PORT=$((IMAP_PORT + 3)) "$(dirname "$0")/cyrus-stack.sh" start >&2
}

print_env() {
    cat <<EOF
BLENDESK_STACK_DIR=$DIR
BLENDESK_STACK_HOST=$HOST
BLENDESK_STACK_IMAP_PORT=$IMAP_PORT
BLENDESK_STACK_SMTP_PORT=$SMTP_PORT
BLENDESK_STACK_MAILDIR_PORT=$((IMAP_PORT + 2))
BLENDESK_STACK_CYRUS_PORT=$((IMAP_PORT + 3))
BLENDESK_STACK_OAUTH_IMAP_PORT=$((IMAP_PORT + 4))
BLENDESK_STACK_OAUTH_SERVER=http://$HOST:$((IMAP_PORT + 5))
BLENDESK_STACK_OAUTH_SUBMISSION_PORT=$((IMAP_PORT + 6))
BLENDESK_STACK_CA=$DIR/tls/ca.crt
EOF
}

cmd="${1:-status}"
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
case "$cmd" in
    start)
        install_missing
        # Rewritten on every start so a stack from an older checkout gets new settings;
        # a running Dovecot reloads when its configuration changed.
        before=$( { md5sum < "$DIR/dovecot.conf"; } 2>/dev/null || echo none)
        write_config
        if [ "$before" != "$(md5sum < "$DIR/dovecot.conf")" ] && pid_alive "$DIR/run/master.pid"; then
            log "configuration changed: reloading dovecot"
            kill -HUP "$(cat "$DIR/run/master.pid")"
        fi
        start_imap
        if [ "${BLENDESK_STACK_SMTP:-on}" = off ]; then
            log "BLENDESK_STACK_SMTP=off: no OpenSMTPD (tests that send mail will fail)"
        else
            start_smtp
        fi
        start_maildir_imap
        start_cyrus
        start_oauth
        print_env
        ;;
    start-maildir) start_maildir_imap; echo "BLENDESK_STACK_MAILDIR_PORT=$((IMAP_PORT + 2))" ;;
    start-cyrus) start_cyrus; echo "BLENDESK_STACK_CYRUS_PORT=$((IMAP_PORT + 3))" ;;
    start-oauth) start_oauth; print_env | grep OAUTH ;;
    stop)
        stop_pidfile "$DIR/smtpd.pid"
        stop_pidfile "$DIR/run/master.pid"
        stop_pidfile "$DIR/run-nocondstore/master.pid"
        stop_pidfile "$DIR/maildir/run/master.pid"
        stop_pidfile "$DIR/run-oauth/master.pid"
        stop_pidfile "$DIR/oauth-server.pid"
        BLENDESK_STACK_DIR="$DIR" "$(dirname "$0")/cyrus-stack.sh" stop
        ;;
    start-nocondstore) start_plain_imap; echo "BLENDESK_STACK_NOCONDSTORE_PORT=$((IMAP_PORT + 1))" ;;
    restart-imap)
        stop_pidfile "$DIR/run/master.pid"
        start_imap
        ;;
    stop-imap) stop_pidfile "$DIR/run/master.pid" ;;
    start-imap) start_imap ;;
    stop-smtp) stop_pidfile "$DIR/smtpd.pid" ;;
    start-smtp) start_smtp ;;
    status)
        if port_open "$IMAP_PORT" && port_open "$SMTP_PORT"; then
            echo "running: IMAP $HOST:$IMAP_PORT, SMTP $HOST:$SMTP_PORT, data in $DIR"
        else
            echo "not running"; exit 1
        fi
        ;;
    env) print_env ;;
    reset)
        stop_pidfile "$DIR/smtpd.pid"
        stop_pidfile "$DIR/run/master.pid"
        stop_pidfile "$DIR/run-nocondstore/master.pid"
        stop_pidfile "$DIR/maildir/run/master.pid"
        stop_pidfile "$DIR/run-oauth/master.pid"
        stop_pidfile "$DIR/oauth-server.pid"
        BLENDESK_STACK_DIR="$DIR" "$(dirname "$0")/cyrus-stack.sh" stop
        rm -rf "${DIR:?}"/{run,state,run-nocondstore,state-nocondstore,run-oauth,state-oauth,mail,maildir,cyrus,tls,*.conf,*.conf.ext,passwd,virt,users}
        ;;
    *) die "usage: $0 start|stop|status|env|restart-imap|stop-imap|start-imap|stop-smtp|start-smtp|start-nocondstore|start-maildir|start-cyrus|start-oauth|reset" ;;
esac
