"""
Closed-loop episodes through the REAL nodes.

``mujoco_sim`` and ``vla_policy`` run as processes; this process only does what an operator and
a referee would do — reset the world with a seed, send the command on ``/vla/command``, sound
the beep when a BEEP task asks for it, and judge success from ``/sim/task_state``.

    from vla_ros.eval.episode import run_episodes
    results = run_episodes('models/default', [make_task('pick', 100000)], [100000])

The processes stay up across episodes (``stop`` command + sim reset between episodes). Both
nodes run with ``config/sim.yaml``, the file the launch file passes, plus only the overrides
an episode needs: the bundle, a mask, the real-time factor, and the camera and sensor rates the
bundle's demonstrations were recorded with (``provenance.recorded_with`` of the bundle, where
they differ from the file). :attr:`EpisodeRunner.overrides` says which; demo and eval print
and record them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
import tempfile
import threading
import time

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image
from std_msgs.msg import String, UInt32
from vla_ros import constants as C
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.masking import check_mask
from vla_ros.errors import NodeFailedError, ProcessError
from vla_ros.eval.episode_result import EpisodeResult
from vla_ros.eval.episode_watch import EpisodeWatch, VIDEO_CAMERAS
from vla_ros.eval.video import write_gif
from vla_ros.harness.domains import claim_domain, DomainClaim
from vla_ros.harness.procs import check_all, NodeProcess, ros_args, wait_until
from vla_ros.harness.sim_config import (bundle_sim_params, NodeParams, policy_node_params,
                                        sim_node_params)
from vla_ros.qos import LATCHED_QOS, RELIABLE_QOS, SENSOR_QOS
from vla_ros.sim.task_suite import SuccessMonitor, TaskSpec
from vla_ros_msgs.msg import PolicyStatus

EPISODE_DOMAINS = (20, 200)  # default ROS_DOMAIN_IDs of an episode's processes (inclusive)
STOP_STATUS_S = 2.0  # [s] wall: how long an episode's end waits for the stop's status


class EpisodeRunner:
    """
    Starts the sim and policy processes once; :meth:`run` plays one episode.

    :param bundle: policy bundle directory.
    :param mask: modalities the policy sees as absent (vla_policy ``mask_modalities``).
    :param log_dir: where process logs (and the override params files) go (default: a temp dir).
    :param rtf: sim real-time factor (1.0 = real time; the policy runs on sim time).
    :param domain_id: ROS_DOMAIN_ID for the processes and this runner (default: a free one of
        EPISODE_DOMAINS, claimed from :meth:`start` to :meth:`close`: vla_ros.harness.domains).
    :param sim_overrides / policy_overrides: more parameters to change (validated, printed).
    :param params_file: instead of ``config/sim.yaml``.
    :param restart_policy: start a fresh ``vla_policy`` for each episode after the first
        (default False: one policy process lives across sim resets, which is itself part of
        what an episode exercises: the clock jumping back must not stall the policy).
    :param namespace: ROS namespace of both nodes and of this runner ('' = the root), as
        ``mujoco.launch.py namespace:=...`` runs them.
    """

    def __init__(self, bundle: str | Path, *, mask: Sequence[str] = (),
                 log_dir: str | Path | None = None, rtf: float = 1.0,
                 domain_id: int | None = None,
                 sim_overrides: Mapping[str, object] | None = None,
                 policy_overrides: Mapping[str, object] | None = None,
                 params_file: str | Path | None = None, restart_policy: bool = False,
                 namespace: str = '', speak: bool = False) -> None:
        self.bundle = Path(bundle)
        self.namespace = '/' + namespace.strip().strip('/')
        self.mask = check_mask(mask)
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix='vla_episode_'))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.rtf = rtf
        self.domain_id = domain_id  # None: claimed in start(), released in close()
        self._domain_claim: DomainClaim | None = None
        # the sensors the bundle was trained on (provenance.recorded_with), then the rtf
        sim = dict(bundle_sim_params(load_bundle(self.bundle).manifest.provenance,
                                     params_file=params_file).overrides)
        if rtf != 1.0:
            sim['real_time_factor'] = float(rtf)
        pol: dict[str, object] = {'bundle': str(self.bundle.resolve())}
        if self.mask:
            pol['mask_modalities'] = list(self.mask)
        self.sim_params: NodeParams = sim_node_params({**sim, **(sim_overrides or {})},
                                                      params_file=params_file)
        self.policy_params: NodeParams = policy_node_params(
            {**pol, **(policy_overrides or {})}, params_file=params_file)
        self.procs: list[NodeProcess] = []
        self.restart_policy = restart_policy
        self.speak = speak  # say commands into the sim microphone; speech_command hears them
        self.episodes = 0
        self.watch = EpisodeWatch()  # what the runner hears (task states, statuses, video)
        self.context = None

    @property
    def overrides(self) -> dict[str, dict[str, object]]:
        """Node -> the parameters this runner sets beyond its params file."""
        return {p.node: dict(p.overrides) for p in (self.sim_params, self.policy_params)}

    def describe(self) -> str:
        """Two lines: each node's params file and overrides."""
        return f'{self.sim_params.describe()}\n{self.policy_params.describe()}'

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout_s: float = 120.0) -> EpisodeRunner:
        """
        Start both processes and wait until the policy reports a state.

        On failure everything started is stopped again.
        """
        try:
            return self._start(timeout_s)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout_s: float) -> EpisodeRunner:
        if self.domain_id is None:
            self._domain_claim = claim_domain(*EPISODE_DOMAINS)
            self.domain_id = self._domain_claim.domain_id
        env = self._env = {'ROS_DOMAIN_ID': str(self.domain_id)}
        self.procs = [
            NodeProcess('mujoco_sim', self.sim_params.ros_args(self.log_dir, self.namespace),
                        env=env,
                        log_path=self.log_dir / 'mujoco_sim.log').start(),
            self._policy_process().start()]
        if self.speak:
            ns = ['-r', f'__ns:={self.namespace}'] if self.namespace != '/' else []
            self.procs.append(NodeProcess(
                'speech_command', ros_args(params={'bundle': str(self.bundle.resolve())}) + ns,
                env=env, log_path=self.log_dir / 'speech_command.log').start())
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=self.domain_id)
        node = self.node = rclpy.create_node('vla_episode_runner', context=self.context,
                                             namespace=self.namespace)
        # relative names: the nodes' topics in self.namespace
        node.create_subscription(String, C.SIM_TASK_STATE_TOPIC, self.watch.on_state,
                                 LATCHED_QOS)
        node.create_subscription(PolicyStatus, 'vla_policy/status', self.watch.on_status,
                                 LATCHED_QOS)
        for cam in VIDEO_CAMERAS:
            node.create_subscription(Image, C.camera_topic(cam),
                                     lambda m, c=cam: self.watch.on_image(c, m),
                                     SENSOR_QOS)
        self.cmd_pub = node.create_publisher(String, C.COMMAND_TOPIC, LATCHED_QOS)
        self.reset_pub = node.create_publisher(UInt32, C.SIM_RESET_SEED_TOPIC, RELIABLE_QOS)
        self.sound_pub = node.create_publisher(String, C.SIM_SOUND_TOPIC, RELIABLE_QOS)
        self._String, self._UInt32 = String, UInt32
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        # the children are watched while waiting: a node that exits or fails to configure
        # ends the wait within a poll period, quoting its own error
        ok = wait_until(lambda: self._check_procs(fault=True) or (
            self.watch.latest() is not None and self.watch.status is not None
            and self.watch.status.state_name in ('idle', 'running', 'holding')
            and (not self.speak or node.count_publishers('speech_command/status'))), timeout_s)
        if not ok:
            self._check_procs()
            raise ProcessError(f'sim/policy not ready within {timeout_s:.0f} s '
                               f'(logs in {self.log_dir})')
        return self

    def _policy_process(self) -> NodeProcess:
        self._policy_starts = getattr(self, '_policy_starts', 0) + 1
        args = self.policy_params.ros_args(self.log_dir, self.namespace)
        return NodeProcess('vla_policy', args, env=self._env,
                           log_path=self.log_dir / f'vla_policy_{self._policy_starts}.log')

    def _restart_policy(self, timeout_s: float = 60.0) -> None:
        """Start a fresh vla_policy process (see ``restart_policy``)."""
        self.procs[1].stop()
        self.watch.forget_status()
        self.procs[1] = self._policy_process().start()
        if not wait_until(lambda: self._check_procs(fault=True) or (
                self.watch.status is not None and self.watch.status.state_name == 'idle'),
                timeout_s):
            self._check_procs()
            raise ProcessError(f'vla_policy not idle {timeout_s:.0f} s after a restart')

    def _spin(self) -> None:
        while self.context is not None and self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: BLE001 - shutdown races end the spin thread
                return

    def close(self) -> None:
        if self.context is not None:
            ctx, self.context = self.context, None
            try:
                self.executor.shutdown()
                self.node.destroy_node()
            finally:
                ctx.try_shutdown()
        for p in reversed(self.procs):
            p.stop()
        self.procs = []
        if self._domain_claim is not None:  # a domain start() claimed: free it again
            self._domain_claim.release()
            self._domain_claim = None
            self.domain_id = None

    def __enter__(self) -> EpisodeRunner:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- processes ---------------------------------------------------------------------------
    def _check_procs(self, *, fault: bool = False) -> None:
        """
        Raise NodeFailedError (one line, quoting the node) when a child has failed.

        A child has failed when it exited or logged a configuration error; with ``fault``
        (while starting) also when the policy reports state ``fault``.
        """
        check_all(self.procs)
        st = self.watch.status
        if fault and st is not None and st.state_name == 'fault':
            raise NodeFailedError(f'vla_policy: fault: {st.reason or "no reason given"}')

    # -- episodes ----------------------------------------------------------------------------
    def run(self, task: TaskSpec, seed: int, *, record_video: bool = False,
            video_every: int = 1) -> EpisodeResult:
        """Reset to ``seed``, command ``task.command``, run until decided or timeout."""
        self._check_procs()
        self.cmd_pub.publish(self._String(data='stop'))
        wait_until(lambda: self._check_procs() or self.watch.state_name() != 'running', 5.0)
        if self.restart_policy and self.episodes:
            self.procs[1].stop()
        before = self.watch.latest()
        self.reset_pub.publish(self._UInt32(data=int(seed)))
        if not wait_until(lambda: (s := self.watch.latest()) is not None and s.seed == seed
                          and (before is None or s.episode > before.episode), 10.0):
            self._check_procs()
            raise ProcessError(f'sim did not reset to seed {seed}')
        if self.restart_policy and self.episodes:
            self._restart_policy()
        self.episodes += 1
        wait_until(lambda: self.watch.latest().sim_time >= 0.3, 5.0)
        t_command = self.watch.latest().sim_time
        self.watch.start_episode(record_video)
        monitor = SuccessMonitor(task, seed, t0=t_command)
        t_wall = time.monotonic()
        if self.speak:  # spoken into the microphone; the policy gets what speech_command heard
            self.sound_pub.publish(self._String(data=f'say:{task.command}'))
        else:
            self.cmd_pub.publish(self._String(data=task.command))
        deadline = t_wall + 10.0 + 3.0 * task.timeout_s / max(self.rtf, 0.05)
        done, seen, n_state = False, 0, 0
        while not done and time.monotonic() < deadline:
            new = self.watch.states_since(seen)
            seen += len(new)
            for st in new:
                n_state += 1
                if monitor.update(st):
                    done = True
                    break
                # the beep, a keyword task's words; referee's clock, confirmed by events
                for spec in monitor.sounds_due(st.sim_time):
                    self.sound_pub.publish(self._String(data=spec))
            refused = self.watch.refusal()
            if refused:  # the policy holds and says why: nothing more will happen
                monitor.reason, done = f'refused: {refused}', True
            elif not new:
                time.sleep(0.02)
                self._check_procs()
        if not done:
            monitor.reason = 'wall-clock timeout (sim or policy too slow)'
        wall = time.monotonic() - t_wall
        n_before_stop = self.watch.status_count()
        self.cmd_pub.publish(self._String(data='stop'))
        self.watch.stop_video()
        # the stop's status still has this command's boundary steps, up to its last tick
        wait_until(lambda: self.watch.stopped_status(n_before_stop) is not None, STOP_STATUS_S)
        hist, frames = self.watch.take_episode()
        run = [s for s in hist if s.state_name == 'running'] or hist
        # this command's statuses (one before it was taken shows the last episode's steps)
        ours = [s for s in hist if s.command] + [self.watch.stopped_status(n_before_stop)]
        mean = lambda k: float(np.mean([getattr(s, k) for s in run])) if run else 0.0  # noqa
        return EpisodeResult(
            task=task.name, kind=task.kind.value, colour=task.colour, command=task.command,
            seed=seed, success=monitor.success, reason=monitor.reason,
            duration_s=round(monitor.last_time - monitor.t0, 2), wall_s=round(wall, 2),
            latency_ms=mean('inference_latency_ms'), e2e_ms=mean('e2e_latency_ms'),
            control_rate_hz=mean('control_rate_hz'), frame_rate_hz=mean('frame_rate_hz'),
            chunks=int(hist[-1].chunks) if hist else 0, mask=self.mask,
            held_out=task.held_out, variant=task.variant,
            policy_command=next((s.command for s in reversed(hist)
                                 if s.state_name == 'running'), ''),
            boundary_step_max=max((s.boundary_step_max for s in ours if s), default=0.0),
            boundary_step_max_planned=max((s.boundary_step_max_planned for s in ours if s),
                                          default=0.0),
            chunk_boundaries=max((s.chunk_boundaries for s in ours if s), default=0),
            frames=frames[::max(1, video_every)])


def run_episodes(bundle: str | Path, tasks: Sequence[TaskSpec], seeds: Sequence[int], *,
                 mask: Sequence[str] | None = None, record_video: str | Path | None = None,
                 log_dir: str | Path | None = None, rtf: float = 1.0,
                 progress: Callable[[EpisodeResult], None] | None = None,
                 on_start: Callable[[EpisodeRunner], None] | None = None,
                 policy_overrides: Mapping[str, object] | None = None
                 ) -> list[EpisodeResult]:
    """
    Run ``tasks[i]`` with ``seeds[i]`` through one sim + policy process pair.

    ``record_video``: a directory; each episode's front-camera frames are written there as
    ``<task>_<seed>.gif``. ``on_start(runner)`` is called once its parameters are known
    (before the nodes start), ``progress(result)`` after each episode;
    ``policy_overrides``: more vla_policy parameters (printed with the others).
    """
    if len(tasks) != len(seeds):
        raise ValueError(f'{len(tasks)} tasks but {len(seeds)} seeds')
    results = []
    runner = EpisodeRunner(bundle, mask=mask or (), log_dir=log_dir, rtf=rtf,
                           policy_overrides=policy_overrides)
    if on_start:
        on_start(runner)
    with runner:
        for task, seed in zip(tasks, seeds):
            r = runner.run(task, seed, record_video=record_video is not None)
            if record_video is not None and r.frames:
                write_gif(Path(record_video) / f'{r.task}_{seed}.gif', r.frames)
            results.append(r)
            if progress:
                progress(r)
    return results
