# The two commands of the README: `make demo` and `make test`. Both create the virtual
# environment on first use, so a fresh clone needs nothing but python3 (>= 3.11).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo
DEMO_REPORTS ?= 2000

.PHONY: demo test install bench clean messages

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

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/tiptriage synth $(DEMO_DIR)/data --reports $(DEMO_REPORTS) --seed 7
	$(DEMO_ENV) $(BIN)/tiptriage bank import $(DEMO_DIR)/data/banks/vics.json --name vics --format vics
	$(DEMO_ENV) $(BIN)/tiptriage bank import $(DEMO_DIR)/data/banks/known.csv --name nl-known --format csv \
		--map A1=child_abuse --map A2=child_abuse --map B1=child_abuse --map B2=child_abuse --map NP=non_pertinent
	$(DEMO_ENV) $(BIN)/tiptriage ingest $(DEMO_DIR)/data/reports
	$(DEMO_ENV) $(BIN)/tiptriage reports list --limit 10
	$(DEMO_ENV) $(BIN)/tiptriage audit verify

test: $(STAMP)
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
