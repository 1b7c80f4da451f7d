#!/usr/bin/env bash
# How gunicorn's shape (worker class, workers, threads) holds up when logins run beside reads:
# GET users/me/ at 8 connections alone, then again while 4 connections log in nonstop (each login
# is an Argon2 hash). Run it on a database seeded by `bench/run.py --keep`, e.g.
#   bench/gunicorn_shapes.sh postgres://postgres@127.0.0.1:5432/roster_bench_1000000
# Traffic goes to 127.0.0.1 only; every run is bounded (8-12 s).
set -euo pipefail
cd "$(dirname "$0")/.."
DB_URL="${1:?usage: bench/gunicorn_shapes.sh DATABASE_URL}"
PORT=8765
export DEBUG=False ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=False DATABASE_URL="$DB_URL" \
    SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    CACHE_URL=redis://127.0.0.1:6379/12 ACCESS_TOKEN_LIFETIME=1h GUNICORN_ACCESS_LOG=/dev/null \
    GUNICORN_BIND=127.0.0.1:$PORT \
    THROTTLE_RATES="user=100000000/hour,login=100000000/hour,login_failures=100000000/15m"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python manage.py shell -v0 -c "
from accounts.models import User
user, _ = User.objects.get_or_create(email='shapes@example.com')
user.set_password('a-Long-enough-passw0rd'); user.is_active = True; user.save()"
cat > "$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email": "shapes@example.com", "password": "a-Long-enough-passw0rd"}'
wrk.headers["Content-Type"] = "application/json"
LUA
reads() { wrk -t1 -c8 -d8s --latency -H "Authorization: Bearer $1" -H "Accept: application/json" \
    "http://127.0.0.1:$PORT/api/v1/users/me/"; }
rate() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }

printf '| worker class | workers | threads | reads alone req/s | reads beside logins req/s | their p99 | logins req/s |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for shape in "sync 2 1" "gthread 2 4" "gthread 4 2"; do
    set -- $shape
    GUNICORN_WORKER_CLASS=$1 GUNICORN_WORKERS=$2 GUNICORN_THREADS=$3 \
        .venv/bin/gunicorn -c deploy/gunicorn.conf.py config.wsgi > "$work/gunicorn.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
    token=$(curl -s -XPOST "http://127.0.0.1:$PORT/api/v1/auth/token/" -H 'Content-Type: application/json' \
        -d '{"email": "shapes@example.com", "password": "a-Long-enough-passw0rd"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
    alone=$(reads "$token" | rate)
    wrk -t1 -c4 -d12s -s "$work/login.lua" "http://127.0.0.1:$PORT/api/v1/auth/token/" > "$work/logins.txt" &
    logins=$!
    sleep 2
    reads "$token" > "$work/mixed.txt"
    wait $logins
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$alone" \
        "$(rate < "$work/mixed.txt")" "$(p99 < "$work/mixed.txt")" "$(rate < "$work/logins.txt")"
    kill $server; wait $server 2>/dev/null || true
done
