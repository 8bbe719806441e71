# vla_ros developer entry points. `make demo` runs the main job, `make test` the tests.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
BENCH ?=
SMOKE ?=
PYTEST_ARGS ?=

.PHONY: setup test demo bench clean train eval demos fusion-study lerobot-env lerobot-act

# VLA_ROS_RAY=0 skips Ray Serve (requirements/ray.txt, for vla_inference backend ray): a robot
# never needs it.
setup:
	@mkdir -p .stamps && flock .stamps/setup.lock bash scripts/setup.sh

# TEST_WORKERS pytest-xdist workers (0: one process); test/conftest.py groups the tests
# (a module per worker; the LeRobot exports, bench smoke, namespaces and Ray on one) and gives
# each worker its own DDS domain. Two workers on 2 cores: most tests wait (DDS, process start).
# Default 0 (one process) until a quiet clean-clone run shows 2 workers green and faster.
TEST_WORKERS ?= 0
test: setup
	@$(ENV) python -m pytest -q -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

demo: setup
	@$(ENV) python -m vla_ros.cli.main demo

# Reproduce the default policy: expert demonstrations (lockstep sim, MCAP bags; half of them
# with DART noise on the executed arm targets) -> training (TRAIN_STEPS optimizer steps, batch
# 64, cosine schedule over them; ~55 min on one torch thread) -> models/default.
# TRAIN_EPISODES per task kind (every kind of `vla-ros record`; the shipped models/default
# predates the keyword task and was trained on the six core kinds) and per half. The recording uses
# config/sim.yaml with smaller, slower cameras and 50 Hz tactile/joints (TRAIN_SIM, printed;
# the bundle keeps them in provenance.recorded_with and eval/demo run the sim with them), and
# cube_physics=varied: hidden cube mass / friction / size, so the gentle task needs touch
# (docs/sim.md; the shipped models/default was recorded with fixed cubes).
TRAIN_EPISODES ?= 80
TRAIN_STEPS ?= 16834
TRAIN_THREADS ?= 1
TRAIN_HORIZON ?= 10
TRAIN_SIM ?= --image-size 96 --param camera_rate_hz=10 --param tactile_rate_hz=50 --param joint_rate_hz=50 --param cube_physics=varied
demos: setup
	@$(ENV) python -m vla_ros.cli.main record --expert lockstep --episodes $(TRAIN_EPISODES) --seed 30000 $(TRAIN_SIM) --out out/demos/clean
	@$(ENV) python -m vla_ros.cli.main record --expert lockstep --episodes $(TRAIN_EPISODES) --seed 40000 --noise 0.03 $(TRAIN_SIM) --out out/demos/dart

# DELAY_AWARE=1: train with an action prefix (`--delay-aware`, real-time chunking, docs/bundle.md
# "Action prefix"); TRAIN_OUT / TRAIN_WORK elsewhere to compare before replacing models/default,
# e.g. make train DELAY_AWARE=1 TRAIN_OUT=out/delay_aware TRAIN_WORK=out/train/delay_aware
DELAY_AWARE ?= 0
TRAIN_OUT ?= models/default
TRAIN_WORK ?= out/train/default
TRAIN_DELAY = $(if $(filter 1,$(DELAY_AWARE)),--delay-aware,)
train: demos
	@$(ENV) python -m vla_ros.cli.main train out/demos/clean out/demos/dart --out $(TRAIN_OUT) --work-dir $(TRAIN_WORK) --cache out/cache --minutes 0 --steps $(TRAIN_STEPS) --threads $(TRAIN_THREADS) --horizon $(TRAIN_HORIZON) --word-dropout 0.15 --model-id vla-sim-default --no-progress $(TRAIN_DELAY)

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
# vla_ros.cli.fusion_study (skips what is already in docs/results/fusion/). ~26 min of
# training per fusion on 2 cores (1 torch thread: 2 threads thrash when anything else runs).
FUSION_STEPS ?= 16834
FUSIONS ?= early late moe
FUSION_TRAIN = python -m vla_ros.cli.main train out/demos/clean out/demos/dart --cache out/cache --steps $(FUSION_STEPS) --threads 1 --word-dropout 0.15 --resume --no-progress
fusion-study: setup
	@test -d out/demos/dart || $(MAKE) demos
	@for f in $(FUSIONS); do test -f out/fusion/$$f/bundle.yaml || $(ENV) $(FUSION_TRAIN) --fusion $$f --out out/fusion/$$f --work-dir out/fusion/train/$$f --model-id vla-sim-$$f || exit 1; done
	@$(ENV) python -m vla_ros.cli.fusion_study --bundles out/fusion

# `make bench BENCH=sync` runs one; SMOKE=1 runs the smoke modes (seconds each, as make test does)
bench: setup
	@$(ENV) python -m bench $(if $(SMOKE),--smoke) $(BENCH)

clean:
	rm -rf build install log .stamps

# The LeRobot tooling venv alone (`make setup` makes it too): lerobot 0.4.4, torch 2.13 CPU.
lerobot-env:
	@bash scripts/setup_lerobot.sh

# The LeRobot round trip at full length (docs/lerobot.md), unattended: the `pick` demos of
# `make demos` -> LeRobotDataset -> LeRobot's ACT trainer (CPU, LEROBOT_STEPS) -> bundle ->
# closed-loop eval through the nodes on the test block. Needs the demos (`make demos`).
LEROBOT_STEPS ?= 4000
LEROBOT_OUT ?= out/lerobot
lerobot-act: setup
	@ls -d out/demos/clean/pick_* >/dev/null 2>&1 || { echo 'no demos: run `make demos` first'; exit 1; }
	@rm -rf $(LEROBOT_OUT)/pick $(LEROBOT_OUT)/act_run $(LEROBOT_OUT)/lerobot-act
	@$(ENV) python -m vla_ros.cli.main dataset export $(wildcard out/demos/clean/pick_*) $(wildcard out/demos/dart/pick_*) --out $(LEROBOT_OUT)/pick
	@$(ENV) python -m vla_ros.cli.main dataset train $(LEROBOT_OUT)/pick --out $(LEROBOT_OUT)/act_run --steps $(LEROBOT_STEPS) --batch-size 8 --chunk-size 20 --log-freq 100 --save-freq 1000
	@$(ENV) python -m vla_ros.cli.main export --from-lerobot $(LEROBOT_OUT)/act_run/checkpoints/last/pretrained_model --out $(LEROBOT_OUT)/lerobot-act
	@$(ENV) python -m vla_ros.cli.main eval $(LEROBOT_OUT)/lerobot-act --block test --kinds pick --episodes 30 --paraphrase-every 0 --name 'LeRobot ACT, $(LEROBOT_STEPS) steps' --json docs/results/lerobot/act_pick_test.json
