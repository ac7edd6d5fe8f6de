# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest serve clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

## Set everything up and run the demo on SQLite (./coalition.db), served on 127.0.0.1:8000.
demo: $(STAMP)
	$(BIN)/coalition db upgrade
	$(BIN)/coalition demo load
	$(BIN)/coalition serve --host 127.0.0.1 --port 8000

## Lint, type-check and run every test on SQLite and PostgreSQL.
test: $(STAMP) chromium lint typecheck pytest

## Debian's Chromium for the browser tests (tests/browser), installed only when missing;
## Playwright drives it as it is and never downloads a browser of its own.
chromium:
	test -x /usr/bin/chromium || { $(SUDO) apt-get update && \
		$(SUDO) apt-get install -y --no-install-recommends chromium; }

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -W error -n 2 --dist loadfile -q

clean:
	rm -rf $(VENV) coalition.db coalition.db-wal coalition.db-shm test-output
