"""
The fusion study: early / late / cross_attention / moe at the default's training budget.

Run by ``make fusion-study`` (``python -m vla_ros.cli.fusion_study``) after the bundles are
trained (``out/fusion/<fusion>``; cross_attention is ``models/default`` itself). Every stage
writes its per-episode results to ``docs/results/fusion/`` and is skipped when they are there
(resumable; delete a file to re-run it); the report is regenerated from those files only:

1. ``<fusion>.eval.json``: closed loop through the real ``mujoco_sim`` + ``vla_policy``
   processes, test seed block, ``--episodes`` per task kind, training phrasings;
2. ``<fusion>.robust.jsonl``: lockstep rollouts (the node's PolicyLoop, no DDS) on the same
   seeds for each condition of :data:`CONDITIONS` (``none`` = the lockstep baseline the others
   compare with), and the int8 twin of the bundle (``int8``, dynamic quantization);
3. ``<fusion>.timing.json``: policy ``run()`` p50/p95 (fp32 and int8, 1 thread), parameters,
   ONNX size.

Writes ``docs/fusion.md`` between its markers and ``docs/img/fusion_robustness.png``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
import shutil
import time

import numpy as np
from vla_ros.core.bundle.contract import MANIFEST_NAME
from vla_ros.core.bundle.manifest import load_bundle, write_manifest
from vla_ros.core.runtime.bundle_check import synthetic_frame
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.eval.episode import run_episodes
from vla_ros.eval.fusion_conditions import CONDITIONS, CORRUPTIONS, FUSIONS
from vla_ros.eval.fusion_report import write_report
from vla_ros.eval.kinds import trained_kinds
from vla_ros.eval.report import save_results
from vla_ros.eval.sim_rollout import lockstep_world, rollout
from vla_ros.sim.corruption import Corruption
from vla_ros.sim.eval_sets import eval_tasks
import yaml

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / 'docs' / 'results' / 'fusion'
TEST_OFFSET = 14_000  # index into the test block reserved for this study


def bundle_of(fusion: str, bundles: Path) -> Path:
    """Return the bundle directory of ``fusion`` (cross_attention: the shipped default)."""
    return ROOT / 'models' / 'default' if fusion == 'cross_attention' else bundles / fusion


def seeds(episodes: int) -> list[tuple[object, int]]:
    """(task, seed) pairs: ``episodes`` per kind the default knows, from the study's range."""
    return eval_tasks(episodes, trained_kinds(bundle_of('cross_attention', ROOT)), block='test',
                      seed_offset=TEST_OFFSET, paraphrase_every=0)


def int8_twin(bundle: Path, work: Path) -> Path:
    """Copy ``bundle`` with its policy graph dynamically quantized to int8 (cached)."""
    # optional heavy dependency: torch (via vla_ros.model.export), for the int8 twin only
    from vla_ros.model.export import quantize_int8
    out = work / f'{bundle.name}_int8'
    if not (out / MANIFEST_NAME).exists():
        tmp = work / f'{bundle.name}_int8.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(bundle, tmp)
        name = load_bundle(bundle).manifest.policy_file
        (tmp / name).unlink()
        quantize_int8(bundle / name, tmp / name)
        raw = yaml.safe_load((bundle / MANIFEST_NAME).read_text())
        raw['model_id'] = f'{raw["model_id"]}-int8'
        raw.setdefault('provenance', {})['int8'] = True
        raw.pop('files', None)
        write_manifest(tmp, raw)
        load_bundle(tmp)
        tmp.rename(out)
    return out


def headline(fusion: str, bundle: Path, episodes: int, results: Path = RESULTS) -> Path:
    """Stage 1: the node closed loop (skipped when its JSON exists)."""
    path = results / f'{fusion}.eval.json'
    if not path.exists():
        pairs = seeds(episodes)
        res = run_episodes(bundle, [t for t, _ in pairs], [s for _, s in pairs])
        save_results(path, res, {'name': fusion, 'bundle': str(bundle), 'mask': [],
                                 'episodes': episodes, 'block': 'test'})
    return path


def robustness(fusion: str, bundle: Path, episodes: int, work: Path,
               results: Path = RESULTS) -> Path:
    """Stage 2: lockstep rollouts per condition; appends rows not yet in the file."""
    path = results / f'{fusion}.robust.jsonl'
    rows = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()] \
        if path.exists() else []
    done = {(r['condition'], r['seed']) for r in rows}
    rts = {'fp32': PolicyRuntime.from_bundle(bundle)}
    world, rates = lockstep_world(rts['fp32'])
    pairs = seeds(episodes)
    with path.open('a') as f:
        for cond in CONDITIONS:
            todo = [(t, s) for t, s in pairs if (cond, s) not in done]
            if not todo:
                continue
            if cond == 'int8' and 'int8' not in rts:
                rts['int8'] = PolicyRuntime.from_bundle(int8_twin(bundle, work))
            rt = rts['int8' if cond == 'int8' else 'fp32']
            t0, ok = time.monotonic(), 0
            for task, seed in todo:
                mask = (cond.split(':', 1)[1],) if cond.startswith('mask:') else ()
                fault = Corruption(cond, seed=seed) if cond in CORRUPTIONS else None
                mon = rollout(world, rt, task, seed, rates=rates, mask=mask, corrupt=fault)
                ok += mon.success
                f.write(json.dumps({'condition': cond, 'seed': seed, 'kind': task.kind.value,
                                    'success': bool(mon.success), 'reason': mon.reason}) + '\n')
                f.flush()
            print(f'{fusion} {cond}: {ok}/{len(todo)} ({time.monotonic() - t0:.0f} s)',
                  flush=True)
    return path


def timing(fusion: str, bundle: Path, work: Path, runs: int = 200,
           results: Path = RESULTS) -> Path:
    """Stage 3: run() latency (fp32, int8), parameters, ONNX size."""
    path = results / f'{fusion}.timing.json'
    if path.exists():
        return path
    out = {'fusion': fusion, 'bundle': str(bundle.relative_to(ROOT) if bundle.is_relative_to(
        ROOT) else bundle)}
    for name, b in (('fp32', bundle), ('int8', int8_twin(bundle, work))):
        rt = PolicyRuntime.from_bundle(b, intra_op_threads=1)
        m = rt.manifest
        frame = dataclasses.replace(synthetic_frame(m, 1, np.random.default_rng(0)),
                                    command='pick up the red cube')
        feeds = rt.build_inputs(frame)
        for _ in range(10):
            rt.run_raw(feeds)
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            rt.run_raw(feeds)
            t.append((time.perf_counter() - t0) * 1e3)
        out[name] = {'run_ms_p50': float(np.median(t)), 'run_ms_p95': float(np.percentile(t, 95)),
                     'onnx_mb': (b / m.policy_file).stat().st_size / 1e6}
    prov = load_bundle(bundle).manifest.provenance
    out.update(params=prov.get('params'), steps=prov.get('steps'),
               final_loss=prov.get('final_loss'))
    path.write_text(json.dumps(out, indent=1))
    return path


def run_study(bundles: Path, *, fusions: tuple[str, ...] = FUSIONS, episodes: int = 10,
              stages: tuple[str, ...] = ('timing', 'robust', 'eval'),
              results: Path = RESULTS, md: Path = ROOT / 'docs' / 'fusion.md') -> None:
    """
    Run the ``stages`` that are missing for each fusion, then regenerate the report.

    ``bundles``: where the trained bundles are (``<bundles>/<fusion>``); ``episodes`` per task
    kind; ``results``: the per-episode results; ``md``: the report (its images beside it in
    ``img/``). An empty ``stages`` only regenerates the report.
    """
    results.mkdir(parents=True, exist_ok=True)
    work = bundles / 'int8'
    work.mkdir(parents=True, exist_ok=True)
    for fusion in fusions:
        b = bundle_of(fusion, bundles)
        if not (b / 'bundle.yaml').exists():
            print(f'{fusion}: no bundle at {b} yet (make fusion-study trains it); skipped')
            continue
        if 'timing' in stages:
            timing(fusion, b, work, results=results)
        if 'robust' in stages:
            robustness(fusion, b, episodes, work, results=results)
        if 'eval' in stages:
            headline(fusion, b, episodes, results=results)
    write_report(results, md, md.parent / 'img')
