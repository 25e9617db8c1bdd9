# The two commands of README.md:
#   make demo   set everything up (idempotent) and run the demo study with real QE
#   make test   set everything up (idempotent) and run lint, type check and the tests
WORK ?= $(CURDIR)/.work
VENV := $(WORK)/venv
export JANUS_WORK_DIR := $(WORK)
export AIIDA_PATH := $(WORK)/aiida
export PATH := $(VENV)/bin:$(PATH)
export OMP_NUM_THREADS := 1

.PHONY: demo test setup venv lint typecheck pytest pytest-slow

demo: setup
	aiida-janus demo

test: setup lint typecheck pytest

venv:
	bash scripts/bootstrap.sh

setup: venv
	aiida-janus setup

lint:
	ruff check .
	ruff format --check .

typecheck:
	mypy

pytest:
	pytest -m "not slow"

pytest-slow: setup
	pytest -m slow
