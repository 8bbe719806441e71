"""ament_pep257 with the ament convention (summary on the line after the opening quotes)."""

from lint_paths import lint_paths
import pytest

try:
    from ament_pep257.main import main
except ImportError:  # the linters come with `make setup` (requirements/tools.txt)
    main = None


@pytest.mark.linter
@pytest.mark.pep257
@pytest.mark.skipif(main is None, reason='ament_pep257 is not installed (make setup installs it)')
def test_pep257():
    """ament_pep257 with its default (ament) convention finds nothing."""
    rc = main(argv=lint_paths())
    assert rc == 0, 'Found code style errors / warnings (see the output above)'
