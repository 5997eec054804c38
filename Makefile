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
# Debian packages the tests use: poppler-utils (pdftotext reads back the Z-report PDF). Installed
# when missing and apt-get may be run; otherwise those checks are skipped with a reason.
APT_PACKAGES := poppler-utils

.PHONY: run test unit bench lint clean

run: $(STAMP)
	$(BIN)/tresen dev

test: $(STAMP) $(TOOLS) $(CHECKOV)
	$(BIN)/pytest

unit: $(STAMP) $(TOOLS)
	$(BIN)/pytest tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TOOLS): $(STAMP)
	@if ! command -v pdftotext >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	  { $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null 2>&1 || \
	    { $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	      $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null 2>&1; }; } || \
	  echo "note: could not install $(APT_PACKAGES); the PDF text checks will be skipped"; \
	fi
	touch $(TOOLS)

$(CHECKOV):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .hypothesis
