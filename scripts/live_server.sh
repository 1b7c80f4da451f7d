# Sourced, not run: `. scripts/live_server.sh; live_server_start` serves Roster with gunicorn
# (DEBUG=False, plain http) on a free port over a fresh SQLite database in a temporary folder, with
# every throttle raised so a scripted run is never refused. It sets BASE (the server's URL), WORKDIR
# (the folder) and SERVER_LOG, and stops the server and removes the folder when the shell exits.
# Nothing from a developer's .env leaks in except what is overridden here.

live_server_start() {
    local bin="$PWD/.venv/bin"
    WORKDIR="$(mktemp -d /tmp/roster-live.XXXXXX)"
    SERVER_PID=""
    trap live_server_stop EXIT

    local port
    port="$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    BASE="http://127.0.0.1:$port"
    SERVER_LOG="$WORKDIR/gunicorn.log"
    local unlimited=100000/hour rates
    rates="anon=$unlimited,user=$unlimited,login=$unlimited,register=$unlimited"
    rates="$rates,register_email=$unlimited,password_reset=$unlimited"
    rates="$rates,password_reset_email=$unlimited,email_resend=$unlimited,login_failures=100000/15m"

    export DEBUG=False
    SECRET_KEY="$("$bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
    export SECRET_KEY
    export ALLOWED_HOSTS=127.0.0.1,localhost
    export SECURE_SSL_REDIRECT=False SESSION_COOKIE_SECURE=False CSRF_COOKIE_SECURE=False
    export DATABASE_URL="sqlite:///$WORKDIR/roster.sqlite3"
    export CACHE_URL=locmemcache://
    export EMAIL_URL=dummymail://
    export SITE_URL="$BASE"
    export THROTTLE_RATES="$rates"
    export LOG_LEVEL=WARNING

    "$bin/python" manage.py migrate --noinput >/dev/null
    # One worker: SQLite takes one writer at a time, and the throttles' locmem cache is per process.
    "$bin/gunicorn" config.wsgi --bind "127.0.0.1:$port" --workers 1 --threads 4 --timeout 60 \
        >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "Roster did not start on $BASE:" >&2
    cat "$SERVER_LOG" >&2
    return 1
}

live_server_stop() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "${WORKDIR:-/nonexistent}"
}
