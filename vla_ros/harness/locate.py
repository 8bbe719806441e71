"""
Where the default policy bundle and the config files live, wherever a command runs.

No rclpy import here.

Looked up in order: ``$VLA_ROS_BUNDLE``; ``models/default`` of the source checkout this
package was imported from (a colcon ``--symlink-install`` or a plain checkout); the installed
share directory (``ros2 pkg prefix vla_ros``/share/vla_ros/models/default, via ament_index).
"""

from __future__ import annotations

import os
from pathlib import Path

from vla_ros.core.bundle.contract import MANIFEST_NAME
from vla_ros.errors import BundleMissingFileError, ConfigError

PACKAGE = 'vla_ros'
BUNDLE_ENV = 'VLA_ROS_BUNDLE'
DEFAULT_BUNDLE_DIR = Path('models') / 'default'
SIM_CONFIG_NAME = 'sim.yaml'


def default_bundle_candidates() -> list[Path]:
    """Every place the default bundle is looked for, in order."""
    out = []
    if os.environ.get(BUNDLE_ENV):
        out.append(Path(os.environ[BUNDLE_ENV]))
    out.append(Path(__file__).resolve().parents[2] / DEFAULT_BUNDLE_DIR)
    try:
        # optional dependency: ament_index_python (a ROS install; else the checkout)
        from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
        try:
            out.append(Path(get_package_share_directory(PACKAGE)) / DEFAULT_BUNDLE_DIR)
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    return list(dict.fromkeys(out))


def find_default_bundle() -> Path:
    """
    Return the first candidate holding a bundle.yaml.

    Otherwise raises BundleMissingFileError naming every place looked at.
    """
    env = os.environ.get(BUNDLE_ENV)
    if env and not (Path(env) / MANIFEST_NAME).is_file():
        raise BundleMissingFileError(f'{BUNDLE_ENV}={env}: no {MANIFEST_NAME} there')
    candidates = default_bundle_candidates()
    for c in candidates:
        if (c / MANIFEST_NAME).is_file():
            return c
    raise BundleMissingFileError(
        'no default policy bundle: looked in ' + ', '.join(str(c) for c in candidates)
        + f'; give --bundle, set {BUNDLE_ENV}, or run `make train`')


def config_file(name: str = SIM_CONFIG_NAME) -> Path:
    """
    Return ``config/<name>`` of this checkout, else of the installed share directory.

    Raises ConfigError naming both places when neither has it.
    """
    candidates = [Path(__file__).resolve().parents[2] / 'config' / name]
    try:
        # optional dependency: ament_index_python (a ROS install; else the checkout)
        from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
        try:
            candidates.append(Path(get_package_share_directory(PACKAGE)) / 'config' / name)
        except PackageNotFoundError:
            pass
    except ImportError:
        pass
    for c in candidates:
        if c.is_file():
            return c
    raise ConfigError(f'config file {name} not found in ' + ', '.join(map(str, candidates)))
