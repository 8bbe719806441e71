"""
What an :class:`~vla_ros.eval.episode.EpisodeRunner` hears during an episode (ROS-free).

The sim's task states (``/sim/task_state``), the policy's statuses (``vla_policy/status``)
and, while a video is wanted, the front and wrist images side by side. The callbacks run on
the runner's spin thread, the runner reads from its own: one lock guards everything.
"""

from __future__ import annotations

import threading

import numpy as np
from vla_ros.core.bundle.competence import REFUSAL_PREFIX
from vla_ros.sim.tasks import TaskState

VIDEO_CAMERAS = ('front', 'wrist')  # recorded side by side (front drives the frame rate)


class EpisodeWatch:
    """Task states, policy statuses and video frames of the current episode (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: list[TaskState] = []
        self._status = None
        self._status_hist: list = []
        self._frames: list[np.ndarray] = []
        self._front_only: list[np.ndarray] = []
        self._latest_image: dict[str, np.ndarray] = {}
        self._want_frames = False

    # -- callbacks ---------------------------------------------------------------------------
    def on_state(self, msg) -> None:
        """Keep a ``/sim/task_state`` message (JSON in a String)."""
        st = TaskState.from_json(msg.data)
        with self._lock:
            self._states.append(st)

    def on_status(self, msg) -> None:
        """Keep a PolicyStatus."""
        with self._lock:
            self._status = msg
            self._status_hist.append(msg)

    def on_image(self, camera: str, msg) -> None:
        """Video: on each front image, the front and the latest wrist image side by side."""
        if not self._want_frames:
            return
        img = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width, 3).copy()
        with self._lock:
            self._latest_image[camera] = img
            if camera == VIDEO_CAMERAS[0]:
                side = [self._latest_image.get(c) for c in VIDEO_CAMERAS]
                if all(x is not None and x.shape == img.shape for x in side):
                    self._frames.append(np.concatenate(side, axis=1))
                else:  # before every camera was seen (or a robot without a wrist camera)
                    self._front_only.append(img)

    # -- reading -----------------------------------------------------------------------------
    @property
    def status(self):
        """Return the newest PolicyStatus, or None."""
        with self._lock:
            return self._status

    def forget_status(self) -> None:
        """Forget the newest status (a fresh policy process reports anew)."""
        with self._lock:
            self._status = None

    def refusal(self) -> str:
        """Return the policy's reason when it refused the episode's command, else ''."""
        with self._lock:
            st = self._status_hist[-1] if self._status_hist else None
        return st.reason if st is not None and st.reason.startswith(REFUSAL_PREFIX) else ''

    def stopped_status(self, since: int):
        """Return the first status after index ``since`` without a command, or None."""
        with self._lock:
            return next((s for s in self._status_hist[since:] if not s.command), None)

    def state_name(self) -> str:
        """Return the policy's newest state name ('' before any status)."""
        with self._lock:
            return self._status.state_name if self._status is not None else ''

    def latest(self) -> TaskState | None:
        """Return the newest task state, or None."""
        with self._lock:
            return self._states[-1] if self._states else None

    def states_since(self, seen: int) -> list[TaskState]:
        """Return the task states after the first ``seen`` of this episode."""
        with self._lock:
            return self._states[seen:]

    def status_count(self) -> int:
        """Return how many statuses this episode has heard so far."""
        with self._lock:
            return len(self._status_hist)

    # -- episodes ----------------------------------------------------------------------------
    def start_episode(self, record_video: bool) -> None:
        """Forget the last episode's states, statuses and frames; record video or not."""
        with self._lock:
            self._states.clear()
            self._status_hist.clear()
        with self._lock:
            self._frames, self._front_only, self._latest_image = [], [], {}
        self._want_frames = record_video

    def stop_video(self) -> None:
        """Record no more frames."""
        self._want_frames = False

    def take_episode(self) -> tuple[list, list[np.ndarray]]:
        """Return the episode's statuses and video frames (same-size frames); drop the frames."""
        with self._lock:
            hist = list(self._status_hist)
            frames = self._frames or self._front_only  # same-size frames for one video
            self._frames, self._front_only = [], []
        return hist, frames
