"""Eval table/chart writer, and run-time modality masking of frames."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.masking import mask_frame
from vla_ros.errors import ConfigError
from vla_ros.eval.report import bar_chart, load_results, markdown, save_results


def _result(kind, ok, reason='lifted', held_out=False):
    return {'task': f'{kind}_red', 'kind': kind, 'colour': 'red', 'command': 'x', 'seed': 1,
            'success': ok, 'reason': reason, 'duration_s': 3.0, 'wall_s': 3.1,
            'latency_ms': 2.0, 'e2e_ms': 30.0, 'control_rate_hz': 10.0,
            'frame_rate_hz': 10.0, 'chunks': 9, 'mask': [], 'held_out': held_out}


def test_table_and_chart(tmp_path):
    full = [_result('pick', True), _result('pick', False, 'timeout: never reached the cube',
                                           True), _result('beep', True, held_out=True)]
    masked = [_result('pick', False, 'timeout'), _result('beep', False, 'timeout')]
    a = save_results(tmp_path / 'full.json', full, {'name': 'full', 'mask': []})
    b = save_results(tmp_path / 'audio.json', masked, {'mask': ['audio']})
    runs = [load_results(a), load_results(b)]
    md = markdown(runs)
    assert '| task | full | mask audio |' in md
    assert '| pick | 1/2 (50 %, 95 % CI 9-91 %) | 0/1 (0 %, 95 % CI 0-79 %) |' in md
    assert '| **mean** | 2/3 (67 %, 95 % CI 21-94 %) | 0/2 (0 %, 95 % CI 0-66 %) |' in md
    assert 'held-out paraphrases 1/2 (50 %, 95 % CI 9-91 %)' in md
    assert 'pick: timeout: never reached the cube x1' in md
    png = bar_chart(runs, tmp_path / 'img' / 'eval.png')
    assert png.read_bytes()[:4] == b'\x89PNG'


def test_chart_counts_on_bars_na_distinct_from_zero_and_legend_clear_of_bars():
    from vla_ros.eval.report import bar_label, chart_figure, summaries_from_markdown
    full = [_result('pick', True), _result('pick', True), _result('beep', False)]
    masked = [_result('beep', False), _result('beep', False)]  # pick not evaluated
    runs = [({'name': 'full'}, full), ({'mask': ['audio']}, masked)]
    parsed = summaries_from_markdown(markdown(runs))  # a published table re-draws the chart
    assert parsed == [('full', {'pick': (2, 2), 'beep': (0, 1), 'mean': (2, 3)}),
                      ('mask audio', {'beep': (0, 2), 'mean': (0, 2)})]
    old = '| task | full |\n|---|---|\n| pick | 93 % (28/30) |\n| **mean** | 80 % (4/5) |'
    assert summaries_from_markdown(old) == [('full', {'pick': (28, 30), 'mean': (4, 5)})]
    assert bar_label((0, 2)) == '0/2' and bar_label(None) == 'n/a' and bar_label((0, 0)) == 'n/a'
    fig, ax, legend = chart_figure([n for n, _ in parsed], [s for _, s in parsed])
    texts = [t.get_text() for t in ax.texts]
    assert texts.count('n/a') == 1                        # mask audio x pick
    assert '0/2' in texts and '0/1' in texts and '2/2' in texts and '2/3' in texts
    fig.canvas.draw()
    box = legend.get_window_extent()
    bars = [p.get_window_extent() for p in ax.patches if p.get_height() > 0]
    assert bars and not any(box.overlaps(b) for b in bars)
    assert [t.get_text() for t in legend.get_texts()] == ['full', 'mask audio']
    assert all(h.get_facecolor()[3] > 0 for h in legend.legend_handles)


def test_mask_frame_marks_modalities_absent():
    f = Frame(stamp_ns=5, images={'front': np.zeros((4, 4, 3), np.uint8),
                                  'wrist': np.zeros((4, 4, 3), np.uint8)},
              audio=np.zeros(10, np.float32), tactile=np.ones(32, np.float32),
              command='pick up the red cube',
              present={'image/front': True, 'image/wrist': True, 'audio': True,
                       'tactile': True, 'language': True, 'joints': True})
    m = mask_frame(f, ['image/wrist', 'tactile', 'language'])
    assert m.present == {'image/front': True, 'image/wrist': False, 'audio': True,
                         'tactile': False, 'language': False, 'joints': True}
    assert m.image('wrist') is None and m.image('front') is not None
    assert m.tactile is None and m.command == ''
    assert f.present['tactile'] and f.command  # the original is untouched
    assert mask_frame(f, ['image']).images == {}
    with pytest.raises(ConfigError, match='joints'):
        mask_frame(f, ['joints'])


def test_fusion_table_rows():
    from vla_ros.eval.fusion_table import table
    recs = [{'fusion': 'early', 'params': 420000, 'steps': 4000, 'train_min': 7.5,
             'final_loss': 0.05},
            {'fusion': 'moe', 'params': 1_200_000, 'steps': 4000, 'train_min': 8.0,
             'final_loss': 0.07}]
    runs = [({'name': 'early'}, [_result('pick', True), _result('beep', False)]),
            ({'name': 'moe'}, [_result('pick', False), _result('beep', False)])]
    md = table(recs, runs)
    assert ('| early | 1/2 (50 %, 95 % CI 9-91 %) | 2.0 | 0.42 M | 4000 steps, 7.5 min | 0.05 |'
            in md)
    assert '| moe | 0/2 (0 %, 95 % CI 0-66 %) |' in md


def test_language_ratio_against_the_training_twin_and_report_markers(tmp_path):
    from vla_ros.eval.report import REPORT_BEGIN, REPORT_END, write_report
    train = [_result('pick', True), _result('pick', True), _result('beep', True)]
    words = [dict(_result('pick', True, held_out=True), variant='colour'),
             dict(_result('pick', False, held_out=True), variant='verb'),
             dict(_result('beep', True, held_out=True), variant='colour')]
    runs = [load_results(save_results(tmp_path / 'a.json', train, {'name': 'full'})),
            load_results(save_results(tmp_path / 'b.json', words, {'name': 'words'}))]
    md = markdown(runs)
    assert '- words vs training phrasings on the same seeds: 2/3' in md
    assert 'lang_ratio 0.67' in md and '  - verb: 0/1' in md
    doc = tmp_path / 'eval.md'
    doc.write_text(f'# Title\n\nProtocol by hand.\n\n{REPORT_BEGIN}\nold\n{REPORT_END}\n\nEnd.\n')
    write_report(doc, md)
    text = doc.read_text()
    assert text.startswith('# Title\n\nProtocol by hand.') and text.endswith('End.\n')
    assert 'old' not in text and 'lang_ratio 0.67' in text
    fresh = write_report(tmp_path / 'new.md', md).read_text()
    assert fresh.startswith('# Closed-loop evaluation') and REPORT_END in fresh


@pytest.mark.parametrize('every, held', [(0, 0), (1, 4), (2, 2)])
def test_eval_tasks_hold_out_every_kth_episode(every, held):
    from vla_ros.sim.eval_sets import eval_tasks
    pairs = eval_tasks(4, ['pick'], block='dev', paraphrase_every=every,
                       language='held_out_words')
    assert sum(t.held_out for t, _ in pairs) == held
