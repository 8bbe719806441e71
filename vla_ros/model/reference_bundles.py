"""
Foreign reference graphs made into bundles the way a person would (needs torch; ~1 s each).

Each maker exports its graph (:mod:`vla_ros.model.reference_graphs`), drafts its bundle.yaml
as ``vla-ros bundle init`` does (:func:`~vla_ros.core.bundle.draft.write_draft`), then makes
the few edits ``bundle init`` asks for -- joint names, stats, dt, the camera names, the action
slice and reference -- on the drafted bundle.yaml, as a person would with an editor. The stats
put the sim arm's home pose at the centre, so random weights move it little.
"""

from __future__ import annotations

from pathlib import Path

from vla_ros.constants import DEFAULT_ARM_JOINTS, DEFAULT_GRIPPER_JOINT
from vla_ros.core.bundle.draft import write_draft
from vla_ros.model.reference_act import export_act_full
from vla_ros.model.reference_graphs import (export_act, export_diffusion, export_pi0,
                                            write_tokenizer)
from vla_ros.rtc_guidance import RTCSettings
import yaml

JOINTS = [*DEFAULT_ARM_JOINTS, DEFAULT_GRIPPER_JOINT]
HOME = [0.0, 0.3, 1.3, 1.54, 0.0, 0.0, 0.02]  # sim home pose [rad], gripper half open [m]
UNITS = ['rad'] * 6 + ['m']


def init(onnx: Path, out: Path, *, tokenizer: Path | None = None) -> Path:
    """Draft OUT/bundle.yaml for ``onnx`` (what ``vla-ros bundle init`` writes); returns OUT."""
    write_draft(onnx, out, tokenizer=tokenizer)
    return out


def edit(bundle: Path, fn) -> Path:
    """Load bundle.yaml, let ``fn`` change it, write it back (the drafted comments go)."""
    raw = yaml.safe_load((bundle / 'bundle.yaml').read_text())
    fn(raw)
    (bundle / 'bundle.yaml').write_text(yaml.safe_dump(raw, sort_keys=False))
    return bundle


def _inputs(raw: dict) -> dict:
    return {i['name']: i['preprocessing'] for i in raw['inputs']}


def _state(pre: dict, *, std: float = 0.5) -> None:
    pre.update(joint_names=JOINTS, position_mean=HOME, position_std=[std] * 6 + [0.02])


def _actions(raw: dict, *, dt: float, mean: list, std: list, **more) -> None:
    raw['action'].update(names=JOINTS, units=UNITS, dt=dt,
                         normalization={'mean': mean, 'std': std}, **more)


def _act_fill(raw: dict, cameras: tuple[str, ...]) -> None:
    """Fill an ACT draft: state stats, ImageNet image stats, the 50 Hz absolute chunk."""
    ins = _inputs(raw)
    _state(ins['observation.state'])
    for c in cameras:
        ins[f'observation.images.{c}'].update(mean=[0.485, 0.456, 0.406],
                                              std=[0.229, 0.224, 0.225])
    _actions(raw, dt=0.02, mean=HOME, std=[0.05] * 6 + [0.005])
    raw['required_modalities'] = ['joints', *(f'image/{c}' for c in cameras)]


def make_act_bundle(out: Path, *, cameras: tuple[str, ...] = ('front',)) -> Path:
    """ACT-shaped: state + cameras (ImageNet stats), absolute chunk of 50 at 50 Hz."""
    onnx = export_act(out.parent / f'{out.name}_src' / 'act_policy.onnx', cameras=cameras)
    init(onnx, out)
    return edit(out, lambda raw: _act_fill(raw, cameras))


def make_pi0_bundle(out: Path, *, rtc: RTCSettings | None = None) -> Path:
    """
    pi0-shaped: stacked front + wrist in [-1, 1], prompt with the state, delta chunk.

    ``rtc``: with LeRobot's RTC guidance in the flow (``action_prefix`` with ``tail: planned``
    + ``prefix_mask``; the same weights as without).
    """
    src = out.parent / f'{out.name}_src'
    onnx = export_pi0(src / 'pi0_policy.onnx', rtc=rtc)
    init(onnx, out, tokenizer=write_tokenizer(src / 'tokenizer.json'))

    def fill(raw: dict) -> None:
        ins = _inputs(raw)
        ins['observation.images']['cameras'] = ['front', 'wrist']
        ins['observation.images']['resize'] = 'pad'
        ins['image_mask']['order'] = ['image/front', 'image/wrist']
        _state(ins['observation.state'])
        ins['input_ids'].update(prompt='task : {command} , state : {state} ; action :',
                                state_input='observation.state')
        _actions(raw, dt=0.02, mean=[0.0] * 6 + [0.02], std=[0.02] * 6 + [0.005],
                 slice=[0, 7], reference='delta_from_state', delta_joints=JOINTS[:6])
        raw['required_modalities'] = ['joints', 'image/front', 'language']
        if rtc is not None:
            ins['action_prefix'].clear()
            ins['action_prefix'].update(kind='action_prefix', max_delay=raw['action']['horizon']
                                        - 1, tail='planned')
            ins['prefix_mask'].clear()
            ins['prefix_mask'].update(kind='prefix_mask', prefix='action_prefix')
            raw['provenance'] = {'rtc': rtc.as_dict()}
    return edit(out, fill)


def make_diffusion_bundle(out: Path, *, spacing_s: float = 0.1) -> Path:
    """Diffusion-Policy-shaped with ``history: 2`` frames ``spacing_s`` apart."""
    onnx = export_diffusion(out.parent / f'{out.name}_src' / 'dp_policy.onnx')
    init(onnx, out)

    def fill(raw: dict) -> None:
        ins = _inputs(raw)
        _state(ins['observation.state'])
        raw['history']['spacing_s'] = spacing_s
        _actions(raw, dt=0.1, mean=HOME, std=[0.05] * 6 + [0.005])
        raw['required_modalities'] = ['joints', 'image/front']
    return edit(out, fill)


def make_act_full_bundle(out: Path, *, cameras: tuple[str, ...] = ('front', 'wrist'),
                         image: int = 96) -> Path:
    """ACT at LeRobot's default size (~34 M parameters): chunk of 100 at 50 Hz."""
    onnx = export_act_full(out.parent / f'{out.name}_src' / 'act_full_policy.onnx',
                           cameras=cameras, image=image)
    init(onnx, out)
    return edit(out, lambda raw: _act_fill(raw, cameras))
