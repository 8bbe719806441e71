"""ament_flake8 with the ROS 2 settings: 99 columns, single quotes, google import order."""

from lint_paths import lint_paths
import pytest

try:
    from ament_flake8.main import main_with_errors
except ImportError:  # the linters come with `make setup` (requirements/tools.txt)
    main_with_errors = None


@pytest.mark.flake8
@pytest.mark.linter
@pytest.mark.skipif(main_with_errors is None,
                    reason='ament_flake8 is not installed (make setup installs it)')
def test_flake8():
    """ament_flake8's own configuration (ament_flake8.ini) finds nothing."""
    rc, errors = main_with_errors(argv=lint_paths())
    assert rc == 0, f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)
