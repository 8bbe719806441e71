"""`vla-ros export` / `vla-ros inspect` end to end, and the MiniLM text encoder bundle."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from vla_ros.cli.main import main as cli_main
from vla_ros.core.runtime.policy_runtime import PolicyRuntime

pytestmark = pytest.mark.timeout(180)


def test_export_checkpoint_then_inspect(tmp_path, capsys):
    import torch

    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.text import ByteTextEncoder
    from vla_ros.model.train_utils import save_checkpoint
    from helpers.bundles import tiny_config

    torch.manual_seed(0)
    cfg = tiny_config(fusion='moe', cameras=('front', 'wrist'))
    ck = tmp_path / 'ck.pt'
    save_checkpoint(ck, VlaPolicyNet(cfg), ByteTextEncoder(cfg.text_dim),
                    stats={'action_mean': [0.1] * 7, 'action_std': [0.5] * 7})
    rc = cli_main(['export', '--checkpoint', str(ck), '--out', str(tmp_path / 'b'),
                   '--model-id', 'my-moe', '--int8'])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert '[4/4]' in out and 'parity max' in out and 'int8 error' in out
    m = PolicyRuntime.from_bundle(tmp_path / 'b').manifest
    assert m.model_id == 'my-moe' and m.cameras == ('front', 'wrist')
    assert m.action_mean == (0.1,) * 7 and m.gate_output == 'gate_weights'
    # inspect runs without torch in a fresh process
    code = ('import sys; from vla_ros.cli.main import main; rc = main(["inspect", sys.argv[1]]);'
            ' assert "torch" not in sys.modules; sys.exit(rc)')
    res = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'b')],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for word in ('my-moe', 'image_wrist', 'audio_mel', 'gripper_joint', 'sha256',
                 'order: image/front, image/wrist'):
        assert word in res.stdout
    (tmp_path / 'b' / 'policy.onnx').write_bytes(b'garbage')
    assert cli_main(['inspect', str(tmp_path / 'b')]) == 1
    assert 'BundleHashError' in capsys.readouterr().err


@pytest.mark.slow
def test_minilm_text_encoder_bundle(tmp_path):
    """Frozen all-MiniLM-L6-v2 exported as text_encoder.onnx + tokenizer.json."""
    import dataclasses

    import torch

    from vla_ros.model.export import export_bundle
    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.text import MiniLMTextEncoder
    from helpers.bundles import tiny_config

    cfg = dataclasses.replace(tiny_config(), text_encoder='minilm', text_dim=384)
    enc = MiniLMTextEncoder()
    export_bundle(VlaPolicyNet(cfg), enc, tmp_path / 'b', model_id='minilm')
    rt = PolicyRuntime.from_bundle(tmp_path / 'b')
    assert rt.manifest.text_encoder['tokenizer']['kind'] == 'hf_tokenizers'
    a, b = rt.embed_text('pick up the red cube'), rt.embed_text('grasp the red block')
    c = rt.embed_text('play some jazz music')
    assert a.shape == (384,) and np.linalg.norm(a) == pytest.approx(1.0, abs=1e-4)
    assert float(a @ b) > float(a @ c)  # semantic similarity survives export
    ids, mask = rt.text_encoder.tokenizer('pick up the red cube')
    with torch.no_grad():
        ref = enc(torch.from_numpy(ids), torch.from_numpy(mask))[0].numpy()
    assert np.max(np.abs(ref - a)) < 1e-4


def test_export_of_a_legacy_train_checkpoint_uses_its_wordbag_encoder(tmp_path, capsys):
    """
    Export reads a legacy `vla-ros train` checkpoint as wordbag.

    Checkpoints of `vla-ros train` before the wordbag kind existed say text_encoder 'bytes'
    but hold a 30522-row word-piece table: export reads them as wordbag.
    """
    import dataclasses

    import torch

    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.train_utils import save_checkpoint
    from vla_ros.model.wordbag import WordBagTextEncoder
    from helpers.bundles import tiny_config

    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config(), text_encoder='bytes')
    ck = tmp_path / 'old.pt'
    save_checkpoint(ck, VlaPolicyNet(cfg), WordBagTextEncoder(cfg.text_dim, init_table=False))
    assert cli_main(['export', '--checkpoint', str(ck), '--out', str(tmp_path / 'b')]) == 0
    m = PolicyRuntime.from_bundle(tmp_path / 'b').manifest
    assert m.provenance['config']['text_encoder'] == 'wordbag'
    assert m.text_encoder['tokenizer']['kind'] == 'hf_tokenizers'


def test_export_of_a_missing_checkpoint_is_one_line(tmp_path, capsys):
    assert cli_main(['export', '--checkpoint', str(tmp_path / 'no.pt'), '--out',
                     str(tmp_path / 'b')]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'no such file' in err and 'no.pt' in err
