#!/usr/bin/env bash
# The local PostgreSQL used by the coordination tests (crates/coord-pg), its benchmark
# and the demo's team mode: Debian's postgresql package, one cluster initialised into
# its own state directory, listening on loopback only (and a Unix socket in that
# directory). No systemd; pg_ctl starts and stops it. PostgreSQL refuses to run as root,
# so the server runs as the `postgres` user, which owns the state directory.
#
#   tests/pg-stack.sh start    install what is missing, initdb if the directory is empty,
#                              start (or reuse) the server, print the settings
#   tests/pg-stack.sh stop     stop the server (fast shutdown)
#   tests/pg-stack.sh status   exit 0 when the server answers, 1 otherwise
#   tests/pg-stack.sh env      print the settings as shell assignments
#   tests/pg-stack.sh reset    stop and delete the state directory
#
# BLENDESK_PG_DIR (default: pg/ under BLENDESK_STACK_DIR) holds the cluster (data/), the
# socket (run/), the log, the administrator's password and a self-signed certificate for
# localhost and 127.0.0.1 (ca.crt: TLS is offered, plain connections still accepted); BLENDESK_PG_PORT (default
# 15432) is the TCP port on 127.0.0.1. The administrator `blendesk_admin` (a superuser,
# password in the state directory) creates the test databases and advisor roles; every
# other connection is an advisor's own login role.
set -euo pipefail

STACK_DIR="${BLENDESK_STACK_DIR:-/tmp/blendesk-mailstack}"
DIR="${BLENDESK_PG_DIR:-$STACK_DIR/pg}"
PORT="${BLENDESK_PG_PORT:-15432}"
HOST=127.0.0.1
ADMIN=blendesk_admin
DATABASE=blendesk
RUN_AS=postgres

log() { echo "pg-stack: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Debian installs each major version under /usr/lib/postgresql/<major>/bin; take the newest.
pg_bin() {
    local dirs
    dirs=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V)
    [ -n "$dirs" ] && echo "${dirs##*$'\n'}"
}

install_missing() {
    if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/pg_ctl" ]; then
        log "installing postgresql"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || true
        as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            postgresql >/dev/null || die "apt-get install postgresql failed"
    fi
    [ -x "$(pg_bin)/pg_ctl" ] || die "no pg_ctl under /usr/lib/postgresql/*/bin after installing postgresql"
    id "$RUN_AS" >/dev/null 2>&1 || die "the postgresql package did not create the $RUN_AS user"
}

# Run a PostgreSQL program as the server's user (root is refused by initdb and postgres).
as_pg() {
    if [ "$(id -un)" = "$RUN_AS" ]; then "$@"; else as_root runuser -u "$RUN_AS" -- "$@"; fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

running() { [ -f "$DIR/data/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; }

# The state directory from empty: a cluster whose superuser has a random password, local
# (socket) connections trusted — the socket directory is the server user's alone — and
# TCP connections by SCRAM password.
init_cluster() {
    [ -f "$DIR/data/PG_VERSION" ] && return 0
    log "initdb into $DIR/data"
    mkdir -p "$DIR"
    # The server user must reach the directory through its parents (mktemp makes 0700).
    as_pg test -x "$DIR" 2>/dev/null || chmod o+x "$(dirname "$DIR")" "$DIR"
    as_pg test -x "$DIR" 2>/dev/null || die "user $RUN_AS cannot reach $DIR: make its parent directories searchable"
    rm -rf "$DIR/data" "$DIR/run"
    mkdir -p "$DIR/data" "$DIR/run"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$DIR/admin-password"
    chmod 0600 "$DIR/admin-password"
    install -m 0600 -o "$RUN_AS" "$DIR/admin-password" "$DIR/run/pwfile"
    chown "$RUN_AS" "$DIR/data" "$DIR/run"
    chmod 0700 "$DIR/data" "$DIR/run"
    as_pg "$(pg_bin)/initdb" -D "$DIR/data" -U "$ADMIN" --pwfile="$DIR/run/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        >"$DIR/initdb.log" 2>&1 || die "initdb failed (see $DIR/initdb.log)"
    rm -f "$DIR/run/pwfile"
    echo "include_if_exists = 'blendesk.conf'" >> "$DIR/data/postgresql.conf"
}

# A test CA (ca.crt, for clients to trust) and the server's certificate signed by it for the
# names tests connect to (rustls refuses a CA certificate as the server's own).
make_certificate() {
    [ -f "$DIR/data/server.crt" ] && [ -f "$DIR/ca.crt" ] && return 0
    command -v openssl >/dev/null || die "openssl is needed for the server's test certificate"
    local tmp="$DIR/run/cert"
    mkdir -p "$tmp"
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Blendesk test CA" \
            -keyout "$tmp/ca.key" -out "$tmp/ca.crt" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$DIR/data/server.key" -out "$tmp/server.csr" &&
        printf 'subjectAltName=DNS:localhost,IP:%s\nbasicConstraints=CA:FALSE\n' "$HOST" > "$tmp/ext" &&
        openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
            -days 3650 -extfile "$tmp/ext" -out "$DIR/data/server.crt"
    } >/dev/null 2>&1 || die "openssl could not make the test certificates"
    cp "$tmp/ca.crt" "$DIR/ca.crt"
    rm -rf "$tmp"
    chown "$RUN_AS" "$DIR/data/server.key" "$DIR/data/server.crt"
    chmod 0600 "$DIR/data/server.key"
}

# Rewritten on every start, so a new port or an older checkout's settings take effect.
# 300 connections: the benchmark's 200 simulated apps plus the tests' own.
write_config() {
    cat > "$DIR/data/blendesk.conf" <<EOF
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$DIR/run'
max_connections = 300
logging_collector = off
ssl = on
EOF
    chown "$RUN_AS" "$DIR/data/blendesk.conf"
}

start_server() {
    if running; then
        port_open "$PORT" && return 0
        die "a server runs on $DIR/data but not on port $PORT: tests/pg-stack.sh stop first"
    fi
    port_open "$PORT" && die "port $PORT is taken by something else: set BLENDESK_PG_PORT"
    as_pg "$(pg_bin)/pg_ctl" -D "$DIR/data" -l "$DIR/data/postgres.log" -w -t 60 start >/dev/null 9>&- \
        || die "postgres did not start (see $DIR/data/postgres.log)"
    port_open "$PORT" || die "postgres started but does not answer on $HOST:$PORT"
}

create_database() {
    local found
    found=$(as_pg "$(pg_bin)/psql" -h "$DIR/run" -p "$PORT" -U "$ADMIN" -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
    [ "$found" = 1 ] || as_pg "$(pg_bin)/createdb" -h "$DIR/run" -p "$PORT" -U "$ADMIN" "$DATABASE"
}

stop_server() {
    [ -d "$DIR/data" ] || return 0
    running || return 0
    as_pg "$(pg_bin)/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null || die "postgres did not stop"
}

print_env() {
    local password=""
    [ -f "$DIR/admin-password" ] && password=$(cat "$DIR/admin-password")
    cat <<EOF
BLENDESK_PG_DIR=$DIR
BLENDESK_PG_HOST=$HOST
BLENDESK_PG_PORT=$PORT
BLENDESK_PG_DATABASE=$DATABASE
BLENDESK_PG_ADMIN_USER=$ADMIN
BLENDESK_PG_ADMIN_PASSWORD=$password
BLENDESK_PG_CA=$DIR/ca.crt
EOF
}

cmd="${1:-status}"
case "$cmd" in
    start)
        install_missing
        mkdir -p "$DIR"
        exec 9>"$DIR/.lock"
        flock 9
        init_cluster
        make_certificate
        write_config
        start_server
        create_database
        print_env
        ;;
    stop) [ -z "$(pg_bin)" ] || stop_server ;;
    status)
        if [ -n "$(pg_bin)" ] && [ -d "$DIR/data" ] && running && port_open "$PORT"; then
            echo "running: PostgreSQL $HOST:$PORT, data in $DIR"
        else
            echo "not running"; exit 1
        fi
        ;;
    env) print_env ;;
    reset)
        [ -z "$(pg_bin)" ] || stop_server
        rm -rf "${DIR:?}"
        ;;
    *) die "usage: $0 start|stop|status|env|reset" ;;
esac
