#!/usr/bin/env bash
# Generated clients work: fetch the schema from a live Roster, generate a Python client
# (openapi-python-client) and a TypeScript one (openapi-typescript + openapi-fetch, compiled with
# `tsc --strict`), and run each one's flow (clients/*/flow.*) against that server. Any warning from a
# generator or the compiler fails the run. The generated code lands in clients/*/generated/
# (git-ignored) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.venv/bin"
export PATH="$BIN:$PATH"  # the Python generator formats its output with the venv's ruff
. scripts/live_server.sh

# Fails when a step printed anything beyond its expected lines (generators warn and still exit 0).
quiet() {
    local expected="$1" output
    shift
    output="$("$@" 2>&1)" || { echo "$output" >&2; return 1; }
    output="$(grep -Ev "$expected" <<<"$output" || true)"
    if [ -n "$output" ]; then
        printf 'warnings from `%s`:\n%s\n' "$*" "$output" >&2
        return 1
    fi
}

node_major="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')" || true
if [ "${node_major:-0}" -lt 20 ]; then
    echo "scripts/clients.sh needs Node.js 20 or later with npm (found: ${node_major:-none})" >&2
    exit 1
fi

echo "Starting Roster"
live_server_start
SCHEMA="$WORKDIR/schema.json"
curl -fsS -H 'Accept: application/json' "$BASE/api/v1/schema/?format=json" -o "$SCHEMA"

echo "Python: openapi-python-client $("$BIN/openapi-python-client" --version | awk '{print $NF}')"
rm -rf clients/python/generated
quiet '^Generating ' "$BIN/openapi-python-client" generate --path "$SCHEMA" --meta none \
    --output-path clients/python/generated/roster_client
PYTHONPATH=clients/python/generated "$BIN/python" -W error clients/python/flow.py "$BASE"

echo "TypeScript: openapi-typescript and openapi-fetch from clients/typescript/package-lock.json"
cd clients/typescript
# npm ci on a clean clone or a changed lock file; otherwise the installed tree is that lock's.
if ! cmp -s package-lock.json node_modules/.roster-installed-lock 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.roster-installed-lock
fi
rm -rf generated dist
# Defaults stay optional in request bodies (the generator's default makes them required).
quiet '^(✨ openapi-typescript|🚀 .* → generated/roster\.d\.ts)' \
    npx --no-install openapi-typescript "$SCHEMA" --default-non-nullable false -o generated/roster.d.ts
quiet '^$' npx --no-install tsc --strict --pretty false -p .
node dist/flow.js "$BASE"
