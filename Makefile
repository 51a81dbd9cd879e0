# Set-up and test commands. Prerequisites: the Rust toolchain, Python 3 with
# venv (Debian: python3-venv) and make. Everything else is installed into
# .venv by the `venv` target.

VENV := .venv
VENV_STAMP := $(VENV)/.installed
# Pinned so every machine and CI run use the same emulator and tools.
PYTHON_TOOLS := moto[server]==5.2.5 cargo-lambda==1.9.2 cfn-lint==1.58.0

.PHONY: demo dev test venv

## make demo: sync the bundled fake Okta org (or OKTA_DOMAIN with
## OKTA_API_TOKEN) into a local DynamoDB through the real functions.
demo: $(VENV_STAMP)
	scripts/local-stack.sh demo

## make dev: start the local stack and keep it running for manual use.
dev: $(VENV_STAMP)
	scripts/local-stack.sh dev

## make test: the whole suite (unit, integration, end-to-end, template lint).
## The binaries are built first so the end-to-end test finds them ready.
test: $(VENV_STAMP)
	cargo build --bins
	cargo test --workspace

venv: $(VENV_STAMP)

$(VENV_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet $(PYTHON_TOOLS)
	touch $(VENV_STAMP)
