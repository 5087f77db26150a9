# Every target works from a fresh clone: it makes .venv itself on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
LEDGER ?= ledger/main.beancount
DATE   ?= 2025-09-30
MONTH  ?= 2025-09
OUT    ?= out
PORT   ?= 5000

.PHONY: install demo check position statement import fava bench test clean hooks

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installed once per change of pyproject.toml.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/s75 check ledger/main.beancount
	$(BIN)/s75 position ledger/main.beancount --date $(DATE)
	$(BIN)/s75 statement ledger/main.beancount --month $(MONTH) --out $(OUT)

check: install
	$(BIN)/s75 check $(LEDGER)

position: install
	$(BIN)/s75 position $(LEDGER) --date $(DATE)

statement: install
	$(BIN)/s75 statement $(LEDGER) --month $(MONTH) --out $(OUT)

import: install
	@test -n "$(FILES)" || { echo 'usage: make import FILES="extract.csv ..." [LEDGER=...]'; exit 1; }
	$(BIN)/s75 import $(FILES) --ledger $(LEDGER)

# Fava on this computer only (127.0.0.1). READ_ONLY=1 disables editing through Fava: use it
# whenever anyone other than you can reach the page (see README, "Browsing in Fava").
fava: install
	@echo "Fava: http://127.0.0.1:$(PORT)/ ("Pooled budget" in the left-hand menu)$(if $(READ_ONLY), read-only,)"
	$(BIN)/fava --host 127.0.0.1 --port $(PORT) $(if $(READ_ONLY),--read-only,) $(LEDGER)

# County scale: 250,000 and 500,000 transactions, each stage against bare bean-check (takes a while).
SIZES ?= 250000 500000
RUNS  ?= 5
bench: install
	$(BIN)/python -m bench.run --sizes $(SIZES) --runs $(RUNS)

test: install
	$(BIN)/python -m pytest

# The commit guard: git runs hooks/pre-commit before each commit, which refuses a commit whose ledger
# (ledger/main.beancount, or S75_LEDGER) fails `s75 check`. See docs/period-control.md, "The commit guard".
hooks:
	git config core.hooksPath hooks
	@echo "commit guard on: each commit runs s75 check on $${S75_LEDGER:-ledger/main.beancount} as staged (hooks/pre-commit)"

clean:
	rm -rf $(VENV) out *.egg-info
