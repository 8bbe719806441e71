"""
What the fusion study compares: the fusions and the robustness conditions.

Shared by the study (:mod:`vla_ros.eval.fusion_study`, which runs them) and its report
(:mod:`vla_ros.eval.fusion_report`, which tabulates them).
"""

from __future__ import annotations

FUSIONS = ('early', 'late', 'cross_attention', 'moe')
KINDS = ('pick', 'push_left', 'push_right', 'touch', 'gentle', 'beep')  # task kinds, report order
MASKS = ('image/front', 'image/wrist', 'audio', 'tactile', 'language')  # masked modalities
CORRUPTIONS = ('drop_frames', 'image_noise', 'audio_clip', 'taxels_zero', 'stall_audio',
               'stall_tactile')  # sensor faults (vla_ros.sim.corruption)
# 'none' = the lockstep baseline the others compare with; 'int8' = the quantized twin
CONDITIONS = ('none', *(f'mask:{m}' for m in MASKS), *CORRUPTIONS, 'int8')
