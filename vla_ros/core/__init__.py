"""
ROS-free core of vla_ros: importable without rclpy, *_msgs or torch.

Subpackages, in import order (each imports only those before it):

- :mod:`~vla_ros.core.frame`: the synchronized observation (``Frame``) every layer shares.
- :mod:`~vla_ros.core.sync`: streams at different rates -> time-aligned frames.
- :mod:`~vla_ros.core.features`: image, audio and text features shared with training.
- :mod:`~vla_ros.core.bundle`: the policy bundle contract (``bundle.yaml`` + ONNX files).
- :mod:`~vla_ros.core.runtime`: the onnxruntime policy runtime.
- :mod:`~vla_ros.core.control`: the policy loop, chunk scheduler, safety filter, adapters.
- :mod:`~vla_ros.core.remote`: the split deployment (robot side, wire format, batching).
- :mod:`~vla_ros.core.policy`: ``build_policy``, the one factory of the policy stack.
- :mod:`~vla_ros.core.speech`: spoken commands (VAD, utterances, offline recognition); it
  needs only sync.

:mod:`~vla_ros.core.convert` (duck-typed ROS messages -> numpy) and
:mod:`~vla_ros.core.config_utils` (frozen-config helpers) are shared by all of them.
"""

from __future__ import annotations

from vla_ros.core.frame import Frame, TactileLayout

__all__ = ['Frame', 'TactileLayout']
