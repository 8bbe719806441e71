"""
Every benchmark runs in ``make test``: its smoke mode (bench/_smoke.py) prints its line.

A smoke run takes the benchmark's own code path with tiny sizes and rounds (seconds), so a
benchmark broken by a change elsewhere fails here instead of on the next ``make bench``
(bench sync once failed on every machine up for less than ~17 min and nobody saw it). The
numbers of a smoke run mean nothing; the keys of its ``BENCH`` line are checked.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import importlib.util
import os
from pathlib import Path
import subprocess
import sys
import time

from helpers.bundles import make_random_bundle
from helpers.lerobot_chain import real_vla_cache
import pytest
from vla_ros.harness.domains import claim_domain

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / 'bench'
TIMEOUT_S = 240  # one smoke run; they take seconds (node start-up included)

# Keys each smoke line must carry (those that do not depend on the smoke sizes). A new
# benchmark needs an entry here and a smoke mode (test_every_benchmark_has_a_smoke_mode).
EXPECTED = {
    'control': {'jitter_p99_ms', 'baseline_p99_ms', 'rate_hz', 'samples', 'ratio'},
    'e2e': {'e2e_ms', 'dds_ms', 'infer_ms', 'ratio', 'reaction_ms', 'chunks'},
    'eval': {'success', 'success_lo', 'episodes', 'lang_ratio', 'per_kind', 'ratio'},
    'fleet': {'bundle', 'n2_hz', 'n2_p95_ms', 'batch_gain', 'needs_hz', 'default_batch_gain'},
    'fleet_ray': {'bundle', 'replica_scaling', 'ray_overhead_ms', 'gateway_cpu_ms_per_chunk',
                  'hosts', 'load'},
    'frame_latency': {'ms', 'dds_ms', 'ratio', 'ratio_rounds', 'verdict', 'frames'},
    'fuzz': {'messages', 'rejected', 'crashes', 'valid_frame_ratio', 'policy_chunk_ratio',
             'faults_latched', 'rss_growth_mb', 'out_of_limits'},
    'hearing_task': {'expert_success', 'expert_success_lo', 'blind_success', 'blind_success_hi',
                     'blind_grid_best', 'first_word_success', 'keyword_s', 'in_window_s'},
    'image': {'ms', 'opencv_ms', 'ratio', 'cv_bridge_ms', 'mean_abs_diff'},
    'latency': {'success_600ms', 'ratio_600ms', 'episodes_per_condition',
                'boundary_jerk_ratio', 'boundary_jerk_ratio_commanded', 'wall_s'},
    'reaction': {'reaction_p50_ms', 'bound_ms', 'reaction_ratio', 'trigger'},
    'real_vla': {'smolvla_params_m', 'smolvla_parity', 'smolvla_fp32_ms_p50',
                 'smolvla_served_ms_p50', 'smolvla_torch_ms_p50', 'smolvla_speedup_vs_torch',
                 'smolvla_int8_err_std', 'diffusion_params_m', 'diffusion_parity',
                 'diffusion_fp32_ms_p50', 'diffusion_served_ms_p50', 'diffusion_torch_ms_p50',
                 'diffusion_speedup_vs_torch', 'diffusion_int8_err_std',
                 'diffusion_node_rss_mb'},
    'remote': {'e2e_ms', 'local_ms', 'ratio', 'bytes', 'act_ratio'},
    'speech': {'word_error_rate', 'command_accuracy', 'typed_accuracy', 'asr_ms_p50',
               'asr_cpu_ms_p50',
               'speech_success_ratio', 'episodes', 'false_accepts', 'utterances', 'vad',
               'recognizer', 'load'},
    'runtime': {'ort_ms', 'torch_ms', 'ratio', 'int8_ratio', 'rss_mb', 'default_ratio',
                'pi0_total_ms', 'node_rss_mb'},
    'sim': {'hz', 'physics_only_hz', 'ratio'},
    'soak': {'minutes', 'episodes', 'rss_mb_per_h', 'threads_slope_per_h', 'p99_drift',
             'target_ratio'},
    'sync': {'msgs_per_s', 'baseline_msgs_per_s', 'ratio', 'msgs', 'frames', 'baseline_sets'},
    'touch_task': {'expert_success', 'blind_success', 'blind_effort_n', 'numb_success',
                   'episodes'},
    'vla_scale': {'params_m', 'chunk_ms_p50', 'int8_ratio', 'jitter_ratio', 'worker'},
}


def benchmarks() -> list[str]:
    return sorted(p.stem.removeprefix('bench_') for p in BENCH.glob('bench_*.py'))


def bench_line(name: str, stdout: str) -> dict[str, str]:
    """Return the ``key=value`` pairs of the one ``BENCH <name>`` line in ``stdout``."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith(f'BENCH {name} ')]
    assert len(lines) == 1, f'expected one BENCH {name} line, got {lines}'
    return dict(tok.split('=', 1) for tok in lines[0].split()[2:] if '=' in tok)


def test_every_benchmark_has_a_smoke_mode():
    """A new bench_*.py without a smoke mode (or without expected keys here) fails."""
    names = benchmarks()
    assert names, 'no benchmarks found'
    assert set(names) == set(EXPECTED), (
        f'benchmarks without expected smoke keys: {sorted(set(names) - set(EXPECTED))}; '
        f'entries without a benchmark: {sorted(set(EXPECTED) - set(names))}')
    for name in names:
        src = (BENCH / f'bench_{name}.py').read_text()
        assert 'import _smoke as S' in src and 'S.tag()' in src, (
            f'bench_{name}.py has no smoke mode (bench/_smoke.py: S.pick sizes, S.tag() on its '
            'BENCH line)')


def test_bench_sync_runs_on_a_stream_stamped_far_from_the_machine_uptime():
    """The stream runs on its own clock: ahead of the uptime, near zero, at wall-clock time."""
    spec = importlib.util.spec_from_file_location('bench_sync', BENCH / 'bench_sync.py')
    bench_sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_sync)
    ahead = time.monotonic_ns() + 10**15  # ~11.6 days ahead of this machine's uptime
    for t0 in (ahead, 10**9, time.time_ns()):
        events = bench_sync.make_stream(t0, 1.0)
        _, frames = bench_sync.run_ours(events)
        assert frames == 30, f'stream from {t0} ns: {frames} of 30 frames'


SMOKE_LANES = 3  # smoke runs are mostly process start-up (imports) and DDS waits
# the longest smoke runs start first (a LeRobot export, a Ray cluster, two namespaces), so
# the lanes end together instead of waiting on one started last
SLOW_FIRST = ('real_vla', 'fleet_ray', 'remote', 'runtime', 'fleet', 'fuzz')
SMOKE_DOMAINS = (200, 232)  # each run in its own claimed DDS domain, apart from the sessions'
REAL_VLA_CACHE_ENV = 'VLA_BENCH_REAL_VLA_CACHE'  # bench_real_vla.CACHE_ENV
SMOKE_BUNDLES_ENV = 'VLA_BENCH_SMOKE_BUNDLES'  # _smoke.BUNDLES_ENV
# the random tiny bundles bench control / e2e (front) and fuzz (front + wrist) export: made
# (or copied from this process's cache, helpers.bundles) once here, copied by each run
SMOKE_BUNDLE_CAMERAS = (('front',), ('front', 'wrist'))


def _lerobot_available() -> bool:
    from vla_ros.errors import LeRobotEnvError
    from vla_ros.lerobot_io.runner import lerobot_python

    try:
        lerobot_python()
    except LeRobotEnvError:
        return False
    return True


@pytest.fixture(scope='module')
def smoke_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, float]]:
    """Run every benchmark's smoke mode, SMOKE_LANES at a time, each in its own DDS domain."""
    def run(name: str) -> tuple[str, tuple[subprocess.CompletedProcess, float]]:
        t0 = time.monotonic()
        extra = {}
        # real_vla: the reduced SmolVLA / Diffusion exports of the LeRobot tests (built in this
        # process, or here), not a second build of the same policies (~1.5 min of CPU)
        if name == 'real_vla' and _lerobot_available():
            try:
                cache = real_vla_cache(tmp_path_factory.mktemp('real_vla_cache'))
            except Exception as e:  # noqa: BLE001 - fails real_vla's test, not every lane's
                return name, (subprocess.CompletedProcess(
                    name, 1, '', f'building the reduced LeRobot exports failed: {e!r}'),
                    time.monotonic() - t0)
            extra = {REAL_VLA_CACHE_ENV: str(cache)}
        with claim_domain(*SMOKE_DOMAINS) as domain:
            env = {**os.environ, 'VLA_BENCH_SMOKE': '1', 'ROS_DOMAIN_ID': str(domain.domain_id),
                   SMOKE_BUNDLES_ENV: str(bundles), **extra}
            res = subprocess.run([sys.executable, '-m', 'bench', '--smoke', name], cwd=ROOT,
                                 env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        return name, (res, time.monotonic() - t0)

    bundles = tmp_path_factory.mktemp('smoke_bundles')
    for cams in SMOKE_BUNDLE_CAMERAS:
        make_random_bundle(bundles / '_'.join(cams), cameras=cams)
    order = sorted(benchmarks(), key=lambda name: (
        SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)))
    with ThreadPoolExecutor(SMOKE_LANES) as pool:
        return dict(pool.map(run, order))


@pytest.mark.slow
@pytest.mark.parametrize('name', benchmarks())
def test_benchmark_smoke_mode_prints_its_line(name, smoke_runs, record_property):
    """``python -m bench --smoke NAME`` exits 0 and prints the benchmark's keys, smoke=1."""
    res, seconds = smoke_runs[name]
    record_property(f'measured: bench {name} smoke [s]', round(seconds, 1))
    assert res.returncode == 0, f'{res.stdout[-3000:]}\n{res.stderr[-3000:]}'
    kv = bench_line(name, res.stdout)
    if kv.get('skipped') == '1':  # bench remote without network namespaces (not root)
        pytest.skip(f'bench {name}: {kv.get("reason")}')
    assert kv.get('smoke') == '1', kv
    assert not EXPECTED[name] - kv.keys(), f'missing keys {EXPECTED[name] - kv.keys()}'
