# The two commands of the README: `make demo` and `make test`. Both create the virtual
# environment on first use, so a fresh clone needs nothing but python3 (>= 3.11).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo
DEMO_REPORTS ?= 2000

.PHONY: demo demo-data test install bench clean messages messages

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The generated world's IP allocation and services' kinds, as a unit configures its own (synth/tables.py).
DEMO_ENV := TIPTRIAGE_DATABASE_URL=sqlite:///$(DEMO_DIR)/tiptriage.db \
	TIPTRIAGE_IP_COUNTRIES_FILE=$(DEMO_DIR)/data/tables/ip_countries.csv \
	TIPTRIAGE_SERVICES_FILE=$(DEMO_DIR)/data/tables/services.csv

# The demo's accounts (synthetic data only; the password is printed, so never use them elsewhere).
DEMO_PASSWORD := demo-wachtwoord
DEMO_USERS := analist:analyst teamleider:team_lead,analyst agent:officer invoer:intake auditor:auditor beheer:admin

# The main job: generated reports through the whole path, then the web application on them.
demo: demo-data
	@echo "tiptriage: http://127.0.0.1:8000/  (accounts: $(foreach u,$(DEMO_USERS),$(firstword $(subst :, ,$(u)))), password: $(DEMO_PASSWORD))"
	$(DEMO_ENV) TIPTRIAGE_WEB_SECURE_COOKIES=false $(BIN)/tiptriage serve --port 8000

# The same data without serving, for scripts.
demo-data: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/tiptriage synth $(DEMO_DIR)/data --reports $(DEMO_REPORTS) --seed 7
	$(DEMO_ENV) $(BIN)/tiptriage bank import $(DEMO_DIR)/data/banks/vics.json --name vics --format vics
	$(DEMO_ENV) $(BIN)/tiptriage bank import $(DEMO_DIR)/data/banks/known.csv --name nl-known --format csv \
		--map A1=child_abuse --map A2=child_abuse --map B1=child_abuse --map B2=child_abuse --map NP=non_pertinent
	$(DEMO_ENV) $(BIN)/tiptriage ingest $(DEMO_DIR)/data/reports
	$(DEMO_ENV) $(BIN)/tiptriage reports list --limit 10
	$(DEMO_ENV) $(BIN)/tiptriage audit verify
	for u in $(DEMO_USERS); do echo $(DEMO_PASSWORD) | $(DEMO_ENV) $(BIN)/tiptriage users add $${u%%:*} \
		--name $${u%%:*} --role $${u#*:} --password-stdin; done

# Browser tests drive Debian's Chromium; CI (root) installs it, elsewhere the tests say it is missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium); \
	else echo "Browser tests need Debian's Chromium: sudo apt-get install -y chromium"; fi

# The PDF work lists (WeasyPrint) need Pango; CI (root) installs it, elsewhere the tests say how.
PANGO := /usr/lib/x86_64-linux-gnu/libpango-1.0.so.0
$(PANGO):
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core || \
	(apt-get update -q && apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core); \
	else echo "PDF work lists need Pango: sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0"; fi

test: $(STAMP) $(CHROMIUM) $(PANGO)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 -q

# The message catalogues (README, "User text and translations"): the ids extracted from the code and
# from the CLI's help (babel.cfg), merged into each language's .po (new ids untranslated, changed ones
# fuzzy: both fail tests/test_catalogue.py until translated), compiled to the .mo that is committed.
# Locations name the file only and the output is sorted, so line moves change nothing.
LOCALE := src/tiptriage/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --sort-output --add-location=file --omit-header \
		-o $(LOCALE)/tiptriage.pot .
	$(BIN)/pybabel update -i $(LOCALE)/tiptriage.pot -d $(LOCALE) -D tiptriage --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALE) -D tiptriage --statistics

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var .pytest_cache
