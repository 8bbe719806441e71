"""
ROS-free MuJoCo tabletop world: robot description, MJCF, rendering, audio, tasks, IK.

Importing this package selects a headless OpenGL backend for MuJoCo before ``mujoco`` is
imported anywhere: ``MUJOCO_GL`` as set by the user, else EGL when libEGL is present, else
OSMesa. Import ``vla_ros.sim`` (or any submodule) before ``mujoco``.
"""

from __future__ import annotations

import ctypes.util
import os
import sys


def select_gl_backend() -> str:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) for headless rendering; returns it."""
    backend = os.environ.get('MUJOCO_GL')
    if not backend:
        if ctypes.util.find_library('EGL'):
            backend = 'egl'
        elif ctypes.util.find_library('OSMesa'):
            backend = 'osmesa'
        else:
            backend = 'egl'
        if 'mujoco' not in sys.modules:
            os.environ['MUJOCO_GL'] = backend
    if backend in ('egl', 'osmesa'):
        os.environ.setdefault('PYOPENGL_PLATFORM', backend)
    return backend


GL_BACKEND = select_gl_backend()
