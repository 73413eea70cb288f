# The two commands a new user needs: `make test` and `make demo` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
BUILD := $(abspath build)
COLLECTIONS := $(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/conductor/principals
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt $(wildcard sandbox/requirements*.txt)

.PHONY: test install build units sandbox-test integration sanity lint changelog demo bench sandbox clean

test: units sandbox-test integration sanity lint changelog
	@echo "make test: every step passed"

$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
		$(addprefix -r ,$(wildcard sandbox/requirements*.txt))
	touch $@

install: $(STAMP)

# Build the collection and install it into a private collections path: tests and
# sanity run on what users would install, not on the checkout.
build: $(STAMP)
	rm -rf $(BUILD)
	mkdir -p $(BUILD)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) $(BUILD)/conductor-principals-*.tar.gz >/dev/null
	@echo "installed into $(INSTALLED)"

units: build
	cd $(INSTALLED) && PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

sandbox-test: $(STAMP)
	@if [ -d sandbox/tests ]; then PYTHONPATH=sandbox $(BIN)/python -m pytest -q -p no:cacheprovider sandbox/tests; \
	else echo "sandbox-test: no sandbox/tests yet"; fi

integration: build
	@if [ -d sandbox/conductor_sandbox ]; then \
		CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration; \
	else echo "integration: skipped, the sandbox (sandbox/conductor_sandbox) is not there yet"; fi

# ansible-test sanity, every default test, in the installed copy. Its pip bootstrap
# script comes from a host this machine cannot reach; .ci/ansible_test_get_pip.py
# stands in for it (ensurepip, then pip from PyPI).
sanity: build
	pip_version=$$($(BIN)/python -c "import types; from ansible_test._internal.python_requirements import \
		get_venv_packages as g; print(g(types.SimpleNamespace(version='3.11'))['pip'].replace('.', '_'))"); \
	mkdir -p $$HOME/.ansible/test/cache; \
	cp .ci/ansible_test_get_pip.py $$HOME/.ansible/test/cache/get_pip_$$pip_version.py
	cd $(INSTALLED) && git init -q && git add -A && \
		git -c user.name=make -c user.email=make@localhost commit -q -m sanity && \
		PATH=$(BIN):$$PATH $(BIN)/ansible-test sanity --local --requirements --python 3.11 --color no

lint: build
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --profile production --offline

changelog: $(STAMP)
	$(BIN)/antsibull-changelog lint

# The sandbox on a port of your choice: make sandbox PORT=8990 BOOTSTRAP=/tmp/c1.json
PORT ?= 8990
BOOTSTRAP ?= $(abspath build/sandbox-bootstrap.json)
sandbox: $(STAMP)
	PYTHONPATH=sandbox $(BIN)/python -m conductor_sandbox --port $(PORT) --bootstrap-file $(BOOTSTRAP)

demo: build
	PATH=$(BIN):$$PATH PYTHON=$(BIN)/python ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) tools/demo.sh

bench:
	@echo "make bench: the benchmark arrives with the performance issue."

clean:
	rm -rf $(BUILD) $(VENV) tests/output
