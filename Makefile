# Two commands on a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install migrate clean messages check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	GRILLE_DEV=1 $(PY) manage.py migrate --noinput
	GRILLE_DEV=1 $(PY) manage.py load_framework

run: migrate
	@echo "Grille démarre sur http://127.0.0.1:$(PORT) (Ctrl+C pour arrêter)"
	GRILLE_DEV=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "*** Chromium est absent ($(CHROMIUM)) : les tests dans un vrai navigateur seront ignorés."; \
	  echo "*** Installez-le avec : sudo apt-get install chromium   (Debian/Ubuntu)"; \
	fi
	$(PY) -m ruff check grille tests
	$(PY) -m pytest $(PYTEST_ARGS)

check: install
	$(PY) -m pytest -q -m "not browser"

messages: install
	cd grille && GRILLE_DEV=1 ../$(PY) ../manage.py makemessages -l en --no-obsolete && GRILLE_DEV=1 ../$(PY) ../manage.py compilemessages

clean:
	rm -rf $(VENV) var
