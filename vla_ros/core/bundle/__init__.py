"""Policy bundles: the manifest, its contract-v2 specs, schema, drafts and competence."""

from __future__ import annotations

from vla_ros.core.bundle.competence import (CommandNotUnderstood, CompetenceCheck, CompetenceSpec,
                                            training_commands, Verdict)
from vla_ros.core.bundle.contract import ActionKind, Bundle, InputKind, Manifest, TensorSpec
from vla_ros.core.bundle.draft import Draft, draft_manifest, export_style, ExportStyle, write_draft
from vla_ros.core.bundle.manifest import (check_onnx_against_specs, load_bundle, manifest_warnings,
                                          parse_manifest, sha256_file, write_manifest)
from vla_ros.core.bundle.schema import check_keys, name_diff, placeholders
from vla_ros.core.bundle.spec_fields import (action_post, input_specs, tokenizer_files,
                                             tokenizer_path)
from vla_ros.core.bundle.specs import (ActionPost, ActionReference, enum_value, float_values,
                                       HistorySpec, ImageLayout, ImageResize, ImageSpec, int_value,
                                       NoiseDistribution, NoiseSpec, PaddingSide, PrefixSpec,
                                       PrefixTail, TokensSpec)

__all__ = [
    'ActionKind',
    'ActionPost',
    'ActionReference',
    'Bundle',
    'CommandNotUnderstood',
    'CompetenceCheck',
    'CompetenceSpec',
    'Draft',
    'ExportStyle',
    'HistorySpec',
    'ImageLayout',
    'ImageResize',
    'ImageSpec',
    'InputKind',
    'Manifest',
    'NoiseDistribution',
    'NoiseSpec',
    'PaddingSide',
    'PrefixSpec',
    'PrefixTail',
    'TensorSpec',
    'TokensSpec',
    'Verdict',
    'action_post',
    'check_keys',
    'check_onnx_against_specs',
    'draft_manifest',
    'enum_value',
    'export_style',
    'float_values',
    'input_specs',
    'int_value',
    'load_bundle',
    'manifest_warnings',
    'name_diff',
    'parse_manifest',
    'placeholders',
    'sha256_file',
    'tokenizer_files',
    'tokenizer_path',
    'training_commands',
    'write_draft',
    'write_manifest',
]
