"""
``BENCH hearing_task expert_success=... blind_success=...``: the keyword task needs hearing.

The ``keyword`` task (:mod:`vla_ros.sim.hearing_tasks`: lift the cube, hold it through 0-3
distractor words, release at "now") on ``--episodes`` seeds of the *dev* block, lockstep sim
(:func:`~vla_ros.sim.lockstep.run_expert_episode`, the judge of
:class:`~vla_ros.sim.task_suite.SuccessMonitor`):

- expert_success: the scripted expert, which hears the microphone stream the policy gets
  (keyword spotter, :mod:`vla_ros.sim.keyword_spotter`);
- blind_grid_best / blind_release_s: the best audio-free strategy -- release a fixed time after
  the lift -- searched over a 0.1 s grid on the same seeds (the judge's timing rule applied to
  the seeds' keyword times); blind_success: that strategy played in the sim (the expert, deaf,
  triggered so that the cube comes down at blind_release_s);
- first_word_success: "release at the first word heard" (hearing *that*, not *what*);
- keyword_s: the keyword's length; in_window_s: how long it lies whole in the policy's audio
  window (the default bundle's mel window).

Rates with 95 % Wilson intervals (``_lo`` / ``_hi``). Per-episode JSON:
``docs/results/hearing/dev_<episodes>.json`` (``--json``).

    python bench/bench_hearing_task.py --episodes 30      # ~8 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

DEV_OFFSET = 15_000          # index into the dev block reserved for this benchmark
GRID_S = [round(0.1 * i, 1) for i in range(121)]   # blind release times after the lift [s]
SMOKE_TIMEOUT_S = 2.0        # smoke: episodes of 2 s sim time (nothing is solved)


def _blind_expert_class():
    from vla_ros.sim.expert import ScriptedExpert

    class BlindExpert(ScriptedExpert):
        """The expert, deaf: releases ``trigger_s`` after it first sees the cube lifted."""

        trigger_s = 0.0
        _lift_t: float | None = None

        @property
        def listens(self) -> bool:
            return False

        def act(self, st):
            if self._lift_t is None and st.predicates.get(f'{self.task.obj}_lifted'):
                self._lift_t = st.sim_time
            if self._lift_t is not None and self.beep_at is None \
                    and st.sim_time >= self._lift_t + self.trigger_s - 1e-9:
                self.beep_at = st.sim_time
            return super().act(st)

    return BlindExpert


def _episode(world, ik, seed: int, expert=None, timeout_s: float | None = None) -> dict:
    import dataclasses
    from vla_ros.sim.lockstep import run_expert_episode
    from vla_ros.sim.task_suite import make_task
    task = make_task('keyword', seed)
    if timeout_s is not None:
        task = dataclasses.replace(task, timeout_s=timeout_s)
    out = run_expert_episode(world, task, seed, ik=ik, settle_s=0.0, expert=expert)
    m = out.monitor
    return {'seed': seed, 'command': task.command, 'success': out.success, 'reason': out.reason,
            'lift_time': m.lift_time, 'said': m.hearing.said,
            'keyword_time': m.hearing.keyword_time, 'release_time': m.hearing.release_time,
            'duration_s': round(out.duration_s, 2)}


def main() -> int:
    """Run the episodes and print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--episodes', type=int, default=30)
    p.add_argument('--json', default=None, help='per-episode JSON (default: '
                   'docs/results/hearing/dev_<episodes>.json; smoke: a temporary file)')
    args = p.parse_args()
    from vla_ros.eval.stats import rate_tokens
    from vla_ros.sim.expert import ScriptedExpert
    from vla_ros.sim.hearing_tasks import blind_success, first_word_success, KEYWORD
    from vla_ros.sim.ik import IkSolver
    from vla_ros.sim.keyword_spotter import KeywordSpotter
    from vla_ros.sim.task_suite import block_seed, make_task
    from vla_ros.sim.world import SimWorld
    import yaml
    t0, load0 = time.monotonic(), os.getloadavg()[0]
    n = S.pick(args.episodes, 1)
    timeout = S.pick(None, SMOKE_TIMEOUT_S)
    seeds = [block_seed('dev', DEV_OFFSET + i) for i in range(n)]
    world = SimWorld()
    ik = IkSolver(world.model)
    dt = 0.1
    rows, trigger_lat = [], []
    for s in seeds:
        ex = ScriptedExpert(make_task('keyword', s), ik, world.home, dt)
        r = _episode(world, ik, s, ex, timeout)
        r['heard_at'] = ex.beep_at
        if r['release_time'] is not None and ex.beep_at is not None:
            trigger_lat.append(r['release_time'] - ex.beep_at)
        rows.append(r)
    grid = {d: blind_success(seeds, d) for d in GRID_S}
    best_d = max(grid, key=lambda d: (grid[d], -d))
    lat = statistics.median(trigger_lat) if trigger_lat else 0.3
    blind_cls = _blind_expert_class()
    blind_rows = []
    for s in seeds:
        ex = blind_cls(make_task('keyword', s), ik, world.home, dt)
        ex.trigger_s = max(0.0, best_d - lat)
        blind_rows.append(_episode(world, ik, s, ex, timeout))
    world.close()
    bundle = yaml.safe_load((ROOT / 'models' / 'default' / 'bundle.yaml').read_text())
    window_s = next(float(i['preprocessing']['mel']['window_s']) for i in bundle['inputs']
                    if i.get('modality') == 'audio')
    keyword_s = KeywordSpotter(KEYWORD, 16000).template_s

    def rate(rs: list[dict], key: str) -> str:
        return rate_tokens(sum(r['success'] for r in rs), len(rs), key)

    line = (f'BENCH hearing_task {rate(rows, "expert_success")} '
            f'{rate(blind_rows, "blind_success")}'
            f' blind_grid_best={grid[best_d]:.2f} blind_release_s={best_d:.1f}'
            f' first_word_success={first_word_success(seeds):.2f} episodes={n}'
            f' release_latency_s={lat:.2f} keyword_s={keyword_s:.2f} window_s={window_s:.1f}'
            f' in_window_s={window_s - keyword_s:.2f} block=dev seeds={seeds[0]}..{seeds[-1]}'
            f' load={load0:.1f}/{os.getloadavg()[0]:.1f} wall_s={time.monotonic() - t0:.0f}'
            + S.tag())
    out = pathlib.Path(args.json) if args.json and not S.SMOKE else (
        S.out_dir(ROOT / 'docs' / 'results' / 'hearing') / f'dev_{n}.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'summary': line, 'blind_grid': grid, 'expert': rows,
                               'blind': blind_rows}, indent=1))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
