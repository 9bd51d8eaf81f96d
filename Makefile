# decenter-fog: `make demo` and `make test` work from nothing on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ANSIBLE_PLAYBOOK := $(VENV)/bin/ansible-playbook
STAMPS := .make
# The Debian packages and what each is for: apt-packages.txt (molecule and a test check the same list).
APT_PACKAGES := $(shell awk '!/^\#/ && NF {print $$1}' apt-packages.txt)
REQUIREMENTS := requirements.txt $(wildcard apps/*/requirements.txt)
# The venv's Python is Debian's CPython 3.11 (python3.11-venv, apt-packages.txt), one statically linked binary. The
# `python3` first on PATH on our machines is pyenv's default build (libpython3.11.so, no --enable-optimizations):
# the same tests took 14% more CPU on it (bench/python_build.md).
VENV_PYTHON := /usr/bin/python3.11
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# ansible-rulebook (the Resource Seller's agent) runs its rules engine on Java 17.
export JAVA_HOME ?= /usr/lib/jvm/java-17-openjdk-amd64

.PHONY: setup apt venv npm ansible-test-cache contracts contracts-check test lint demo gui lab-down bench clean

setup: apt venv npm ansible-test-cache

# Debian packages: installed only when one is missing (no kernel: --no-install-recommends).
apt:
	@if ! dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | grep -qv 'install ok installed' \
	   && [ "$$(dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | wc -l)" -eq "$(words $(APT_PACKAGES))" ]; then \
	  echo "apt: all packages present"; \
	else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

venv: $(STAMPS)/venv
$(STAMPS)/venv: $(REQUIREMENTS)
	@# A venv on another Python (older Makefiles took the python3 first on PATH) is made anew on VENV_PYTHON.
	@test -x $(VENV_PYTHON) || { echo "$(VENV_PYTHON) is missing: run make apt (python3.11-venv)" >&2; exit 1; }
	@grep -qx 'executable = $(VENV_PYTHON)' $(VENV)/pyvenv.cfg 2>/dev/null || { rm -rf $(VENV); $(VENV_PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(addprefix -r ,$(REQUIREMENTS))
	@mkdir -p $(STAMPS) && touch $@

npm: $(STAMPS)/npm
$(STAMPS)/npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# ansible-test sanity bootstraps pip from the internet; serve it a local pip wheel instead (offline).
ansible-test-cache: venv
	$(PY) tests/quality/ansible_test_bootstrap.py

# Recompile the REB and rewrite its committed artifacts.
contracts: npm
	node contracts/compile.js

contracts-check: npm
	node contracts/compile.js --check

# One test file per worker (a file shares its lab or server; the files on the shared lab are one group, first, see
# tests/conftest.py); the slowest tests are listed at the end. Three workers on
# our two cores: at two the CPUs idled 15% of the run (tests wait for blocks, services and labs) and it took 809-825 s
# (3 runs), at three 777-833 s (3 runs, 94% busy), at four 869 s (99% busy, 19% more CPU for the same tests). With
# decenter.fog.gc_freeze (less CPU per playbook run): 633 s at three, 666 s at four (99% busy). With the shared lab:
# 578 s at three (clean clone); 578-609 s over six clean-clone runs since, CPU-bound at about 1,090 core-s.
PYTEST_WORKERS ?= 3
test: setup
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25 tests

# The quality gates alone (ansible-lint, ansible-test sanity, galaxy build, ansible-doc, AWX, setup lists); `make test`
# runs them too, beside the other tests.
lint: setup
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder tests/quality

# The lab operator runs with both organizations' inventories; each organization with its own, through bin/org-run,
# which hides the other organization's secrets (.lab/orgs/<other>) under an empty tmpfs.
LAB_INVENTORIES := -i inventories/lab/provider_a -i inventories/lab/provider_b
AS_PROVIDER_A := bin/org-run provider_a -- $(ANSIBLE_PLAYBOOK) -i inventories/lab/provider_a

# 1. the operator builds the lab and provider B's agent starts (it publishes B's offers, then answers by itself);
# 2. provider A federates with its own inventory only; 3. the report; 4. the proof that each side is blind to the
# other's secrets (a read fails loudly).
demo: setup
	$(ANSIBLE_PLAYBOOK) $(LAB_INVENTORIES) playbooks/lab_up.yml
	$(AS_PROVIDER_A) federate.yml
	$(AS_PROVIDER_A) playbooks/demo_report.yml
	@pid=$$(cat .lab/orgs/provider_b/agent/agent.pid) && \
	  if nsenter -t "$$pid" -m cat .lab/orgs/provider_a/wallet.yml >/dev/null; then \
	    echo "provider B's agent can read provider A's wallet: the separation is broken" >&2; exit 1; \
	  else echo "provider B's agent (pid $$pid) cannot read provider A's wallet (above: the error it gets)"; fi

# The Resource Selector GUI on loopback, for the lab's buyer (provider A), as provider A sees the machine.
gui: setup
	bin/org-run provider_a -- $(PY) -m apps.resource_selector --inventory inventories/lab/provider_a

lab-down:
	$(ANSIBLE_PLAYBOOK) $(LAB_INVENTORIES) playbooks/lab_down.yml

bench: setup
	PYTHONPATH=. $(PY) bench/run_all.py

clean: lab-down
	rm -rf $(STAMPS) .lab
