"""
A stand-in for the SmolVLM2-500M directory SmolVLA builds its VLM from (LeRobot side).

No model hub is reachable here, but SmolVLA needs no VLM *weights* for its architecture: with
``load_vlm_weights=False`` LeRobot builds the VLM from ``AutoConfig.from_pretrained(
vlm_model_name)`` and reads ``AutoProcessor.from_pretrained(vlm_model_name)`` (a local
directory works). :func:`write_vlm_dir` writes such a directory: a ``SmolVLMConfig``, an image
/ video processor and a byte-level BPE tokenizer of the same vocabulary size and special-token
ids. Random weights follow; the contract, the graph, the timing and the parity do not depend on
trained values. Where every value comes from: :data:`SOURCES`.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import (AddedToken, decoders, models, pre_tokenizers, processors, Tokenizer,
                        trainers)

# SmolVLM2-500M-Video-Instruct values (text = the SmolLM2-360M decoder, vision = SigLIP
# base-patch16-512). SmolVLA keeps the first 16 of the 32 text layers (num_vlm_layers).
TEXT = {'model_type': 'llama', 'hidden_size': 960, 'intermediate_size': 2560,
        'num_hidden_layers': 32, 'num_attention_heads': 15, 'num_key_value_heads': 5,
        'head_dim': 64, 'vocab_size': 49280, 'hidden_act': 'silu', 'rms_norm_eps': 1e-5,
        'max_position_embeddings': 8192, 'rope_theta': 100000.0, 'tie_word_embeddings': False,
        'attention_bias': False, 'mlp_bias': False, 'pad_token_id': 2}
VISION = {'hidden_size': 768, 'intermediate_size': 3072, 'num_hidden_layers': 12,
          'num_attention_heads': 12, 'patch_size': 16, 'image_size': 512, 'num_channels': 3,
          'hidden_act': 'gelu_pytorch_tanh', 'layer_norm_eps': 1e-6}
TOP = {'scale_factor': 4, 'image_token_id': 49190, 'pad_token_id': 2}
# A reduced config for tests: same structure (GQA 3:1, cross-attention expert, pixel shuffle),
# a 128 px image of 16 px patches -> 64 patches -> 4 image tokens.
REDUCED_TEXT = {**TEXT, 'hidden_size': 96, 'intermediate_size': 256, 'num_hidden_layers': 4,
                'num_attention_heads': 3, 'num_key_value_heads': 1, 'head_dim': 32}
REDUCED_VISION = {**VISION, 'hidden_size': 64, 'intermediate_size': 128,
                  'num_hidden_layers': 2, 'num_attention_heads': 2, 'image_size': 128}
# Special tokens of the SmolVLM2 tokenizer at their ids (see SOURCES).
SPECIAL = {'<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2, '<global-img>': 49152,
           '<fake_token_around_image>': 49189, '<image>': 49190, '<end_of_utterance>': 49279}
EXTRA_SPECIAL = {'fake_image_token': '<fake_token_around_image>', 'image_token': '<image>',
                 'end_of_utterance_token': '<end_of_utterance>',
                 'global_image_token': '<global-img>'}
SOURCES = {
    'text hidden 960, 32 layers, 15 heads, 5 KV heads, intermediate 2560, vocab 49280, '
    'vision hidden 768, 12 layers, patch 16, image 512, scale factor 4':
        'issue 28 (the SmolVLM2-500M values of the probe); they give SmolVLA 450,046,176 '
        'parameters, the number the issue measured',
    'head_dim 64': 'hidden 960 / 15 heads',
    'vision intermediate 3072, 12 heads, gelu_pytorch_tanh, layer_norm_eps 1e-6':
        'SigLIP base (768 hidden) standard values; not in the issue: guessed',
    'rms_norm_eps 1e-5, silu, no biases, max positions 8192': 'SmolLM2 (llama) standard '
        'values; guessed. rms_norm_eps matters; max positions does not (no rotary table is '
        'used: SmolVLA applies its own RoPE)',
    'rope_theta 100000': 'guessed; unused: SmolVLA applies RoPE with its own '
        'max_wavelength=10000 (smolvlm_with_expert.apply_rope)',
    'image_token_id 49190, special-token ids (0, 1, 2, 49152, 49189, 49190, 49279)':
        'recalled from the SmolVLM2 hub files, not verified offline: guessed. SmolVLA uses '
        'only fake_image_token_id / global_image_token_id (image special tokens, off by '
        'default: add_image_special_tokens=False)',
    'tokenizer': 'a byte-level BPE trained here on a few robot phrases and padded with '
                 'filler tokens to the 49280 ids: the stand-in for the SmolVLM2 tokenizer '
                 '(same vocabulary size and special ids, not the same merges)',
}
CORPUS = ('pick up the red cube and lift it', 'pick up the green cube', 'pick up the blue cube',
          'put the cube in the bowl', 'push the block to the left', 'open the gripper',
          'close the gripper', 'grasp the object on the table', 'move the arm to the right',
          'place it on top of the other block', 'stack the blocks', 'wave', 'stop',
          'softly grasp the yellow cube and lift it', 'move forward', 'turn around')


def config_dict(*, reduced: bool = False) -> dict:
    """Return the SmolVLMConfig values (``reduced``: the test size)."""
    return {**TOP, 'text_config': dict(REDUCED_TEXT if reduced else TEXT),
            'vision_config': dict(REDUCED_VISION if reduced else VISION)}


def _tokenizer_json(vocab_size: int):
    """Build a byte-level BPE tokenizer of ``vocab_size`` ids with SPECIAL at their ids."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=2000, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([s + '\n' for s in CORPUS] * 4, trainer)
    learned = tok.get_vocab()  # token -> id, ids 0..n-1
    merges = [tuple(m.split(' ')) if isinstance(m, str) else tuple(m)
              for m in __import__('json').loads(tok.to_str())['model']['merges']]
    taken = set(SPECIAL.values())
    free = (i for i in range(vocab_size) if i not in taken)
    vocab = dict(SPECIAL)
    for t, _ in sorted(learned.items(), key=lambda kv: kv[1]):
        vocab[t] = next(free)
    for i in free:
        vocab[f'<|filler_{i}|>'] = i
    bpe = models.BPE(vocab=vocab, merges=merges)
    out = Tokenizer(bpe)
    out.pre_tokenizer, out.decoder, out.post_processor = (tok.pre_tokenizer, tok.decoder,
                                                          tok.post_processor)

    out.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in sorted(SPECIAL, key=SPECIAL.get)])
    return out


def write_vlm_dir(path: Path, *, reduced: bool = False) -> Path:
    """Write config, processor and tokenizer of a SmolVLM2-500M stand-in at ``path``."""
    # optional heavy dependency: transformers
    from transformers import PreTrainedTokenizerFast, SmolVLMConfig
    from transformers.models.smolvlm import SmolVLMImageProcessor, SmolVLMProcessor

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg = config_dict(reduced=reduced)
    SmolVLMConfig(**cfg).save_pretrained(path)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=_tokenizer_json(cfg['text_config']['vocab_size']),
        bos_token='<|im_start|>', eos_token='<end_of_utterance>', pad_token='<|im_end|>',
        unk_token='<|endoftext|>', extra_special_tokens=EXTRA_SPECIAL, model_max_length=8192)
    side = cfg['vision_config']['image_size']
    img = SmolVLMImageProcessor(do_resize=True, size={'longest_edge': 4 * side},
                                max_image_size={'longest_edge': side},
                                image_mean=[0.5] * 3, image_std=[0.5] * 3)
    seq = (side // cfg['vision_config']['patch_size']) ** 2 // cfg['scale_factor'] ** 2
    try:
        from transformers.models.smolvlm import SmolVLMVideoProcessor
        video = SmolVLMVideoProcessor()
    except ImportError:  # the video processor needs torchvision's ops: LeRobot never uses it
        video = None
    proc = SmolVLMProcessor(image_processor=img, tokenizer=tok, video_processor=video,
                            image_seq_len=seq)
    proc.save_pretrained(path)
    (path / 'vla_ros_standin.json').write_text(json.dumps(
        {'what': 'SmolVLM2-500M stand-in for SmolVLA (random weights)', 'reduced': reduced,
         'config': cfg, 'special_tokens': SPECIAL, 'sources': SOURCES}, indent=1))
    return path
