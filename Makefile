# decenter-fog: `make demo` and `make test` work from nothing on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ANSIBLE_PLAYBOOK := $(VENV)/bin/ansible-playbook
STAMPS := .make
# The Debian packages and what each is for: apt-packages.txt (molecule and a test check the same list).
APT_PACKAGES := $(shell awk '!/^\#/ && NF {print $$1}' apt-packages.txt)
REQUIREMENTS := requirements.txt $(wildcard apps/*/requirements.txt)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup apt venv npm ansible-test-cache contracts contracts-check test demo gui lab-down bench clean

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
	@test -x $(PY) || python3 -m venv $(VENV)
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

# Two workers, one test file each (a file shares its lab or server); the slowest tests are listed at the end.
PYTEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile --durations=25 tests

demo: setup
	$(ANSIBLE_PLAYBOOK) playbooks/lab_up.yml
	$(ANSIBLE_PLAYBOOK) federate.yml
	$(ANSIBLE_PLAYBOOK) playbooks/demo_report.yml

# The Resource Selector GUI on loopback, for the lab's buyer (provider A).
gui: setup
	$(PY) -m apps.resource_selector --inventory inventories/lab

lab-down:
	$(ANSIBLE_PLAYBOOK) playbooks/lab_down.yml

bench: setup
	PYTHONPATH=. $(PY) bench/run_all.py

clean: lab-down
	rm -rf $(STAMPS) .lab
