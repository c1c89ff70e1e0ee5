# vyopt — one entry point for set-up, demo, tests and benchmarks.
# Everything installs into the repo: .venv (pinned Python packages), node_modules (anvil),
# .build/vvm (the vyper binary ape-vyper looks for, so it never downloads a compiler).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export VVM_BINARY_PATH := $(CURDIR)/.build/vvm
export MPLBACKEND := Agg
PYTEST_ARGS ?=

STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
VVM_LINK := .build/vvm/vyper-0.4.3

.PHONY: setup demo test test-fast bench deploy compile abi clean help redis-server
help:
	@echo "make demo   - set up, start a local anvil, deploy, print prices and greeks next to the reference"
	@echo "make test   - set up, then run the whole test suite (HYPOTHESIS_PROFILE=ci|deep)"
	@echo "make bench  - gas and accuracy benchmark -> reports/pricing/bench.{md,json,png}"

setup: $(STAMP_PY) $(STAMP_NODE) $(VVM_LINK) redis-server abi

# redis-server (Debian package) for the audit's shared example database test (tests/audit/test_redis_database.py):
# installed when missing and apt-get is usable as root; required when CI is set, optional (test skipped) otherwise.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; \
	  elif [ -n "$$CI" ]; then echo "redis-server is required in CI: apt-get install redis-server" >&2; exit 1; \
	  else echo "note: redis-server not installed; the Redis example-database test will be skipped" >&2; fi; }

$(STAMP_PY): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(STAMP_NODE): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	@anvil --version | head -n 1
	@touch $@

$(VVM_LINK): $(STAMP_PY)
	@mkdir -p .build/vvm
	ln -sf $(BIN)/vyper $@

compile: setup abi
	ape compile

# ABI JSON of every deployable for wallets and front-ends (abi/, committed).  Locally it is rewritten from the
# sources; with CI set it is only checked, so a forgotten `make abi` fails the build instead of being patched.
abi: $(STAMP_PY)
	$(BIN)/python -m vyopt.abi $(if $(CI),--check,)

demo: setup
	ape run demo --network ethereum:local:foundry

deploy: setup
	ape run deploy --network ethereum:local:foundry

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m vyopt.bench

clean:
	rm -rf .build reports/pricing .pytest_cache .hypothesis
