# The two commands: `make run` serves Roster on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv lint clean

$(BIN)/.installed-dev: requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

venv: $(BIN)/.installed-dev

## Run the development server on the embedded SQLite database (no .env needed).
run: venv
	DEBUG=$${DEBUG:-True} $(BIN)/python manage.py migrate --noinput
	@echo "Emails are sent in-process here (TASKS_IN_PROCESS, the default with DEBUG on SQLite): no worker to start."
	DEBUG=$${DEBUG:-True} $(BIN)/python manage.py runserver $(PORT)

## The whole test suite: lint, migration and deploy checks, pytest on SQLite and on PostgreSQL
## (browser tests included), schemathesis and the generated clients against a live server.
test: venv
	scripts/test.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles artifacts clients/*/generated clients/typescript/node_modules clients/typescript/dist
