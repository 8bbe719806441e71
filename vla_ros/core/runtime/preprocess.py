"""
Frame -> model inputs, one builder per input kind (ROS- and torch-free).

:class:`InputBuilder` turns a synchronized :class:`~vla_ros.core.frame.Frame` into the
batch-1 feeds of a bundle's graph, for both contract versions (docs/bundle.md). Version-2
kinds: ``image`` / ``image_stack`` with value range, uint8, HWC and aspect-keeping ``pad``
resize; ``joints`` with ``pad_to``; ``text_tokens`` / ``token_mask``; ``noise`` seeded per
frame stamp (the same frame gives the same noise: a run and its replay agree); and the
``history`` axis.

History: the sync core assembles the past frames from its stream buffers at ``stamp - i *
spacing_s`` (:attr:`Frame.history`, oldest first) -- what the sensors said then, whatever the
inference rate. A slot not observed yet (start-up, a gap, no history in the frame) repeats the
nearest newer observed frame, as LeRobot pads its observation queue, and has 0 in a
``history_mask`` input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from vla_ros.core.bundle.contract import InputKind, Manifest, TensorSpec
from vla_ros.core.bundle.spec_fields import input_specs, tokenizer_path
from vla_ros.core.bundle.specs import (ImageLayout, ImageResize, ImageSpec, NoiseDistribution,
                                       NoiseSpec, TokensSpec)
from vla_ros.core.features.audio import fit_window, log_mel, MelConfig
from vla_ros.core.features.image import _resize, image_to_tensor
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.prefix import ActionPrefix, prefix_feed
from vla_ros.core.runtime.prompt_tokens import PromptTokens
from vla_ros.errors import InputMismatchError

NP_DTYPES = {'float32': np.float32, 'float16': np.float16, 'int64': np.int64,
             'int32': np.int32, 'bool': np.bool_, 'uint8': np.uint8}
_DEPENDENT = (InputKind.PRESENCE.value, InputKind.TOKEN_MASK.value,
              InputKind.HISTORY_MASK.value, InputKind.ACTION_PREFIX.value,
              InputKind.PREFIX_MASK.value)


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize HxWx3 uint8 into ``size`` (height, width) keeping the aspect ratio, black bars."""
    h, w = size
    src_h, src_w = image.shape[:2]
    scale = min(h / src_h, w / src_w)
    nh, nw = max(1, round(src_h * scale)), max(1, round(src_w * scale))
    if image.strides[1] != 3 * image.itemsize or image.strides[2] != image.itemsize:
        image = np.ascontiguousarray(image)
    inner = _resize(image, (nh, nw))
    out = np.zeros((h, w, 3), np.uint8)
    top, left = (h - nh) // 2, (w - nw) // 2
    out[top:top + nh, left:left + nw] = inner
    return out


def image_values(img: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """One camera image -> its tensor (3 x H x W or H x W x 3) per :class:`ImageSpec`."""
    if spec.resize is ImageResize.PAD and img.shape[:2] != spec.size:
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(*img.shape[:2], 1), 3, axis=2)
        img = letterbox(img, spec.size)
    if spec.dtype == 'uint8':
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(*img.shape[:2], 1), 3, axis=2)
        out = _resize(np.ascontiguousarray(img), spec.size)
        out = out[..., ::-1] if spec.bgr else out
        return np.ascontiguousarray(out if spec.layout is ImageLayout.HWC
                                    else out.transpose(2, 0, 1))
    lo, hi = spec.value_range
    # pixel/255 -> [lo, hi] -> (x - mean) / std, folded into image_to_tensor's fused affine
    mean = [(m - lo) / (hi - lo) for m in spec.mean]
    std = [s / (hi - lo) for s in spec.std]
    chw = image_to_tensor(img, size=spec.size, mean=mean, std=std, bgr=spec.bgr)
    if spec.layout is ImageLayout.HWC:
        chw = np.ascontiguousarray(chw.transpose(1, 2, 0))
    return chw.astype(NP_DTYPES[spec.dtype], copy=False)


def draw_noise(spec: NoiseSpec, stamp_ns: int) -> np.ndarray:
    """Draw the noise of the chunk for the frame at ``stamp_ns`` (a function of seed, stamp)."""
    rng = np.random.default_rng([spec.seed, int(stamp_ns) & (2 ** 63 - 1)])
    if spec.distribution is NoiseDistribution.UNIFORM:
        x = rng.uniform(-spec.scale, spec.scale, spec.shape)
    else:
        x = rng.standard_normal(spec.shape) * spec.scale
    return x.astype(NP_DTYPES[spec.dtype])


def joint_values(pre: dict, frame: Frame) -> np.ndarray:
    """Return normalized positions (+ velocities) in ``joint_names`` order, unpadded."""
    names = list(pre['joint_names'])
    index = {n: i for i, n in enumerate(frame.joint_names)}
    absent = [n for n in names if n not in index]
    if absent:
        raise InputMismatchError(f'joints {absent} required by the policy are not in the '
                                 f'frame (has {list(frame.joint_names)})')
    idx = [index[n] for n in names]
    pos = (np.asarray(frame.joint_positions)[idx] - pre['position_mean']) \
        / np.asarray(pre['position_std'])
    parts = [pos]
    if pre.get('use_velocities', False):
        vel = np.zeros(len(idx)) if frame.joint_velocities is None \
            else np.asarray(frame.joint_velocities)[idx]
        parts.append((vel - pre['velocity_mean']) / np.asarray(pre['velocity_std']))
    return np.concatenate(parts).astype(np.float32)


class InputBuilder:
    """
    Builds every input of a manifest from a frame (batch 1, checked by the caller).

    :param embed_text: ``text -> [D] float32`` for ``text_embedding`` inputs (the runtime's
        cached text encoder).
    """

    def __init__(self, manifest: Manifest, bundle_dir: Path, *,
                 embed_text: Callable[[str], np.ndarray] | None = None) -> None:
        self.manifest = m = manifest
        self.specs = input_specs(m)
        self.frames = m.history.frames if m.history else 1
        self._embed = embed_text
        self._cast = m.format_version >= 2
        self._mel = {s.name: MelConfig(**s.preprocessing['mel']) for s in m.inputs
                     if s.kind in (InputKind.LOG_MEL.value, InputKind.AUDIO_WAVEFORM.value)}
        self._tokens = {n: PromptTokens(t, tokenizer_path(bundle_dir, t))
                        for n, t in self.specs.items() if isinstance(t, TokensSpec)}
        by_name = {s.name: s for s in m.inputs}
        self._state_of = {n: by_name[t.state_input] for n, t in self.specs.items()
                          if isinstance(t, TokensSpec) and t.uses_state}
        self._history_keys = tuple(dict.fromkeys(
            k for s in m.inputs if s.preprocessing.get('history')
            for k in _keys(s)))

    def window(self, frame: Frame) -> tuple[list[Frame], list[bool]]:
        """Return the ``frames`` observations, oldest first, and which are real (not padded)."""
        if self.frames == 1:
            return [frame], [True]
        keys = [k for k in self._history_keys if frame.present.get(k, False)]
        past = list(frame.history[-(self.frames - 1):])
        past = [None] * (self.frames - 1 - len(past)) + past
        slots: list[Frame | None] = [
            p if p is not None and all(p.present.get(k, False) for k in keys) else None
            for p in past] + [frame]
        real = [s is not None for s in slots]
        for i in range(len(slots) - 2, -1, -1):  # pad with the nearest newer observed frame
            if slots[i] is None:
                slots[i] = slots[i + 1]
        return slots, real

    def build(self, frame: Frame, command: str = '',
              prefix: ActionPrefix | None = None) -> dict[str, np.ndarray]:
        """
        Return the feeds (batch 1) for ``frame``; ``command`` when the frame has none.

        ``prefix``: the committed actions for an ``action_prefix`` input (None: d = 0).
        """
        m = self.manifest
        feeds: dict[str, np.ndarray] = {}
        present: dict[str, bool] = {}
        masks: dict[str, np.ndarray] = {}
        window, real = self.window(frame)
        for spec in m.inputs:
            if spec.kind in _DEPENDENT:
                continue
            if spec.preprocessing.get('history'):
                now, ok = self._one(spec, frame, command, masks)
                # absent now (e.g. masked): absent in the whole window, never stale past values
                seen = any(ok.values()) if isinstance(ok, dict) else ok
                past = [self._one(spec, f, command, masks)[0] if seen else now
                        for f in window[:-1]]
                value = np.stack([*past, now])
            else:
                value, ok = self._one(spec, frame, command, masks)
            feeds[spec.name] = value[None]
            present.update(ok if isinstance(ok, dict) else {spec.modality: ok})
        missing = [k for k in m.required_modalities if not present.get(k, False)]
        if missing:
            raise InputMismatchError(f'required modalities {missing} are absent in the frame '
                                     f'at {frame.stamp_ns} ns')
        for spec in m.inputs:
            pre, dtype = spec.preprocessing, NP_DTYPES.get(spec.dtype, np.float32)
            if spec.kind == InputKind.PRESENCE.value:
                value = np.asarray([float(present.get(k, False)) for k in pre['order']])
            elif spec.kind == InputKind.TOKEN_MASK.value:
                value = masks[pre['tokens']]
            elif spec.kind == InputKind.HISTORY_MASK.value:
                value = np.asarray(real, np.float64)
            elif spec.kind == InputKind.ACTION_PREFIX.value:
                value, masks[spec.name] = prefix_feed(self.specs[spec.name], m, frame, prefix)
            elif spec.kind == InputKind.PREFIX_MASK.value:
                if pre['prefix'] not in masks:  # listed before its prefix
                    masks[pre['prefix']] = prefix_feed(self.specs[pre['prefix']], m, frame,
                                                       prefix)[1]
                value = masks[pre['prefix']]
            else:
                continue
            feeds[spec.name] = value.astype(dtype if self._cast else np.float32)[None]
        return feeds

    def _one(self, spec: TensorSpec, frame: Frame, command: str,
             masks: dict[str, np.ndarray]) -> tuple[np.ndarray, bool | dict[str, bool]]:
        pre, kind = spec.preprocessing, spec.kind
        shape = spec.shape[1:] if not pre.get('history') else spec.shape[2:]
        zeros = np.zeros(shape, NP_DTYPES.get(spec.dtype, np.float32))
        if kind == InputKind.IMAGE.value:
            img = frame.image(pre['camera'])
            if img is None:
                return zeros, False
            return image_values(img, self.specs[spec.name]), True
        if kind == InputKind.IMAGE_STACK.value:
            ispec = self.specs[spec.name]
            cams, ok = [], {}
            for c in ispec.cameras:
                img = frame.image(c)
                ok[f'image/{c}'] = img is not None
                cams.append(zeros[0] if img is None else image_values(img, ispec))
            return np.stack(cams), ok
        if kind in (InputKind.LOG_MEL.value, InputKind.AUDIO_WAVEFORM.value):
            if frame.audio is None or not frame.present.get('audio', False):
                return zeros, False
            cfg = self._mel[spec.name]
            audio = np.asarray(frame.audio, np.float32).reshape(-1)
            if frame.audio_rate != cfg.sample_rate:  # linear resample to the model rate
                n = int(round(audio.size * cfg.sample_rate / frame.audio_rate))
                audio = np.interp(np.linspace(0, audio.size - 1, n), np.arange(audio.size),
                                  audio).astype(np.float32)
            if kind == InputKind.LOG_MEL.value:
                return log_mel(audio, cfg), True
            return fit_window(audio, cfg), True
        if kind == InputKind.TACTILE.value:
            if frame.tactile is None or not frame.present.get('tactile', False):
                return zeros, False
            vals = np.asarray(frame.tactile, np.float32).reshape(-1)
            if vals.size != zeros.size:
                raise InputMismatchError(f'tactile: frame has {vals.size} values, the policy '
                                         f'expects {zeros.size} (pads {pre.get("pads")})')
            return (vals / float(pre.get('scale', 1.0))).reshape(zeros.shape), True
        if kind == InputKind.JOINTS.value:
            if frame.joint_positions is None or not frame.present.get('joints', False):
                return zeros, False
            vals = joint_values(pre, frame)
            if 'pad_to' in pre:
                vals = np.concatenate([vals, np.zeros(pre['pad_to'] - vals.size, np.float32)])
            return vals.astype(zeros.dtype, copy=False) if self._cast else vals, True
        if kind == InputKind.TEXT_EMBEDDING.value:
            text = frame.command or command
            if not text or self._embed is None:
                return zeros, False
            return self._embed(text), True
        if kind == InputKind.TEXT_TOKENS.value:
            text = frame.command or command
            tok = self._tokens[spec.name]
            if not text:
                ids, masks[spec.name] = tok.empty()
                return ids, False
            state = self._state_of.get(spec.name)
            norm = None
            if state is not None and frame.joint_positions is not None \
                    and frame.present.get('joints', False):
                norm = joint_values(state.preprocessing, frame)
            ids, masks[spec.name] = tok(text, norm)
            return ids, True
        if kind == InputKind.NOISE.value:
            return draw_noise(self.specs[spec.name], frame.stamp_ns), True
        raise InputMismatchError(f'input {spec.name!r}: unsupported kind {kind!r}')


def _keys(spec: TensorSpec) -> tuple[str, ...]:
    """Modality keys an input with history reads from every frame of its window."""
    if spec.kind == InputKind.IMAGE_STACK.value:
        return tuple(f'image/{c}' for c in spec.preprocessing['cameras'])
    return (spec.modality,) if spec.modality else ()
