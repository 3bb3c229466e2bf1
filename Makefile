# The two commands of the README: `make demo` and `make test`. Both create the virtual
# environment on first use, so a fresh clone needs nothing but python3 (>= 3.11).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := var/demo
DEMO_REPORTS ?= 2000

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/tiptriage synth $(DEMO_DIR)/data --reports $(DEMO_REPORTS) --seed 7
	TIPTRIAGE_DATABASE_URL=sqlite:///$(DEMO_DIR)/tiptriage.db $(BIN)/tiptriage ingest $(DEMO_DIR)/data/reports
	TIPTRIAGE_DATABASE_URL=sqlite:///$(DEMO_DIR)/tiptriage.db $(BIN)/tiptriage reports list --limit 10
	TIPTRIAGE_DATABASE_URL=sqlite:///$(DEMO_DIR)/tiptriage.db $(BIN)/tiptriage audit verify

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var .pytest_cache
