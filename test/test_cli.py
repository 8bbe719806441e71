"""The vla-ros command line dispatches to its subcommand modules."""

import importlib

import pytest

from vla_ros.cli.main import SUBCOMMANDS, main


@pytest.mark.parametrize('name', sorted(SUBCOMMANDS))
def test_every_subcommand_module_has_the_interface(name):
    module = importlib.import_module(SUBCOMMANDS[name][0])
    assert callable(module.add_arguments) and callable(module.run)


def test_unknown_subcommand_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(['no-such-command'])
    assert exc.value.code == 2
    assert 'invalid choice' in capsys.readouterr().err
