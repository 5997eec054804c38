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
# (poppler-utils) reads back the Z-report PDF, chromium runs the browser tests, npm installs the npm tools,
# zbarimg (zbar-tools) decodes the QR code of a receipt's TSE data.
# Installed when missing and apt-get may be run; otherwise those tests are skipped with a reason.
APT_PACKAGES := pdftotext:poppler-utils chromium:chromium npm:npm zbarimg:zbar-tools
# The npm tools, pinned in package.json and package-lock.json, into node_modules/ (git-ignored) by one
# `npm ci`, again whenever the lock file changes: axe-core, the accessibility engine the browser tests
# run in each page, and firebase-tools, whose Auth emulator `tresen dev` and the tests start (about
# 80 s on a fresh machine). npm records the install in node_modules/.package-lock.json.
NPM_TOOLS := node_modules/.package-lock.json

.PHONY: run test unit bench lint clean

run: $(STAMP) $(NPM_TOOLS)
	$(BIN)/tresen dev

test: lint $(TOOLS) $(CHECKOV) $(NPM_TOOLS)
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

# Not after $(TOOLS) (Chromium and all), which `make run` does not need; `make test` makes that first,
# so npm is there wherever apt-get could install it.
$(NPM_TOOLS): package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error || \
	  echo "note: could not install the npm tools: no Auth emulator, and the accessibility tests will be skipped"; \
	else \
	  echo "note: no npm: no Auth emulator, and the accessibility tests will be skipped"; \
	fi

$(CHECKOV):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .hypothesis
