# The two commands of the README: `make run` starts the studio, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test test-sqlite test-postgres test-setup lint lock install install-dev chromium fonts clean messages compile-messages
# One thing at a time: the two test runs each use both cores already.
.NOTPARALLEL:

run: install
	$(PY) manage.py runstudio

# `make test` runs every test twice: on SQLite with the database as the queue's broker (what `make run`
# uses), then on the local PostgreSQL and Redis, which scripts/test-services starts if they are down.
# `make test-sqlite` or `make test-postgres` runs one of the two; PYTEST_ARGS adds pytest's options,
# e.g. `make test-postgres PYTEST_ARGS="tests/studio/test_gallery.py -x"`.
# --no-loadscope-reorder keeps the order tests/conftest.py sets (the long browser modules first) instead of
# xdist's "most tests first", which left the few-but-slow browser modules for the end, on one worker.
PYTEST := $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder -q
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/sorastudio
TEST_REDIS_URL := redis://127.0.0.1:6379/0

test: test-sqlite test-postgres

test-sqlite: test-setup
	DATABASE_URL= REDIS_URL= Q_CLUSTER_NAME= $(PYTEST) $(PYTEST_ARGS)

test-postgres: test-setup
	scripts/test-services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) Q_CLUSTER_NAME= $(PYTEST) $(PYTEST_ARGS)

test-setup: install-dev chromium fonts
	$(PY) manage.py collectstatic --noinput -v 0

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy sorastudio tests
	$(VENV)/bin/lint-imports --no-cache

# After changing user-facing strings: `make messages`, translate the new entries of
# sorastudio/locale/zh_Hans/LC_MESSAGES/django.po, then `make compile-messages` and commit both files.
# Both need GNU gettext; nothing else does, since the compiled django.mo is committed (tests/test_i18n.py
# fails when it no longer matches the .po).
messages: install-dev
	$(PY) manage.py makemessages -l zh_Hans --ignore ".venv/*" --ignore "tests/*" --ignore "sorastudio/simulator/*"

compile-messages: install-dev
	$(PY) manage.py compilemessages --ignore ".venv/*"

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.lock pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium; Playwright's own browser download cannot work offline.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# The simulator draws prompts in any script (sorastudio/simulator/fonts.py) and the browser tests show Chinese
# pages: Noto for Latin, Hebrew and Arabic, CJK and colour emoji. Installed only when a file is missing.
NOTO_FONTS := /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf

fonts:
	@for file in $(NOTO_FONTS); do [ -f "$$file" ] || missing=1; done; [ -z "$$missing" ] || { \
	  echo "Installing Debian's Noto fonts for the simulator and the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji >/dev/null; }

lock: $(VENV)/bin/python
	$(PIP) install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-header --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-header --no-emit-index-url --no-emit-find-links --extra dev -c requirements.lock -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) staticfiles
