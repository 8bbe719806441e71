"""``vla-ros export --from-lerobot --rtc`` refuses a policy that has no flow to guide."""

from __future__ import annotations

import json


def test_rtc_export_of_a_non_flow_policy_is_refused_before_any_work(tmp_path, capsys):
    from vla_ros.cli.main import main

    ckpt = tmp_path / 'act'
    ckpt.mkdir()
    (ckpt / 'config.json').write_text(json.dumps({'type': 'act'}))
    (ckpt / 'model.safetensors').write_bytes(b'')
    code = main(['export', '--from-lerobot', str(ckpt), '--out', str(tmp_path / 'b'), '--rtc',
                 '--fps', '10'])
    assert code != 0
    err = capsys.readouterr().err
    assert '--rtc: real-time chunking guidance needs a flow-matching policy (smolvla)' in err
    assert "'act'" in err and not (tmp_path / 'b').exists()
