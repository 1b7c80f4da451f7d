#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Each stage prints its name; any failure stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PATH="$PWD/$BIN:$PATH"

stage() { printf '\n=== %s ===\n' "$*"; }

scripts/system-deps.sh

stage "ruff"
ruff check .
ruff format --check .

stage "migrations are up to date"
DEBUG=True python manage.py makemigrations --check --dry-run

stage "deploy check (DEBUG=False, strong key, ALLOWED_HOSTS only)"
env -i PATH="$PATH" HOME="$HOME" DEBUG=False ALLOWED_HOSTS=roster.example.com \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    python manage.py check --deploy --fail-level WARNING

stage "schema is valid OpenAPI 3 with no warnings"
DEBUG=True python manage.py spectacular --validate --fail-on-warn --file /dev/null

stage "pytest on SQLite"
env -u DATABASE_URL python -m pytest "$@"

stage "pytest on PostgreSQL"
PG_URL="${ROSTER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/roster}"
DATABASE_URL="$PG_URL" python -m pytest "$@"

stage "benchmark harness, smoke size (the real run: bench/run.py, see README)"
python bench/run.py --smoke

if [ -x scripts/schemathesis.sh ]; then
    stage "schemathesis against a live server"
    scripts/schemathesis.sh
fi

stage "generated clients: Python and TypeScript, each through a flow against a live server"
scripts/clients.sh
