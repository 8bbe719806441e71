"""Contract-v2 manifests shaped like pi0 and Diffusion Policy exports (shared by tests)."""

from __future__ import annotations

J = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'gripper']


def pi0_raw() -> dict:
    """Return a pi0-style v2 manifest (stack in [-1, 1], tokens, state 32, noise, slice 7/32)."""
    state = {'kind': 'joints', 'joint_names': J, 'position_mean': [0.0] * 7,
             'position_std': [1.0] * 7, 'pad_to': 32}
    return {
        'format_version': 2, 'model_id': 'pi0-like', 'policy': {'file': 'policy.onnx'},
        'inputs': [
            {'name': 'observation.images', 'shape': [-1, 2, 3, 64, 64],
             'preprocessing': {'kind': 'image_stack', 'cameras': ['front', 'wrist'],
                               'size': [64, 64], 'value_range': [-1, 1], 'resize': 'pad'}},
            {'name': 'image_mask', 'shape': [-1, 2], 'dtype': 'bool',
             'preprocessing': {'kind': 'presence', 'order': ['image/front', 'image/wrist']}},
            {'name': 'input_ids', 'modality': 'language', 'shape': [-1, 24], 'dtype': 'int64',
             'preprocessing': {'kind': 'text_tokens', 'max_length': 24,
                               'tokenizer': {'kind': 'bytes'}, 'padding_side': 'right',
                               'prompt': 'Task: {command}, State: {state};\nAction: ',
                               'state_input': 'observation.state'}},
            {'name': 'attention_mask', 'shape': [-1, 24], 'dtype': 'int64',
             'preprocessing': {'kind': 'token_mask', 'tokens': 'input_ids'}},
            {'name': 'observation.state', 'modality': 'joints', 'shape': [-1, 32],
             'preprocessing': state},
            {'name': 'noise', 'shape': [-1, 50, 32],
             'preprocessing': {'kind': 'noise', 'distribution': 'normal', 'seed': 3}}],
        'outputs': [{'name': 'actions', 'shape': [-1, 50, 32]}],
        'action': {'output': 'actions', 'names': J, 'units': ['rad'] * 6 + ['m'],
                   'kind': 'absolute_joint_position', 'horizon': 50, 'dt': 0.02,
                   'slice': [0, 7], 'reference': 'delta_from_state', 'delta_joints': J[:6]},
        'required_modalities': ['joints'], 'files': {'policy.onnx': '0' * 64}}


def dp_raw() -> dict:
    """Return a Diffusion-Policy-style v2 manifest with ``history: 2``."""
    return {
        'format_version': 2, 'model_id': 'dp-like', 'policy': {'file': 'policy.onnx'},
        'history': {'frames': 2, 'spacing_s': 0.1},
        'inputs': [
            {'name': 'observation.images.front', 'modality': 'image/front',
             'shape': [-1, 2, 64, 64, 3], 'dtype': 'uint8',
             'preprocessing': {'kind': 'image', 'camera': 'front', 'size': [64, 64],
                               'layout': 'HWC', 'history': True}},
            {'name': 'observation.state', 'modality': 'joints', 'shape': [-1, 2, 7],
             'preprocessing': {'kind': 'joints', 'joint_names': J, 'position_mean': [0.0] * 7,
                               'position_std': [1.0] * 7, 'history': True}},
            {'name': 'pad_mask', 'shape': [-1, 2], 'preprocessing': {'kind': 'history_mask'}}],
        'outputs': [{'name': 'action', 'shape': [-1, 16, 7]}],
        'action': {'output': 'action', 'names': J, 'units': ['rad'] * 6 + ['m'],
                   'kind': 'absolute_joint_position', 'horizon': 16, 'dt': 0.1},
        'files': {'policy.onnx': '0' * 64}}
