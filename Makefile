# 法律服务助手: `make run` starts everything on embedded defaults, `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
RASA := $(RASA_VENV)/bin/rasa
MODEL := models/current.tar.gz
# Rasa's telemetry and error reporting would call out to segment.io and sentry.io: never.
export RASA_TELEMETRY_ENABLED := false
# Debian's chromium for the console browser test (Playwright never downloads a browser).
CHROMIUM := /usr/bin/chromium
# The held-out NLU test set (nlu_data/test) never goes into training.
NLU_TRAIN := $(sort $(filter-out nlu_data/test/%,$(shell find nlu_data -name '*.yml')))
TRAIN_INPUTS := bot/config.yml $(sort $(wildcard bot/domain/*.yml bot/data/*.yml bot/components/*.py)) \
                $(NLU_TRAIN) $(sort $(wildcard nlu_data/jieba/*))
RASA_DATA := --domain bot/domain --data bot/data $(NLU_TRAIN) --config bot/config.yml
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help run test lint test-py test-rasa train eval bench test-scale venvs lock rasa-lock clean

help:
	@echo "make run    start Rasa, the action server and the gateway (http://127.0.0.1:8080/)"
	@echo "make test   lint, service tests (SQLite + PostgreSQL, Redis, end to end), Rasa checks"
	@echo "make train  retrain the Rasa model if its inputs changed"
	@echo "make eval   NLU and conversation evaluation with a baseline, into reports/"
	@echo "make bench  load benchmark (PostgreSQL + Redis), into reports/bench.json and .png"

run: venvs $(MODEL)
	@scripts/run.sh

test: venvs $(MODEL) $(CHROMIUM) lint test-py test-rasa

venvs: $(VENV)/.installed $(RASA_VENV)/.installed

# Service runtime (Python 3.11): reinstalled when pyproject.toml or the lock changes.
$(VENV)/.installed: pyproject.toml constraints.txt
	@py=$$(scripts/find-python 3.11); \
	if [ ! -x $(VENV)/bin/python ] || ! $(VENV)/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11)'; then \
	  rm -rf $(VENV); echo "creating $(VENV) with $$py"; $$py -m venv $(VENV); fi
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --progress-bar on -c constraints.txt -e '.[dev]'
	@touch $@

# Engine runtime (Python 3.10, Rasa 3.6): its own venv, never imported by service code.
$(RASA_VENV)/.installed: bot/requirements.txt bot/constraints.txt
	@py=$$(scripts/find-python 3.10); \
	if [ ! -x $(RASA_VENV)/bin/python ] || ! $(RASA_VENV)/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)'; then \
	  rm -rf $(RASA_VENV); echo "creating $(RASA_VENV) with $$py"; $$py -m venv $(RASA_VENV); fi
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip
	$(RASA_VENV)/bin/pip install --progress-bar on -c bot/constraints.txt -r bot/requirements.txt
	@touch $@

train: $(MODEL)

# Retrained only when a training input changed (make compares file times). The model takes
# the time training started, so an input edited during training is newer and retrains it.
$(MODEL): $(RASA_VENV)/.installed $(TRAIN_INPUTS)
	@mkdir -p models
	@touch models/.train-started; start=$$(date +%s); \
	$(RASA) train $(RASA_DATA) --out models --fixed-model-name current; \
	echo "$$(( $$(date +%s) - start ))" > models/train-seconds.txt; \
	echo "model trained in $$(cat models/train-seconds.txt)s"
	@touch -r models/.train-started $@

# Installed only when missing (root, as on CI and the developers' machines); the CJK font
# makes the screenshots readable.
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
	  fonts-noto-cjk

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Every test, the two-replica scale-out test included (a bare `pytest` skips that one).
test-py: $(VENV)/.installed $(MODEL)
	SCALE_TEST=1 $(VENV)/bin/pytest

test-rasa: $(RASA_VENV)/.installed $(MODEL)
	$(RASA) data validate --fail-on-warnings $(RASA_DATA)
	$(RASA) test core --model $(MODEL) --stories bot/tests --fail-on-prediction-errors \
	  --out var/rasa-results

eval: $(RASA_VENV)/.installed $(MODEL)
	$(RASA_VENV)/bin/python scripts/eval.py

# Load benchmark on PostgreSQL + Redis (needs both, like make test): reports/bench.json + .png.
bench: venvs $(MODEL)
	$(VENV)/bin/python -m bench

# Scale-out: two Rasa replicas (one killed halfway), two gateways; ~2.5 GB of memory.
test-scale: venvs $(MODEL)
	SCALE_TEST=1 $(VENV)/bin/pytest -q tests/e2e/test_replicas.py

lock: $(VENV)/.installed
	@(echo "# Exact versions of the service runtime (pip freeze of .venv); regenerate with 'make lock'."; \
	  $(VENV)/bin/pip freeze --exclude-editable | grep -v '^-e') > constraints.txt

rasa-lock: $(RASA_VENV)/.installed
	@(echo "# Exact versions of the engine runtime (pip freeze of .venv-rasa); regenerate with 'make rasa-lock'."; \
	  $(RASA_VENV)/bin/pip freeze --exclude-editable | grep -v '^-e') > bot/constraints.txt

clean:
	rm -rf $(VENV) $(RASA_VENV) models var .mypy_cache .pytest_cache .ruff_cache
