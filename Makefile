# vla_ros developer entry points. `make demo` runs the main job, `make test` the tests.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
BENCH ?=
PYTEST_ARGS ?=

.PHONY: setup test demo bench clean train eval demos fusion-study

setup:
	@mkdir -p .stamps && flock .stamps/setup.lock bash scripts/setup.sh

test: setup
	@$(ENV) python -m pytest -q $(PYTEST_ARGS)

demo: setup
	@$(ENV) python -m vla_ros.tools.demo

# Reproduce the default policy: expert demonstrations (lockstep sim, MCAP bags; half of them
# with DART noise on the executed arm targets) -> training (<= 30 min on 2 CPU cores) ->
# models/default. TRAIN_EPISODES per task kind (6 kinds) and per half. The recording uses
# config/sim.yaml with smaller, slower cameras and 50 Hz tactile/joints (TRAIN_SIM, printed;
# the bundle keeps them in provenance.recorded_with and eval/demo run the sim with them).
TRAIN_EPISODES ?= 80
TRAIN_MINUTES ?= 25
TRAIN_SIM ?= --image-size 96 --param camera_rate_hz=10 --param tactile_rate_hz=50 --param joint_rate_hz=50
demos: setup
	@$(ENV) python -m vla_ros.cli.main record --expert lockstep --episodes $(TRAIN_EPISODES) --seed 30000 $(TRAIN_SIM) --out out/demos/clean
	@$(ENV) python -m vla_ros.cli.main record --expert lockstep --episodes $(TRAIN_EPISODES) --seed 40000 --noise 0.03 $(TRAIN_SIM) --out out/demos/dart

train: demos
	@$(ENV) python -m vla_ros.cli.main train out/demos/clean out/demos/dart --out models/default --work-dir out/train/default --cache out/cache --minutes $(TRAIN_MINUTES) --steps 100000 --threads 2 --word-dropout 0.15 --model-id vla-sim-default

# The published evaluation of models/default (docs/eval.md), unattended (~40 min on 2 cores):
# test-block seeds, EVAL_EPISODES per kind with training phrasings and the same seeds with
# held-out words, then EVAL_ABLATION per kind with one modality masked; the per-episode JSON
# goes to docs/results/eval/ and the report is regenerated from it.
EVAL_EPISODES ?= 20
EVAL_ABLATION ?= 10
EVAL_OUT ?= docs/results/eval
EVAL = python -m vla_ros.cli.main eval models/default --block test
eval: setup
	@$(ENV) $(EVAL) --episodes $(EVAL_EPISODES) --paraphrase-every 0 --name 'training phrasings' --json $(EVAL_OUT)/test_training.json
	@$(ENV) $(EVAL) --episodes $(EVAL_EPISODES) --paraphrase-every 1 --language held_out_words --name 'held-out words' --json $(EVAL_OUT)/test_held_out_words.json
	@for m in tactile audio language image; do $(ENV) $(EVAL) --episodes $(EVAL_ABLATION) --paraphrase-every 0 --mask $$m --json $(EVAL_OUT)/test_mask_$$m.json || exit 1; done
	@$(ENV) python -m vla_ros.cli.main eval --report $(EVAL_OUT)/test_training.json $(EVAL_OUT)/test_held_out_words.json $(patsubst %,$(EVAL_OUT)/test_mask_%.json,tactile audio language image) --md docs/eval.md --png docs/img/eval.png

# The fusion study (docs/fusion.md), unattended and resumable: early, late and moe trained on
# the default's demonstrations with its budget (FUSION_STEPS optimizer steps, batch 64, seed 0,
# word dropout 0.15; cross_attention is models/default itself), each run continuing from its
# last 1000-step state when interrupted (--resume), then evaluated by
# vla_ros.tools.fusion_study (skips what is already in docs/results/fusion/). ~26 min of
# training per fusion on 2 cores (1 torch thread: 2 threads thrash when anything else runs).
FUSION_STEPS ?= 16834
FUSIONS ?= early late moe
FUSION_TRAIN = python -m vla_ros.cli.main train out/demos/clean out/demos/dart --cache out/cache --steps $(FUSION_STEPS) --threads 1 --word-dropout 0.15 --resume --no-progress
fusion-study: setup
	@test -d out/demos/dart || $(MAKE) demos
	@for f in $(FUSIONS); do test -f out/fusion/$$f/bundle.yaml || $(ENV) $(FUSION_TRAIN) --fusion $$f --out out/fusion/$$f --work-dir out/fusion/train/$$f --model-id vla-sim-$$f || exit 1; done
	@$(ENV) python -m vla_ros.tools.fusion_study --bundles out/fusion

bench: setup
	@$(ENV) python -m bench $(BENCH)

clean:
	rm -rf build install log .stamps
