# Two commands on a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install migrate clean messages check bench chaos

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "== installation des dépendances dans $(VENV) (une à deux minutes la première fois)"
	$(PY) -m pip install --progress-bar on -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	GRILLE_DEV=1 $(PY) manage.py migrate --noinput
	GRILLE_DEV=1 $(PY) manage.py load_framework

# The web server and the task worker together; Ctrl+C stops both.
run: migrate
	@echo "Grille démarre sur http://127.0.0.1:$(PORT), avec son exécuteur de tâches (Ctrl+C pour arrêter)"
	@GRILLE_DEV=1 $(PY) manage.py worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	GRILLE_DEV=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "*** Chromium est absent ($(CHROMIUM)) : les tests dans un vrai navigateur seront ignorés."; \
	  echo "*** Installez-le avec : sudo apt-get install chromium   (Debian/Ubuntu)"; \
	fi
	$(PY) -m ruff check grille tests
	@echo "== layering (import-linter) and types (mypy)"
	$(VENV)/bin/lint-imports --no-cache
	GRILLE_DEV=1 $(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

# Never part of `make test`: gunicorn + PostgreSQL + locust, figures against floors (benchmarks/README.md).
# Quicker: make bench BENCH_ARGS="--quick --sizes 10000"
$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) -m benchmarks.bench $(BENCH_ARGS)

# Never part of `make test`: the heavy reliability tests (marker chaos) on PostgreSQL. They kill
# gunicorn workers, cut database connections and restart the PostgreSQL cluster (pg_ctlcluster).
CHAOS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
chaos: install
	DATABASE_URL=$(CHAOS_DATABASE_URL) $(PY) -m pytest --chaos -m chaos tests/reliability $(PYTEST_ARGS)

check: install
	$(PY) -m pytest -q -m "not browser"

# English is translated by hand in grille/locale/en. The French catalogue repeats the French
# source text (msgen): it exists so that plurals follow the French rule (0 and 1 are singular).
FR_PO := grille/locale/fr/LC_MESSAGES/django.po
messages: install
	cd grille && GRILLE_DEV=1 ../$(PY) ../manage.py makemessages -l en -l fr --no-obsolete
	sed -i -e '0,/^#, fuzzy$$/{/^#, fuzzy$$/d}' -e 's/^"Language: \\n"$$/"Language: fr\\n"/' $(FR_PO)
	msgattrib --clear-fuzzy --empty --clear-previous $(FR_PO) -o $(FR_PO)
	msgen $(FR_PO) -o $(FR_PO)
	cd grille && GRILLE_DEV=1 ../$(PY) ../manage.py compilemessages

clean:
	rm -rf $(VENV) var
