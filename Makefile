# The two commands a new user needs: `make test` and `make demo` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
BUILD ?= $(abspath build)
COLLECTIONS := $(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/conductor/principals
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt $(wildcard sandbox/requirements*.txt)

.PHONY: test install build install-collection sandbox-env units sandbox-test integration sshd sanity lint \
	changelog demo bench bench-report report-screenshot sandbox clean distclean molecule

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
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) \
		$(BUILD)/conductor-principals-*.tar.gz >/dev/null
	@echo "installed into $(INSTALLED) (for the tests; for your own playbooks: make install-collection)"

# Install the built collection where ansible finds it: the first entry of the collections
# path ansible is configured with (~/.ansible/collections by default), or COLLECTIONS_DIR.
# Its Python requirements go into this checkout's .venv (use .venv/bin/ansible-*, or pip
# install -r requirements.txt into the Python of your own ansible).
COLLECTIONS_DIR ?=
install-collection: build
	$(BIN)/ansible-galaxy collection install --force $(if $(COLLECTIONS_DIR),-p $(COLLECTIONS_DIR)) \
		$(BUILD)/conductor-principals-*.tar.gz

units: build
	cd $(INSTALLED) && PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

sandbox-test: $(STAMP)
	@if [ -d sandbox/tests ]; then PYTHONPATH=sandbox $(BIN)/python -m pytest -q -p no:cacheprovider sandbox/tests; \
	else echo "sandbox-test: no sandbox/tests yet"; fi

# tests/integration/test_remote.py runs the modules on a host reached over ssh and starts its own
# sshd: install OpenSSH's server where it is missing (CI: a fresh Debian machine, as root).
sshd:
	@if command -v sshd >/dev/null || [ -x /usr/sbin/sshd ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server; \
	else echo "make: tests/integration/test_remote.py needs OpenSSH's sshd; install openssh-server" >&2; exit 1; fi

# Real ansible-playbook runs (and the core in-process) against the local sandbox.
integration: build sshd
	@if [ ! -d tests/integration ]; then echo "integration: skipped, there is no tests/integration yet"; \
	elif [ ! -d sandbox/conductor_sandbox ]; then echo "integration: skipped, the sandbox (sandbox/conductor_sandbox) is not there yet"; \
	else CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration; fi

# ansible-test sanity, every default test, in a pristine installed copy of its own (the
# unit and integration runs leave caches in theirs) made a git repository, because
# ansible-test finds a collection's files with git. ansible-test keeps its per-test
# virtual environments under ~/.ansible/test; HOME points at .cache/ansible-test so they
# are cached inside the checkout across runs. Their pip bootstrap script comes from a
# host this machine cannot reach; .ci/ansible_test_get_pip.py stands in for it
# (ensurepip, then pip from PyPI), saved where ansible-test looks for a manual download.
# A skipped test (missing tool or virtual environment) fails the target.
ANSIBLE_TEST_HOME := $(abspath .cache/ansible-test)
SANITY_ROOT := $(BUILD)/sanity
SANITY_COPY := $(SANITY_ROOT)/ansible_collections/conductor/principals
sanity: build
	rm -rf $(SANITY_ROOT)
	$(BIN)/ansible-galaxy collection install --force -p $(SANITY_ROOT) $(BUILD)/conductor-principals-*.tar.gz >/dev/null 2>&1
	pip_version=$$($(BIN)/python -c "import types; from ansible_test._internal.python_requirements import \
		get_venv_packages as g; print(g(types.SimpleNamespace(version='3.11'))['pip'].replace('.', '_'))"); \
	mkdir -p $(ANSIBLE_TEST_HOME)/.ansible/test/cache; \
	cp .ci/ansible_test_get_pip.py $(ANSIBLE_TEST_HOME)/.ansible/test/cache/get_pip_$$pip_version.py
	cd $(SANITY_COPY) && git init -q && git add -A && \
		git -c user.name=make -c user.email=make@localhost commit -q -m sanity
	cd $(SANITY_COPY) && HOME=$(ANSIBLE_TEST_HOME) PATH=$(BIN):$$PATH \
		$(BIN)/ansible-test sanity --local --requirements --python 3.11 --color no 2>&1 | tee $(BUILD)/sanity.log
	@if grep -E 'Skipping sanity test|Required program|Unable to find' $(BUILD)/sanity.log; then \
		echo "sanity: FAILED, the test(s) above were skipped; install what they need"; exit 1; fi

lint: build
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --profile production --offline

changelog: $(STAMP)
	$(BIN)/antsibull-changelog lint

# The sandbox on a port of your choice: make sandbox PORT=8990 BOOTSTRAP=/tmp/c1.json
PORT ?= 8990
BOOTSTRAP ?= $(abspath build/sandbox-bootstrap.json)
sandbox: $(STAMP)
	PYTHONPATH=sandbox $(BIN)/python -m conductor_sandbox --port $(PORT) --bootstrap-file $(BOOTSTRAP)

# The sandbox's connection as export lines: eval "$$(make -s sandbox-env)" (same BOOTSTRAP as make sandbox).
# Plain python3 and no prerequisite, so that nothing but the export lines reaches stdout.
sandbox-env:
	@$(PYTHON) tools/sandbox_env.py $(BOOTSTRAP)

demo: build
	@for need in sandbox/conductor_sandbox playbooks/demo.yml tools/demo.sh; do [ -e $$need ] || \
		{ echo "make demo: $$need is missing, so there is nothing to run the demo with"; exit 1; }; done
	PATH=$(BIN):$$PATH PYTHON=$(BIN)/python ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) tools/demo.sh

bench: build
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	BENCH_COLLECTIONS=$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/python bench/bench.py $(if $(ROWS),--rows $(ROWS))

# Only the credential_report row of make bench (1,000 principals against the ping floor).
bench-report: build
	BENCH_COLLECTIONS=$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/python bench/bench.py --rows report

# The picture of the HTML credential report in the README (outside make test): a seeded sandbox
# tenant, playbooks/report.yml, headless Chromium from Debian (apt-get install -y chromium).
report-screenshot: build
	@command -v chromium >/dev/null || { echo "report-screenshot needs Chromium: apt-get install -y chromium"; exit 1; }
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS) PATH=$(BIN):$$PATH \
		$(BIN)/python tools/report_screenshot.py \
		docs/credential-report.png

# Keeps .cache (ansible-test's virtual environments); `make distclean` removes it too.
clean:
	rm -rf $(BUILD) $(VENV) tests/output .pytest_cache

distclean: clean
	rm -rf .cache

# Molecule's scenario (extensions/molecule/default) against a sandbox of its own: the pytest
# test starts the sandbox, runs `molecule test` and checks for leaks and leftovers.
# `make integration` runs it too.
molecule: build
	CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration/test_molecule.py
