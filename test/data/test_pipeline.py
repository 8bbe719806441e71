"""record (lockstep) -> MCAP bag -> samples through the sync core -> train -> bundle -> runtime."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.data import bagio
from vla_ros.data.datagen import generate, load_index
from vla_ros.harness.sim_config import sim_node_params
from vla_ros.model.dataset import bag_samples, find_bags
from vla_ros.model.train import default_policy_config, train, TrainConfig

# config/sim.yaml + the overrides `make train` records with (64 px to keep the test fast)
SIM_OVERRIDES = {'image_width': 64, 'image_height': 64, 'camera_rate_hz': 10.0,
                 'tactile_rate_hz': 50.0, 'joint_rate_hz': 50.0}


@pytest.fixture(scope='module')
def demos(tmp_path_factory):
    out = tmp_path_factory.mktemp('demos')
    sim = sim_node_params(SIM_OVERRIDES)
    recs = generate(out, kinds=['pick', 'beep'], episodes_per_kind=1, sim=sim)
    assert all(r.success for r in recs)
    return out


def test_bag_holds_the_teleop_topics(demos):
    bags = find_bags([demos])
    assert len(bags) == 2 == len(load_index(demos))
    counts: dict[str, int] = {}
    for topic, msgtype, t, msg in bagio.read_messages(bags[0]):
        counts[topic] = counts.get(topic, 0) + 1
        assert msgtype == bagio.DEFAULT_TOPICS[topic]
    # bags hold root-namespace names: /camera/front/image_raw, /vla/command, ...
    B = bagio.bag_topic
    for topic in (B(C.camera_topic('front')), B(C.camera_topic('wrist')), B(C.AUDIO_TOPIC),
                  B(C.TACTILE_TOPIC), B(C.JOINT_STATES_TOPIC), B(C.COMMAND_TOPIC),
                  bagio.ARM_TRAJECTORY_TOPIC, bagio.GRIPPER_COMMANDS_TOPIC):
        assert counts.get(topic, 0) > 0, topic
    # 10 Hz cameras, 50 Hz joints over the same span
    assert 4 <= counts[B(C.JOINT_STATES_TOPIC)] / counts[B(C.camera_topic('front'))] <= 6


def test_samples_align_actions_with_commands(demos):
    cfg = default_policy_config()
    bag = next(b for b in find_bags([demos]) if b.name.startswith('beep'))
    s = bag_samples(bag, cfg)
    assert len(s) > 20
    assert s.images.shape[1:] == (2, 3, 64, 64)
    assert np.all(s.presence == 1.0)            # every modality fresh in every frame
    assert set(s.commands) == {load_index(demos)[1].command}
    # the gripper closes during the demonstration, and the chunk sees it coming
    grip = s.actions[:, :, 6]
    assert grip.max() == pytest.approx(0.04) and grip.min() == pytest.approx(0.0)
    closing = np.where((grip[:, 0] > 0.03) & (grip[:, -1] < 0.01))[0]
    assert len(closing) > 0
    # frames at rest during the demonstrator's reaction time carry the chunk that starts the
    # motion (not "hold"): a told policy starts at once
    rest = np.all(np.abs(s.positions[:, :6] - s.positions[0, :6]) < 1e-6, axis=1)
    n_rest = int(np.argmin(rest))
    assert n_rest >= 2
    assert np.abs(s.actions[0, -1, :6] - s.positions[0, :6]).max() > 0.05
    assert np.allclose(s.actions[:n_rest - 1], s.actions[0])
    # the beep is audible in some frames' log-mel (1 kHz band much louder)
    band = s.mel[:, 8:14].astype(np.float32).max(axis=(1, 2))
    assert band.max() - np.median(band) > 3.0


@pytest.mark.timeout(180)
def test_train_export_and_runtime(demos, tmp_path):
    cfg = default_policy_config(d_model=32)
    res = train(TrainConfig(data=(str(demos),), out=str(tmp_path / 'bundle'), steps=3,
                            batch=8, cache_dir=str(tmp_path / 'cache'),
                            work_dir=str(tmp_path / 'work'), policy=cfg),
                log=lambda s: None, progress=False)
    assert res.steps == 3 and np.isfinite(res.losses).all()
    # the sensor settings of the recording travel with the bundle (eval re-creates them)
    recorded = load_bundle(res.bundle).manifest.provenance['recorded_with']
    assert {k: recorded[k] for k in SIM_OVERRIDES} == SIM_OVERRIDES
    assert recorded['cameras'] == ['front', 'wrist']
    assert (tmp_path / 'work' / 'checkpoint.pt').exists()
    rt = PolicyRuntime.from_bundle(res.bundle)
    m = rt.manifest
    assert m.cameras == ('front', 'wrist') and m.horizon == 10 and m.dt == pytest.approx(0.1)
    assert m.text_encoder['tokenizer']['kind'] == 'hf_tokenizers'
    # the cache was written and is reused
    assert len(list((tmp_path / 'cache').glob('*.npz'))) == 2
    # the exported text encoder tells commands apart (3 steps teach it nothing more; what
    # training teaches is checked on the default bundle below)
    a, b = rt.embed_text('pick up the red cube'), rt.embed_text('push the blue cube left')
    assert a.shape == (cfg.text_dim,) and np.abs(a - b).max() > 1e-3
    # the runtime accepts a frame assembled by the same sync core from the bag
    from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
    from vla_ros.model.dataset import sync_config_for
    log_ns = [0]  # the bag's log time is the clock its stamps are on (as bag replay does)
    sync = MultimodalSynchronizer(sync_config_for(cfg), clock=lambda: log_ns[0])
    from vla_ros.core import convert
    last = None
    for topic, _, t, msg in bagio.read_messages(find_bags([demos])[0]):
        log_ns[0] = t
        if hasattr(msg, 'header') and convert.stamp_to_ns(msg.header.stamp) == 0:
            continue  # t = 0: rejected by the stamp policy, as online
        if topic == bagio.bag_topic(C.camera_topic('front')):
            sync.add_image('front', convert.stamp_to_ns(msg.header.stamp),
                           convert.image_to_rgb8(msg))
            last = convert.stamp_to_ns(msg.header.stamp)
        elif topic == bagio.bag_topic(C.JOINT_STATES_TOPIC):
            n, p, v = convert.joint_state_to_arrays(msg)
            sync.add_joints(convert.stamp_to_ns(msg.header.stamp), n, p, v)
    frame = sync.assemble(last)
    # the bundle knows what it was trained on: its own commands run (others are refused)
    trained = rt.competence.spec.commands
    rt.set_command(trained[0])
    out = rt.infer(frame)
    # 6 arm joints, the gripper opening and the max effort the expert commands
    assert out.actions.shape == (10, 8) and np.isfinite(out.actions).all()


def test_an_interrupted_run_resumes_to_the_same_weights(demos, tmp_path):
    """State saved at step 4 of 6; a resumed run ends where the uninterrupted one did."""
    import torch
    from vla_ros.model.train_utils import load_train_state, TRAIN_STATE

    logs: list[str] = []

    def run(name: str, resume: bool):
        return train(TrainConfig(data=(str(demos),), out=str(tmp_path / name), steps=6, batch=8,
                                 cache_dir=str(tmp_path / 'cache'), checkpoint_every=4,
                                 work_dir=str(tmp_path / 'work'), resume=resume,
                                 policy=default_policy_config(d_model=32)),
                     log=logs.append, progress=False)
    whole = run('whole', resume=False)         # leaves the state of step 4 behind
    st = torch.load(tmp_path / 'work' / TRAIN_STATE, weights_only=False)
    assert st['step'] == 4 and len(st['losses']) == 4
    assert load_train_state(tmp_path / 'work' / TRAIN_STATE, {**st['signature'], 'steps': 7}) \
        is None                                # other settings: no resume
    logs.clear()
    resumed = run('resumed', resume=True)      # steps 5 and 6 only
    assert any('resumed from' in ln and 'at step 4' in ln for ln in logs), logs
    assert resumed.steps == whole.steps == 6
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-5)
    rt_w, rt_r = (PolicyRuntime.from_bundle(tmp_path / n) for n in ('whole', 'resumed'))
    feeds = rt_w.build_inputs(_frame_of(rt_w))
    assert np.allclose(rt_w.run_raw(feeds)['actions'], rt_r.run_raw(feeds)['actions'],
                       atol=1e-5)


def _frame_of(rt):
    import dataclasses
    from helpers.runtime_fixtures import full_frame
    f = full_frame(0)
    return dataclasses.replace(f, images={c: f.images['front'] for c in rt.manifest.cameras},
                               present={**f.present, **{f'image/{c}': True
                                                        for c in rt.manifest.cameras}})


def test_default_bundle_grounds_unseen_words_near_their_meaning(repo_root):
    """
    The default's grounded encoder puts commands with unseen words next to what they mean.

    Each command below has words no training phrasing contains (colour synonyms, other verbs
    and nouns, polite forms, reordered clauses); the competence check understands it and its
    nearest training command is the same task with the same colour.
    """
    rt = PolicyRuntime.from_bundle(repo_root / 'models' / 'default')
    cases = {'raise the crimson cube': 'lift the red cube',
             'the jade cube, touch it': 'touch the green cube',
             'grab the navy box and lift it': 'grab the blue cube and lift it',
             'shove the blue cube left': 'push the blue cube left',
             'poke the green cube': 'touch the green cube',
             'nudge the scarlet cube to the right': 'slide the red cube to the right',
             'please hold the azure cube until the beep, then let go':
                 'hold the blue cube until the beep, then let go',
             'gently pick up the emerald cube': 'gently pick up the green cube',
             # 'brick' is also a colour name: after a colour it is the noun
             'push the blue brick to the right': 'push the blue block to the right'}
    for text, nearest in cases.items():
        v = rt.judge_command(text)
        assert v.understood and v.nearest == nearest, (text, v)
    # ... and commands outside the training set are refused
    for text in ('make me a sandwich', 'pick up the purple cube', 'open the drawer'):
        assert not rt.judge_command(text).understood, text


def test_word_dropout_keeps_cls_sep_padding_colours_and_some_words():
    import torch

    from vla_ros.model.text_table import drop_words
    from vla_ros.model.wordbag import tokenize
    ids, mask = tokenize(['pick up the red cube', 'push the green block to the left'])
    g = torch.Generator().manual_seed(0)
    keep = (ids == ids[0, 4]) & (mask > 0)             # 'red' (piece 4 after [CLS])
    dropped = 0
    for _ in range(50):
        out = drop_words(mask, 0.5, g, keep)
        assert torch.all(out <= mask)                       # padding stays padding
        lengths = mask.sum(1)
        assert torch.all(out[:, 0] == 1)
        assert torch.all(out[torch.arange(2), lengths - 1] == 1)
        assert torch.all(out.sum(1) > 2)                    # at least one word survives
        assert torch.all(out[keep] == 1)                    # kept pieces are never dropped
        dropped += int((mask - out).sum())
    assert dropped > 50
    assert torch.equal(drop_words(mask, 0.0, g), mask)


@pytest.mark.timeout(240)
def test_cli_train_then_export_checkpoint_inspect_and_infer(demos, tmp_path, monkeypatch,
                                                            capsys):
    """
    Train, export the checkpoint, inspect the bundle and infer once.

    `vla-ros train` writes only under the directories it is given; `vla-ros export
    --checkpoint` takes the checkpoint it wrote; provenance matches the config; one inference.
    """
    import re

    from vla_ros.cli.main import main
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.core.frame import Frame, TactileLayout
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = tmp_path / 'out' / 'tiny'
    assert main(['train', str(demos), '--out', str(out), '--steps', '4', '--batch', '8',
                 '--d-model', '32', '--no-progress']) == 0
    printed = capsys.readouterr().out
    ck = tmp_path / 'out' / 'train' / 'tiny' / 'checkpoint.pt'
    assert ck.is_file() and str(ck) in printed
    assert len(list((tmp_path / 'out' / 'cache').glob('*.npz'))) == 2
    assert list(cwd.iterdir()) == []  # nothing relative to the current directory
    # the log line and the summary report the same steps and losses
    losses = re.findall(r'loss \(mean of 50 steps\) ([0-9.]+) -> ([0-9.]+)', printed)
    assert len(losses) == 2 and losses[0] == losses[1], printed
    assert 'trained 4 steps' in printed and 'training    4 steps' in printed
    trained = load_bundle(out).manifest
    assert trained.provenance['config']['text_encoder'] == 'grounded'
    assert trained.provenance['text_encoder'].startswith('grounded')
    assert trained.text_encoder['competence']['commands']   # the training commands
    assert trained.provenance['final_loss'] == pytest.approx(float(losses[0][1]), abs=1e-4)

    exported = tmp_path / 'exported'
    assert main(['export', '--checkpoint', str(ck), '--out', str(exported)]) == 0
    m = load_bundle(exported).manifest
    assert m.provenance['config']['text_encoder'] == 'grounded' == m.provenance['text_encoder']
    assert m.text_encoder['competence'] == trained.text_encoder['competence']
    assert m.text_encoder['tokenizer']['kind'] == 'hf_tokenizers'
    assert m.action_mean == trained.action_mean
    capsys.readouterr()
    assert main(['inspect', str(exported)]) == 0
    assert 'hf_tokenizers' in capsys.readouterr().out

    rng = np.random.default_rng(0)
    joints = trained.joint_names
    frame = Frame(
        stamp_ns=1_000_000_000,
        images={c: rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for c in ('front', 'wrist')},
        audio=rng.uniform(-0.3, 0.3, 16000).astype(np.float32), audio_rate=16000,
        tactile=rng.uniform(0, 2, 32).astype(np.float32),
        tactile_layout=TactileLayout(('left_finger', 'right_finger'), ((4, 4, 1), (4, 4, 1))),
        joint_names=joints, joint_positions=rng.uniform(-1, 1, len(joints)),
        joint_velocities=np.zeros(len(joints)), command='pick up the red cube',
        present={'image/front': True, 'image/wrist': True, 'audio': True, 'tactile': True,
                 'joints': True})
    a = PolicyRuntime.from_bundle(exported).infer(frame).actions
    b = PolicyRuntime.from_bundle(out).infer(frame).actions
    assert a.shape == (10, 8) and np.isfinite(a).all()   # with the gripper's max effort
    assert np.allclose(a, b, atol=1e-4)  # the same weights, through either route
