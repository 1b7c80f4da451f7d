#!/usr/bin/env bash
# Schemathesis against the real server: gunicorn with DEBUG=False on a fresh SQLite database,
# authenticated as staff, every operation of Roster's own schema, four checks, zero failures.
# Both data modes: positive (what the schema allows) and negative (what it forbids: wrong types,
# missing fields, out-of-range values, NUL bytes); either way no 5xx and only documented statuses.
# users_api/tests/test_fuzz.py hunts 5xx from the other side (hostile JSON, bytes, headers).
# Extra arguments go to `schemathesis run` (e.g. `scripts/schemathesis.sh --max-examples 5`);
# SCHEMATHESIS_MAX_EXAMPLES sets the examples per operation (default 20: under two minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.venv/bin"

WORKDIR="$(mktemp -d /tmp/roster-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
STAFF_EMAIL="schemathesis-staff@example.com"
STAFF_PASSWORD="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(24))')"
unlimited=100000/hour
rates="anon=$unlimited,user=$unlimited,login=$unlimited,register=$unlimited"
rates="$rates,register_email=$unlimited,password_reset=$unlimited"
rates="$rates,password_reset_email=$unlimited,email_resend=$unlimited,login_failures=100000/15m"

# Only what this run needs; nothing from a developer's .env leaks in except what is overridden.
export DEBUG=False
export SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(64))')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=False SESSION_COOKIE_SECURE=False CSRF_COOKIE_SECURE=False
export DATABASE_URL="sqlite:///$WORKDIR/roster.sqlite3"
export CACHE_URL=locmemcache://
export EMAIL_URL=dummymail://
export SITE_URL="$BASE"
export ACCESS_TOKEN_LIFETIME=1h
export THROTTLE_RATES="$rates"
export LOG_LEVEL=WARNING

echo "Preparing a fresh database in $WORKDIR"
"$BIN/python" manage.py collectstatic --noinput >/dev/null
"$BIN/python" manage.py migrate --noinput >/dev/null
DJANGO_SUPERUSER_EMAIL="$STAFF_EMAIL" DJANGO_SUPERUSER_PASSWORD="$STAFF_PASSWORD" \
    "$BIN/python" manage.py createsuperuser --noinput >/dev/null

echo "Starting gunicorn on $BASE"
"$BIN/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 \
    >"$WORKDIR/gunicorn.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORKDIR/gunicorn.log"; exit 1; }
    sleep 0.2
done
curl -fsS "$BASE/healthz" >/dev/null

ACCESS="$(
    curl -fsS -X POST "$BASE/api/v1/auth/token/" -H 'Content-Type: application/json' \
        -d "{\"email\": \"$STAFF_EMAIL\", \"password\": \"$STAFF_PASSWORD\"}" |
        "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)["access"])'
)"

status=0
# One worker: SQLite takes one writer at a time, and "database is locked" would read as a 503.
# Run from the temporary folder, so Hypothesis's and schemathesis's caches go away with it.
(cd "$WORKDIR" && "$BIN/schemathesis" run "$BASE/api/v1/schema/" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    -H "Authorization: Bearer $ACCESS" \
    --generation-with-security-parameters false \
    --generation-database none \
    --mode all \
    --generation-allow-x00 true \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-20}" \
    --workers 1 \
    --request-timeout 30 \
    --no-color \
    "$@") || status=$?

# The run may close or demote accounts; say whether it stayed authenticated as staff throughout.
if curl -fs -o /dev/null -H "Authorization: Bearer $ACCESS" "$BASE/api/v1/users/"; then
    echo "The staff token was still accepted at the end of the run."
else
    echo "Note: the staff token stopped working during the run (a generated request revoked it)."
fi

if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); the server's errors follow:" >&2
    grep -v "WARNING django.request" "$WORKDIR/gunicorn.log" | tail -n 200 >&2
fi
exit "$status"
