"""The fusion study's report is regenerated from the committed per-episode files alone."""

from __future__ import annotations

import json

from vla_ros.eval.fusion_report import BEGIN, END, separations, write_report


def _rows(cond: str, ok: int, n: int) -> list[dict]:
    return [{'condition': cond, 'seed': i, 'kind': 'pick', 'success': i < ok, 'reason': ''}
            for i in range(n)]


def test_report_tables_heat_map_and_separations(tmp_path):
    res, img = tmp_path / 'res', tmp_path / 'img'
    res.mkdir()
    (res / 'early.robust.jsonl').write_text('\n'.join(
        json.dumps(r) for r in _rows('none', 58, 60) + _rows('mask:audio', 20, 60)) + '\n')
    (res / 'moe.robust.jsonl').write_text('\n'.join(
        json.dumps(r) for r in _rows('none', 57, 60) + _rows('mask:audio', 50, 60)) + '\n')
    (res / 'moe.eval.json').write_text(json.dumps({'meta': {}, 'results': [
        {'kind': 'pick', 'success': True}] * 9 + [{'kind': 'beep', 'success': False}]}))
    md = tmp_path / 'fusion.md'
    md.write_text(f'# hand-written head\n\n{BEGIN}\nold\n{END}\n\n## kept tail\n')
    section = write_report(res, md, img)
    text = md.read_text()
    assert text.startswith('# hand-written head') and text.rstrip().endswith('## kept tail')
    assert 'old' not in text and section in text
    assert '| moe | 9/10 (90 %, 95 % CI 60-98 %) |' in section   # nodes, with its interval
    assert '| early | 58/60 | 20/60 |' in section and '| moe | 57/60 | 50/60 |' in section
    assert 'mask:audio: moe 83 % > early 33 %' in section      # intervals do not overlap
    assert 'none: ' not in section.split('Distinguishable')[1]  # 58/60 vs 57/60 overlap
    assert 'Pending (no committed results yet): early, late, cross_attention.' in section
    assert (img / 'fusion_robustness.png').stat().st_size > 1000


def test_no_separation_is_said_plainly():
    data = {'early': {'robust': _rows('none', 5, 6)}, 'late': {'robust': _rows('none', 4, 6)}}
    assert separations(data, ['none']) == []
