"""
The LeRobot bridge, both directions.

Bags -> LeRobotDataset (read back by LeRobot's own class in the LeRobot venv) -> bags again;
a LeRobot ACT checkpoint -> a bundle that matches LeRobot's pipeline.

The sim closed loop with that bundle is in test/sim/test_foreign_bundles.py.
"""

from __future__ import annotations

import json
import subprocess

from helpers.lerobot_chain import act_bundle, act_run, chain, require_lerobot
import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

READ_BACK = r"""
import json, sys
import numpy as np
from vla_ros.lerobot_io import compat
compat.apply()
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset('local/vla_ros', root=sys.argv[1])
ep1 = int(ds.meta.episodes['dataset_from_index'][1])
x = ds[ep1 + 5]
np.savez(sys.argv[2], front=x['observation.images.front'].numpy(),
         state=x['observation.state'].numpy(), audio=x['observation.audio'].numpy(),
         tactile=x['observation.tactile'].numpy(), action=x['action'].numpy())
print(json.dumps({'len': len(ds), 'episodes': ds.num_episodes, 'fps': ds.fps,
                  'features': {k: v['dtype'] for k, v in ds.meta.features.items()},
                  'stats': sorted(ds.meta.stats), 'task': x['task'],
                  'episode_index': int(x['episode_index']),
                  'codec': ds.meta.features['observation.images.front']['info']['video.codec']}))
"""


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope='module')
def staged(tmp_path_factory):
    """Stage the source episodes as the exporter does (robot side, no LeRobot)."""
    from vla_ros.lerobot_io.from_bags import stage_bags
    from vla_ros.lerobot_io.staging import read_episode
    from vla_ros.model.dataset import find_bags

    out = tmp_path_factory.mktemp('staged')
    meta = stage_bags(find_bags([chain().demos]), out)
    return meta, [read_episode(out, i) for i in range(meta.episodes)]


def test_export_is_read_back_by_lerobots_dataset_class(staged, tmp_path):
    from vla_ros.lerobot_io.runner import lerobot_python, ROOT

    meta, eps = staged
    script = tmp_path / 'read_back.py'
    script.write_text(READ_BACK)
    out = subprocess.run([str(lerobot_python()), str(script), str(chain().dataset),
                          str(tmp_path / 'frame.npz')], capture_output=True, text=True,
                         env={'PYTHONPATH': str(ROOT), 'PATH': '/usr/bin:/bin'}, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got['episodes'] == 2 and got['len'] == sum(len(e['action']) for e in eps)
    assert got['fps'] == meta.fps == 10
    f = got['features']
    assert f['observation.images.front'] == f['observation.images.wrist'] == 'video'
    for k in ('observation.state', 'action', 'observation.audio', 'observation.tactile',
              'observation.presence', 'observation.velocity'):
        assert f[k] == 'float32', k
    for k in ('observation.images.front', 'observation.state', 'action', 'observation.audio'):
        assert k in got['stats'], k
    src = eps[1]
    assert got['episode_index'] == 1 and got['task'] == str(src['task'][5])
    z = np.load(tmp_path / 'frame.npz')
    img = np.rint(z['front'].transpose(1, 2, 0) * 255)
    assert _psnr(img, src['image.front'][5]) > 28, got['codec']  # lossy video, 64 px
    np.testing.assert_array_equal(z['state'], src['state'][5])
    np.testing.assert_array_equal(z['action'], src['action'][5])
    np.testing.assert_array_equal(z['audio'], src['audio'][5])
    np.testing.assert_array_equal(z['tactile'], src['tactile'][5])
    assert np.abs(src['audio'][5]).max() > 0 or np.abs(src['tactile']).max() > 0


def test_import_replays_through_the_sync_core_like_the_source(staged, tmp_path):
    from vla_ros.cli.main import main
    from vla_ros.lerobot_io.from_bags import stage_bags
    from vla_ros.lerobot_io.staging import read_episode

    meta, eps = staged
    assert main(['dataset', 'import', str(chain().dataset), '--out', str(tmp_path / 'bags')]) \
        == 0
    bags = sorted((tmp_path / 'bags').iterdir())
    assert len(bags) == 2
    again = stage_bags(bags, tmp_path / 'again')
    assert (again.fps, again.cameras, again.tactile_pads, again.audio_samples) == (
        meta.fps, meta.cameras, meta.tactile_pads, meta.audio_samples)
    for i, src in enumerate(eps):
        got = read_episode(tmp_path / 'again', i)
        assert len(got['action']) == len(src['action'])
        assert list(got['task']) == list(src['task'])
        for k in ('state', 'action', 'tactile', 'presence'):
            np.testing.assert_allclose(got[k], src[k], atol=1e-6, err_msg=k)
        np.testing.assert_allclose(got['audio'], src['audio'], atol=1.5 / 32767)  # S16LE
        for c in meta.cameras:
            assert _psnr(got[f'image.{c}'], src[f'image.{c}']) > 28, c


def test_bags_without_the_needed_topics_are_refused_by_name(tmp_path):
    from vla_ros.errors import DatasetError
    from vla_ros.lerobot_io.from_bags import check_bag
    from vla_ros.data import bagio

    with bagio.BagWriter(tmp_path / 'bag') as w:
        w.write('/vla/command', 1, bagio.string_msg('pick'))
    with pytest.raises(DatasetError, match='/joint_states') as e:
        check_bag(tmp_path / 'bag')
    assert 'camera' in str(e.value)


def test_lerobot_act_checkpoint_becomes_a_bundle_matching_lerobot(capsys):
    import yaml

    from vla_ros.cli.main import main

    require_lerobot()
    ckpt, losses = act_run()
    assert (ckpt / 'config.json').exists() and (ckpt / 'model.safetensors').exists()
    assert len(losses) >= 3 and losses[-1][1] < losses[0][1], losses
    bundle = act_bundle()
    raw = yaml.safe_load((bundle / 'bundle.yaml').read_text())
    assert raw['action']['horizon'] == 10 and raw['action']['dt'] == 0.1
    assert raw['provenance']['recorded_with']['image_width'] == 64
    state = next(i for i in raw['inputs'] if i['name'] == 'observation.state')
    assert state['preprocessing']['joint_names'][-1] == 'gripper_joint'
    capsys.readouterr()
    assert main(['bundle', 'check', str(bundle)]) == 0
    assert 'CHECK lerobot-act' in capsys.readouterr().out
