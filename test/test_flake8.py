"""ament_flake8 with the ROS 2 settings: 99 columns, single quotes, google import order."""

import subprocess
import sys

from lint_paths import lint_paths
import pytest

try:
    from ament_flake8.main import main_with_errors
except ImportError:  # the linters come with `make setup` (requirements/tools.txt)
    main_with_errors = None

# flake8 forks a process pool; forked from this pytest process (rclpy, torch and onnxruntime
# threads of earlier tests alive) its workers can crash, so it runs in a fresh interpreter.
RUN = ('import sys\n'
       'from ament_flake8.main import main_with_errors\n'
       'rc, errors = main_with_errors(argv=sys.argv[1:])\n'
       "print('\\n'.join(errors))\n"
       'sys.exit(rc)\n')


@pytest.mark.flake8
@pytest.mark.linter
@pytest.mark.skipif(main_with_errors is None,
                    reason='ament_flake8 is not installed (make setup installs it)')
def test_flake8():
    """ament_flake8's own configuration (ament_flake8.ini) finds nothing."""
    res = subprocess.run([sys.executable, '-c', RUN, *lint_paths()], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, f'code style errors / warnings:\n{res.stdout}{res.stderr}'
