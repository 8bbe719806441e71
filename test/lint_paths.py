"""
Paths linted by test_flake8.py and test_pep257.py, relative to the repository root.

Phase 1 of issue 16 item 6 covers only these (files that others were editing at the time are
excluded); phase 2 widens the list to everything (``vla_ros launch test bench setup.py
scripts``) once the rest is clean (``python scripts/lint_fix.py PATH``, then the rewording by
hand).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_EXCLUDED = {
    'vla_ros/nodes': ('mujoco_sim.py',),
    'test/nodes': ('test_fault_injection.py', 'clock_source.py', 'test_reliability_graph.py',
                   'test_vla_policy_faults.py'),
    'test/sim': ('test_sim_launch_files.py',),
    'bench': ('bench_fuzz.py', 'bench_soak.py', '_fuzz_msgs.py', '_procfs.py', 'bench_image.py',
              'bench_runtime.py', 'bench_frame_latency.py'),
}
_WHOLE = ('vla_ros/core', 'vla_ros/sim', 'vla_ros/errors.py', 'vla_ros/constants.py',
          'vla_ros/qos.py', 'vla_ros/__init__.py', 'test/core', 'test/lint_paths.py',
          'test/test_flake8.py', 'test/test_pep257.py', 'scripts/lint_fix.py')


def lint_paths() -> list[str]:
    """Return the files and directories to lint (absolute paths)."""
    paths = [str(ROOT / p) for p in _WHOLE]
    for folder, skip in _EXCLUDED.items():
        paths += [str(f) for f in sorted((ROOT / folder).glob('*.py')) if f.name not in skip]
    return paths
