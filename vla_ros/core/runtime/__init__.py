"""The onnxruntime policy runtime: session, pre/postprocessing, text, attribution."""

from __future__ import annotations

from vla_ros.core.runtime.attribution import (attribution_keys, LiveAttribution, ModalityWeights,
                                              PresenceAttribution)
from vla_ros.core.runtime.bundle_check import (check_bundle_dir, CheckReport, InputReport,
                                               synthetic_frame)
from vla_ros.core.runtime.masking import check_mask, mask_frame
from vla_ros.core.runtime.policy_runtime import (open_language, PolicyOutput, PolicyRuntime,
                                                 resolve_providers)
from vla_ros.core.runtime.postprocess import state_offset, to_chunk
from vla_ros.core.runtime.prefix import ActionPrefix, prefix_feed
from vla_ros.core.runtime.preprocess import (draw_noise, image_values, InputBuilder, joint_values,
                                             letterbox)
from vla_ros.core.runtime.prompt_tokens import discretize_state, PromptTokens
from vla_ros.core.runtime.session import (GraphOptimization, open_session, release_free_memory,
                                          SessionSettings, text_session_options)
from vla_ros.core.runtime.text_encoder import DEFAULT_CACHE_SIZE, TextEncoder
from vla_ros.core.runtime.token_view import command_tokens, TokenView
from vla_ros.core.runtime.worker_process import InferenceWorker, RuntimeProcess, WorkerSpec

__all__ = [
    'ActionPrefix',
    'CheckReport',
    'DEFAULT_CACHE_SIZE',
    'GraphOptimization',
    'InferenceWorker',
    'InputBuilder',
    'InputReport',
    'LiveAttribution',
    'ModalityWeights',
    'PolicyOutput',
    'PolicyRuntime',
    'PresenceAttribution',
    'PromptTokens',
    'RuntimeProcess',
    'SessionSettings',
    'TextEncoder',
    'TokenView',
    'WorkerSpec',
    'attribution_keys',
    'check_bundle_dir',
    'check_mask',
    'command_tokens',
    'discretize_state',
    'draw_noise',
    'image_values',
    'joint_values',
    'letterbox',
    'mask_frame',
    'open_language',
    'open_session',
    'prefix_feed',
    'release_free_memory',
    'resolve_providers',
    'state_offset',
    'synthetic_frame',
    'text_session_options',
    'to_chunk',
]
