# The README's two commands are `make run` and `make test`; both build .venv on first use.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# `make run` listens where HOST and PORT say; else where KB_HOST and KB_PORT (the
# settings `kb serve` reads) say; else on 127.0.0.1:8000. It always passed
# --host 127.0.0.1 --port 8000, which override KB_HOST/KB_PORT, so a server set up
# with KB_HOST=0.0.0.0 listened on loopback only, without a word (QA24a F11).
HOST ?= $(or $(KB_HOST),127.0.0.1)
PORT ?= $(or $(KB_PORT),8000)

.PHONY: venv run test test-fast lint bench eval browser clean-index

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel on local disk, not a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian's chromium for the browser tests (playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium to run the browser tests"; fi; }

# Build the embedded model and the index on first use (both no-ops later), then serve.
# An index an older kb built with another model, encoder or chunker is rebuilt first.
# A corpus file that cannot be read is reported and the rest is served; a fatal problem
# (the model, the index) stops `kb serve` too, with its own message.
run: venv
	$(BIN)/kb ingest --reindex-if-stale || echo "make run: not every article was indexed (see the errors above); serving the rest" >&2
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

test: venv browser
	$(BIN)/pytest -q

# Fast tests only: the fake encoder, no real model, no browser.
test-fast: venv
	$(BIN)/pytest -q -m "not model and not browser"

lint: venv
	$(BIN)/ruff check kb web tests benchmarks

eval: venv
	$(BIN)/kb eval

bench: venv
	$(BIN)/python benchmarks/run.py

clean-index:
	find index -mindepth 1 ! -name README.md -exec rm -rf {} +
