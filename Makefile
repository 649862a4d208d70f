# Roundtable: `make demo` to see it, `make test` to prove it.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP_QUIET := --quiet --disable-pip-version-check --no-warn-script-location
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench services browser imap fonts gettext spamassassin install clean test-other-pythons

# The other Pythons the project supports. `make test` runs the whole suite on $(PYTHON) and the
# mail, calendar and web tests (where header folding and formatting differ between versions) on
# each of these, in a virtualenv of its own (.venv-3.12, .venv-3.13).
OTHER_PYTHONS ?= 3.12 3.13
VERSION_TESTS := tests/mail tests/calendar tests/web tests/test_compose.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_QUIET) -e '.[test]' 2> >(grep -v "is ignored: it is neither" >&2)
	touch $(STAMP)

install: $(STAMP)

# `make demo PORT=8080` serves elsewhere than :8000.
demo: install
	$(BIN)/roundtable demo $(if $(PORT),--port $(PORT))

# Tests use the real PostgreSQL and Redis: start them when installed but stopped.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && { \
	    echo "starting PostgreSQL"; \
	    pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n1)" main start; \
	    for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }; \
	  pg_isready -q -h 127.0.0.1 -p 5432 || echo "warning: PostgreSQL is not running" >&2; }
	@redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG || { \
	  command -v redis-server >/dev/null && { \
	    echo "starting Redis"; mkdir -p /var/lib/redis /var/log/redis; \
	    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
	      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; \
	    for i in $$(seq 30); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 1; done; }; \
	  redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG || echo "warning: Redis is not running" >&2; }

lint: install
	$(BIN)/ruff check src workers tests bench migrations
	$(BIN)/mypy src workers bench

# The browser tests drive Debian's chromium; install it when missing (they skip loudly
# where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { \
	    echo "installing chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  command -v chromium >/dev/null 2>&1 || echo "warning: no chromium; the browser tests will be skipped" >&2; }

# The inbound tests start Debian's Dovecot from a throwaway configuration; install it when
# missing (without it they fail with a message that says how to install it).
imap:
	@command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { \
	    echo "installing dovecot-imapd for the inbound tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }; \
	  command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || echo "warning: no dovecot; the inbound tests will fail" >&2; }

# Badges and place cards print with WeasyPrint (Pango), and the Arabic and Chinese screenshots
# render, in Noto fonts that cover the six languages; install them when missing, like chromium.
fonts:
	@{ fc-list 2>/dev/null | grep -q "Noto Sans CJK" && fc-list | grep -q "Noto Naskh Arabic" \
	   && ldconfig -p 2>/dev/null | grep -q libpangoft2; } || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { \
	    echo "installing Noto fonts and Pango for the printed badges"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      fonts-noto-core fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }; \
	  fc-list 2>/dev/null | grep -q "Noto Sans CJK" || echo "warning: no Noto CJK font; badges will lack Chinese" >&2; }

# The catalog test runs GNU gettext's `msgfmt -c` on every catalog; install it when missing.
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { \
	    echo "installing gettext for the catalog test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }; \
	  command -v msgfmt >/dev/null 2>&1 || echo "warning: no msgfmt; the catalog test will fail" >&2; }

# A mail test reads the delivered invitation with SpamAssassin (locally, no network rules);
# install it when missing.
spamassassin:
	@command -v spamassassin >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { \
	    echo "installing spamassassin for the spam-rule test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends spamassassin >/dev/null; }; \
	  command -v spamassassin >/dev/null 2>&1 || echo "warning: no spamassassin; the spam-rule test will fail" >&2; }

test: install services browser imap fonts gettext spamassassin lint
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-other-pythons

# Each interpreter is found on PATH or among pyenv's versions; one that is missing is named
# loudly and skipped, as the project's own files cannot install an interpreter here.
test-other-pythons: services browser imap fonts gettext spamassassin
	@set -e; for version in $(OTHER_PYTHONS); do \
	  python=""; \
	  for candidate in "python$$version" $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$version"*/bin/python$$version 2>/dev/null); do \
	    if "$$candidate" -c 'import sys' >/dev/null 2>&1; then python="$$candidate"; break; fi; \
	  done; \
	  if [ -z "$$python" ]; then echo "warning: no Python $$version found; its tests are skipped" >&2; continue; fi; \
	  venv=".venv-$$version"; \
	  if [ ! -f "$$venv/.installed" ] || [ pyproject.toml -nt "$$venv/.installed" ]; then \
	    echo "installing into $$venv ($$("$$python" --version))"; \
	    "$$python" -m venv "$$venv"; \
	    "$$venv/bin/pip" install $(PIP_QUIET) -e '.[test]' 2> >(grep -v "is ignored: it is neither" >&2); \
	    touch "$$venv/.installed"; \
	  fi; \
	  echo "Python $$version: $(VERSION_TESTS)"; \
	  "$$venv/bin/pytest" -q -p no:cacheprovider $(VERSION_TESTS); \
	done

bench: install services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-3.* var .pytest_cache .mypy_cache .ruff_cache test-artifacts
