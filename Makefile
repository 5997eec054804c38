# Every target sets itself up on a fresh machine: the venv is (re)built when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := $(VENV)/.system-tools
# checkov (the Terraform policy scan) lives in a virtual environment of its own: its dependencies
# conflict with python-hcl2's in one.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
# Debian packages the tests use, each named after the command that shows it is there: pdftotext
# (poppler-utils) reads back the Z-report PDF, chromium runs the browser tests, npm installs axe-core.
# Installed when missing and apt-get may be run; otherwise those tests are skipped with a reason.
APT_PACKAGES := pdftotext:poppler-utils chromium:chromium npm:npm
# axe-core, the accessibility engine the browser tests run in each page: from npm, pinned in
# package.json and package-lock.json, into node_modules/ (git-ignored). Installed when it is missing.
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test unit bench lint clean

run: $(STAMP)
	$(BIN)/tresen dev

test: lint $(TOOLS) $(CHECKOV) $(AXE)
	$(BIN)/pytest

unit: $(STAMP) $(TOOLS)
	$(BIN)/pytest tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench.run

# ruff, and import-linter's contracts (pyproject.toml): the layers point one way, no cycles
lint: $(STAMP)
	$(BIN)/ruff check functions tests bench
	$(BIN)/lint-imports --no-cache

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TOOLS): $(STAMP)
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	missing=$$(for pair in $(APT_PACKAGES); do command -v $${pair%%:*} >/dev/null 2>&1 || echo $${pair#*:}; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  { $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	      $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1; }; } || \
	  echo "note: could not install $$missing; the tests that need them will be skipped"; \
	fi
	touch $(TOOLS)

$(AXE): | $(TOOLS)
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error || \
	  echo "note: could not install axe-core from npm; the accessibility tests will be skipped"; \
	else \
	  echo "note: no npm; the accessibility tests will be skipped"; \
	fi

$(CHECKOV):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .hypothesis
