"""`make demo`'s program: the closed loop through the real nodes finishes and reports."""

import subprocess
import sys

import imageio.v2 as imageio
import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(180)]


def test_demo_runs_the_closed_loop_and_writes_a_gif(tmp_path, repo_root):
    gif = tmp_path / 'demo.gif'
    res = subprocess.run([sys.executable, '-m', 'vla_ros.tools.demo', '--gif', str(gif)],
                         cwd=repo_root, capture_output=True, text=True, timeout=170)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert 'command on /vla/command' in out and 'chunks computed' in out
    assert '[demo] total' in out and 'OK' in out.splitlines()[-1]
    frames = imageio.mimread(gif)
    assert len(frames) >= 5 and frames[0].ndim == 3
