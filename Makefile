# The two commands a new user needs: `make test` and `make demo` (see README.md and docs/guide/).
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

test: matrix-venvs units sandbox-test integration sanity lint changelog matrix ee-test awx-lookups galaxy-importer docs-site \
	eda-test de-test
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

# Real ansible-playbook runs (and the core in-process) against the local sandbox, spread over
# pytest-xdist workers, each with its own sandbox. A file's tests stay on one worker, so a module
# fixture (test_bad_input's batch playbooks) runs once; --dist loadgroup splits a group here.
TEST_WORKERS ?= auto
XDIST := -n $(TEST_WORKERS) --dist loadfile
integration: build sshd
	@if [ ! -d tests/integration ]; then echo "integration: skipped, there is no tests/integration yet"; \
	elif [ ! -d sandbox/conductor_sandbox ]; then echo "integration: skipped, the sandbox (sandbox/conductor_sandbox) is not there yet"; \
	else CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider $(XDIST) $(addprefix --ignore=,$(EE_TESTS) $(AWX_LOOKUP_TESTS) $(EDA_TESTS)) \
		tests/integration; fi

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
SANITY_PYTHON ?= 3.11
sanity: build
	rm -rf $(SANITY_ROOT)
	$(BIN)/ansible-galaxy collection install --force -p $(SANITY_ROOT) $(BUILD)/conductor-principals-*.tar.gz >/dev/null 2>&1
	pip_version=$$($(BIN)/python -c "import types; from ansible_test._internal.python_requirements import \
		get_venv_packages as g; print(g(types.SimpleNamespace(version='$(SANITY_PYTHON)'))['pip'].replace('.', '_'))"); \
	mkdir -p $(ANSIBLE_TEST_HOME)/.ansible/test/cache; \
	cp .ci/ansible_test_get_pip.py $(ANSIBLE_TEST_HOME)/.ansible/test/cache/get_pip_$$pip_version.py
	cd $(SANITY_COPY) && git init -q && git add -A && \
		git -c user.name=make -c user.email=make@localhost commit -q -m sanity
	cd $(SANITY_COPY) && HOME=$(ANSIBLE_TEST_HOME) PATH=$(BIN):$$PATH \
		$(BIN)/ansible-test sanity --local --requirements --python $(SANITY_PYTHON) --color no 2>&1 | tee $(BUILD)/sanity.log
	@if grep -E 'Skipping sanity test|Required program|Unable to find' $(BUILD)/sanity.log; then \
		echo "sanity: FAILED, the test(s) above were skipped; install what they need"; exit 1; fi

lint: build
	PATH=$(BIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --profile production --offline

changelog: $(STAMP)
	$(BIN)/antsibull-changelog lint

# The sandbox on a port of your choice: make sandbox PORT=8990 BOOTSTRAP=/tmp/c1.json
# Its runtime files live in .sandbox/, apart from build/: make build never deletes a running sandbox's files.
PORT ?= 8990
BOOTSTRAP ?= $(abspath .sandbox/bootstrap.json)
sandbox: $(STAMP)
	@mkdir -p $(dir $(BOOTSTRAP))
	@echo "sandbox on http://127.0.0.1:$(PORT) (another port: make sandbox PORT=<port>); in another shell: eval \"\$$(make -s sandbox-env)\""
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
	$(if $(ROWS),,PYTHONPATH=$(COLLECTIONS) $(BIN)/python bench/eda_poll.py)

# Only the credential_report row of make bench (1,000 principals against the ping floor).
bench-report: build
	BENCH_COLLECTIONS=$(COLLECTIONS) PATH=$(BIN):$$PATH $(BIN)/python bench/bench.py --rows report

# The picture of the HTML credential report in docs/guide/report.md (outside make test): a seeded sandbox
# tenant, playbooks/report.yml, headless Chromium from Debian (apt-get install -y chromium).
report-screenshot: build
	@command -v chromium >/dev/null || { echo "report-screenshot needs Chromium: apt-get install -y chromium"; exit 1; }
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PYTHONPATH=$(COLLECTIONS) PATH=$(BIN):$$PATH \
		$(BIN)/python tools/report_screenshot.py \
		docs/credential-report.png

# Keeps .cache (ansible-test's virtual environments); `make distclean` removes it too.
clean:
	rm -rf $(BUILD) $(VENV) $(wildcard .venv-*) tests/output .pytest_cache

distclean: clean
	rm -rf .cache

# Molecule's scenario (extensions/molecule/default) against a sandbox of its own: the pytest
# test starts the sandbox, runs `molecule test` and checks for leaks and leftovers.
# `make integration` runs it too.
molecule: build
	CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration/test_molecule.py

# ---- ansible-core support matrix (docs/matrix.md) ------------------
# The full suite above runs on the pinned line (requirements-dev.txt, .venv). Every other line
# upstream maintains gets .venv-<line> on a Python it supports as a controller, built from
# tests/matrix/requirements-<line>.txt, and runs the integration tests marked
# @pytest.mark.matrix against the collection as that line's ansible-galaxy installs it.
# A version mismatch with meta/runtime.yml is an error there, so requires_ansible cannot claim
# less than the matrix proves. `make matrix-<line>` runs one line; `ansible-test sanity` runs
# once more on the newest line.
# 2.18 is the oldest line maintained upstream; the roles once failed there (templating of 2.19),
# which its matrix run caught (docs/matrix.md).
MATRIX_LINES := 2.18 2.20 2.21
MATRIX_NEWEST := 2.21
MATRIX_PYTHON_2.18 := 3.11
MATRIX_PYTHON_2.20 := 3.12
MATRIX_PYTHON_2.21 := 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
# MATRIX_MISMATCH=warning runs a line requires_ansible excludes anyway, to see what breaks there.
MATRIX_MISMATCH ?= error
# Only the files that hold matrix tests are collected: others may import what only .venv has.
MATRIX_TEST_FILES = $(shell grep -l '^@pytest.mark.matrix' tests/integration/test_*.py)
MATRIX_TARGETS := $(patsubst tests/matrix/requirements-%.txt,matrix-%,$(wildcard tests/matrix/requirements-2.*.txt))

PINNED_LINE := $(shell sed -n 's/^ansible-core==\([0-9]*\.[0-9]*\)\..*/\1/p' requirements-dev.txt)

.PHONY: matrix matrix-venvs matrix-claims matrix-sanity $(MATRIX_TARGETS)
matrix: matrix-claims $(addprefix matrix-,$(MATRIX_LINES)) matrix-sanity

# First in `make test`, so a missing Python fails it at once rather than after the full suite.
matrix-venvs: $(foreach line,$(MATRIX_LINES),.venv-$(line)/.installed)

# requires_ansible names exactly the lowest line tested (the pinned one or a matrix line).
matrix-claims:
	@lowest=$$(printf '%s\n' $(PINNED_LINE) $(MATRIX_LINES) | sort -V | head -n 1); \
	claimed=$$(sed -n 's/^requires_ansible: *"\(.*\)"/\1/p' meta/runtime.yml); \
	[ "$$claimed" = ">=$$lowest.0" ] || { echo "meta/runtime.yml: requires_ansible is \"$$claimed\"," \
		"but the lowest ansible-core line tested is $$lowest; make it \">=$$lowest.0\""; exit 1; }
	@echo "matrix: requires_ansible matches the lowest line tested"

# The venv's Python: pythonX.Y on PATH if it runs (a pyenv shim may not), else pyenv's copy.
.venv-%/.installed: tests/matrix/requirements-%.txt tests/matrix/requirements-common.txt $(wildcard sandbox/requirements*.txt)
	@want='$(MATRIX_PYTHON_$*)'; [ -n "$$want" ] || { echo "make: set MATRIX_PYTHON_$* (the Python that ansible-core $* runs on)"; exit 1; }; \
	is_want() { "$$1" -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != sys.argv[1])' "$$want" 2>/dev/null; }; \
	found=; for candidate in python$$want $(PYENV_ROOT)/versions/$$want*/bin/python$$want; do \
		if is_want "$$candidate"; then found=$$candidate; break; fi; done; \
	[ -n "$$found" ] || { echo "make: ansible-core $* is tested on Python $$want, and there is no working" \
		"python$$want on PATH or under $(PYENV_ROOT)/versions; install it (for example pyenv install $$want)"; exit 1; }; \
	is_want .venv-$*/bin/python || { rm -rf .venv-$*; echo "creating .venv-$* with $$found"; "$$found" -m venv .venv-$*; }
	.venv-$*/bin/pip install --quiet --disable-pip-version-check -r tests/matrix/requirements-$*.txt \
		$(addprefix -r ,$(wildcard sandbox/requirements*.txt))
	touch $@

$(MATRIX_TARGETS): matrix-%: .venv-%/.installed build
	rm -rf $(BUILD)/matrix-$*
	$(abspath .venv-$*)/bin/ansible-galaxy collection install --force -p $(BUILD)/matrix-$*/collections \
		$(BUILD)/conductor-principals-*.tar.gz >/dev/null 2>&1
	@echo "matrix: ansible-core $$(.venv-$*/bin/python -c 'import ansible; print(ansible.__version__)') on $$(.venv-$*/bin/python -V)"
	CONDUCTOR_TEST_COLLECTIONS_PATH=$(BUILD)/matrix-$*/collections ANSIBLE_COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH=$(MATRIX_MISMATCH) \
		PATH=$(abspath .venv-$*)/bin:$$PATH PYTHONPATH=$(BUILD)/matrix-$*/collections \
		$(abspath .venv-$*)/bin/python -m pytest -q -p no:cacheprovider -m matrix $(XDIST) $(MATRIX_TEST_FILES)

# The sanity target above, run by the newest line's ansible-test on its Python, in a build of its own.
matrix-sanity: .venv-$(MATRIX_NEWEST)/.installed $(STAMP)
	$(MAKE) --no-print-directory sanity BIN=$(abspath .venv-$(MATRIX_NEWEST))/bin \
		BUILD=$(BUILD)/sanity-$(MATRIX_NEWEST) SANITY_PYTHON=$(MATRIX_PYTHON_$(MATRIX_NEWEST))

# ---- the execution environment, run as AWX runs jobs (docs/guide/execution-environment.md) --------
# `make ee` builds localhost/conductor-principals-ee:<version> with podman on a machine with no image
# registry: a Debian base from mmdebstrap, then ansible-builder with the user's definition
# (execution-environment/) re-based on it (tools/ee_build.py). `make ee-test` runs the job
# templates in it through ansible-runner (tests/integration/test_ee.py; `make integration` leaves
# that file out, as it needs the image). The tools live in venvs of their own (tools/ee/requirements-*.txt),
# never in .venv. Each step prints the minutes it took.
EE_TESTS := tests/integration/test_ee.py
EE_APT := podman runc fuse-overlayfs slirp4netns uidmap containernetworking-plugins netavark aardvark-dns mmdebstrap
EE_IMAGE := localhost/conductor-principals-ee:$(shell sed -n 's/^version: *//p' galaxy.yml)
export CONTAINERS_CONF := $(abspath tools/ee/containers.conf)
EE_VENVS := .venv-ee/.installed
# The venvs of make awx-lookups, galaxy-importer, docs-site and eda-test (below), from tools/ee/requirements-*.txt too.
TOOL_VENVS := .venv-awxlookups/.installed .venv-importer/.installed .venv-docs/.installed .venv-eda/.installed
TIMED = started=$$(date +%s); trap 'echo "make $@: $$(( ($$(date +%s) - started) / 60 )) min $$(( ($$(date +%s) - started) % 60 )) s"' EXIT;

.PHONY: ee-host ee-venvs ee ee-test
# A fresh Debian machine has no container tools: as root, ee-host runs
# apt-get install podman runc fuse-overlayfs ... mmdebstrap (EE_APT) for each one missing.
ee-host:
	@$(TIMED) missing=; for pkg in $(EE_APT); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -z "$$missing" ]; then echo "ee-host: podman and mmdebstrap are installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 install -y -q $$missing; \
	else echo "make ee: install these Debian packages first:$$missing" >&2; exit 1; fi

$(EE_VENVS) $(TOOL_VENVS): .venv-%/.installed: tools/ee/requirements-%.txt
	@$(TIMED) test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*; \
	.venv-$*/bin/pip install --quiet --disable-pip-version-check --pre -r $<; touch $@

ee-venvs: $(EE_VENVS)

ee: build ee-host .venv-ee/.installed
	@$(TIMED) .venv-ee/bin/python tools/ee_build.py --tarball $(BUILD)/conductor-principals-*.tar.gz \
		--work $(BUILD)/ee --tag $(EE_IMAGE)

ee-test: ee
	@$(TIMED) CONDUCTOR_EE_IMAGE=$(EE_IMAGE) CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH \
		PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider $(EE_TESTS)

# ---- AWX's own credential lookups, Galaxy's importer, the docs site (docs/guide/awx.md) -----------
# Each in a venv of its own (tools/ee/requirements-<name>.txt, pinned), never in .venv; each step
# prints the minutes it took.
.PHONY: awx-lookups galaxy-importer docs-site docs-screenshot

# AWX's HashiCorp Vault and AWS Secrets Manager lookup plugins (awx-plugins-core), called as AWX calls
# them, read the entries the collection wrote to bao server -dev and moto (tests/integration/test_awx_lookups.py;
# `make integration` leaves that file out, as it needs .venv-awxlookups).
AWX_LOOKUP_TESTS := tests/integration/test_awx_lookups.py
awx-lookups: build .venv-awxlookups/.installed
	@$(TIMED) CONDUCTOR_AWX_LOOKUPS_PYTHON=$(abspath .venv-awxlookups)/bin/python \
		CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) \
		$(BIN)/python -m pytest -q -p no:cacheprovider $(AWX_LOOKUP_TESTS)

# What Galaxy runs on every upload, on the built tarball, with the settings of tools/galaxy/galaxy-importer.cfg
# (no container: ansible-test sanity is `make sanity`). Any WARNING or ERROR line in its log fails the step.
galaxy-importer: build .venv-importer/.installed
	@$(TIMED) rm -rf $(BUILD)/galaxy-importer; mkdir -p $(BUILD)/galaxy-importer; \
	cd $(BUILD)/galaxy-importer && GALAXY_IMPORTER_CONFIG=$(abspath tools/galaxy/galaxy-importer.cfg) \
		PATH=$(abspath .venv-importer)/bin:$$PATH $(abspath .venv-importer)/bin/python -m galaxy_importer.main \
		$(BUILD)/conductor-principals-*.tar.gz > importer.log 2>&1 || { cat importer.log; exit 1; }; \
	if grep -E '\b(WARNING|ERROR)\b' importer.log || ! grep -q 'Importer processing completed successfully' importer.log; then \
		echo "galaxy-importer: FAILED, see the lines above ($(BUILD)/galaxy-importer/importer.log)"; exit 1; fi; \
	echo "galaxy-importer: the tarball imports with no error and no warning"

# The documentation site as docs.ansible.com renders collections (antsibull-docs + Sphinx, tools/docs_site.py),
# into build/docs-site/build/html; a warning fails it.
docs-site: build .venv-docs/.installed
	@$(TIMED) ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) .venv-docs/bin/python tools/docs_site.py --dest $(BUILD)/docs-site

# The picture of the sp_credential page in docs/guide/awx.md (outside make test): headless Chromium from
# Debian, installed as root where missing.
docs-screenshot: build .venv-docs/.installed
	@command -v chromium >/dev/null || if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 install -y -q chromium; \
	else echo "docs-screenshot needs Chromium: apt-get install -y chromium" >&2; exit 1; fi
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) .venv-docs/bin/python tools/docs_site.py --dest $(BUILD)/docs-site \
		--screenshot docs/sp-credential-docs.png --page sp_credential_module

# ---- Event-Driven Ansible, as ansible-rulebook and EDA Controller run it (docs/guide/event-driven.md) -------------
# `make eda-test` runs extensions/eda/rulebooks/rotate_on_expiry.yml with ansible-rulebook (.venv-eda, pinned in
# tools/ee/requirements-eda.txt) against the sandbox (tests/integration/test_eda.py; `make integration` leaves
# that file out, as it needs .venv-eda and Java). ansible-rulebook's rule engine (Drools) needs Java 17:
# eda-host installs Debian's openjdk-17-jre-headless as root where no Java 17 or newer runs.
EDA_TESTS := tests/integration/test_eda.py tests/integration/test_de.py
EDA_JAVA := openjdk-17-jre-headless

.PHONY: eda-host eda-test
eda-host:
	@if java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])'; then \
		echo "eda-host: Java 17 or newer is installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get -o DPkg::Lock::Timeout=600 update -q && DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 install -y -q $(EDA_JAVA); \
	else echo "make eda-test: ansible-rulebook needs Java 17; install $(EDA_JAVA)" >&2; exit 1; fi

eda-test: build eda-host .venv-eda/.installed
	@$(TIMED) CONDUCTOR_EDA_BIN=$(abspath .venv-eda)/bin CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) \
		PATH=$(BIN):$$PATH PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/integration/test_eda.py

# `make de` builds the decision environment localhost/conductor-principals-de:<version> from the user's definition
# decision-environment/ as `make ee` builds the EE (tools/ee_build.py), on the EE image `make ee` has just built: its
# Debian, ansible-core, ansible-runner and collection are there, the build adds ansible-rulebook (PyPI) and Java 17
# (Debian, apt-get inside the build). `make de-test` runs the rulebook inside it with podman, as an EDA Controller
# activation runs, against the sandbox on the host (tests/integration/test_de.py). Part of `make test`, after ee-test
# (measured on 2 cores shared by a load of 15): `make de` 4-5 min after `make ee` at every build (nothing of it is
# reused: the EE image under it is new each time), `make de-test` 1 min.
DE_IMAGE := localhost/conductor-principals-de:$(shell sed -n 's/^version: *//p' galaxy.yml)
.PHONY: de de-test
de: ee
	@$(TIMED) .venv-ee/bin/python tools/ee_build.py --definition decision-environment/decision-environment.yml \
		--base-image $(EE_IMAGE) --tarball $(BUILD)/conductor-principals-*.tar.gz --work $(BUILD)/de --tag $(DE_IMAGE)

de-test: de
	@$(TIMED) CONDUCTOR_DE_IMAGE=$(DE_IMAGE) CONDUCTOR_TEST_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(BIN):$$PATH \
		PYTHONPATH=$(COLLECTIONS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/integration/test_de.py
