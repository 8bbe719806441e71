# vla_ros developer entry points. `make demo` runs the main job, `make test` the tests.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
BENCH ?=
PYTEST_ARGS ?=

.PHONY: setup test demo bench clean

setup:
	@mkdir -p .stamps && flock .stamps/setup.lock bash scripts/setup.sh

test: setup
	@$(ENV) python -m pytest -q $(PYTEST_ARGS)

demo: setup
	@$(ENV) python -m vla_ros.tools.demo

bench: setup
	@$(ENV) python -m bench $(BENCH)

clean:
	rm -rf build install log .stamps
