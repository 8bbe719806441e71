"""
The vla-ros command line: run, inspect, train and evaluate VLA policies on ROS 2.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported lazily so runtime commands never import torch.
Errors are one line on stderr and a non-zero exit status (see :mod:`vla_ros.cli.common`).
"""

from __future__ import annotations

import importlib
import sys

from vla_ros.cli.common import ArgumentParser, run_command

# name -> (module, one-line help). Add new subcommands here.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    'command': ('vla_ros.cli.command_cmd', 'send a language command, stop, e-stop or clear'),
    'status': ('vla_ros.cli.status_cmd', 'print the policy node status'),
    'demo': ('vla_ros.cli.demo_cmd', 'run the end-to-end demo (what `make demo` runs)'),
    'export': ('vla_ros.cli.export_cmd', 'export a VLA policy to a verified ONNX policy bundle'),
    'inspect': ('vla_ros.cli.inspect_cmd', "show a policy bundle's contract as tables"),
    'bundle': ('vla_ros.cli.bundle_cmd',
               'draft (init) and check a bundle for an ONNX policy; show its tokens'),
    'record': ('vla_ros.cli.record_cmd', 'record ROS topics (or expert demonstrations) to MCAP'),
    'dataset': ('vla_ros.cli.dataset_cmd', 'recordings to LeRobotDatasets and back'),
    'train': ('vla_ros.cli.train_cmd', 'train a policy on recorded bags and export a bundle'),
    'eval': ('vla_ros.cli.eval_cmd', 'closed-loop success per task through the real nodes'),
    'serve': ('vla_ros.cli.serve_cmd',
              'Ray Serve for vla_inference backend ray: start a head (+ deploy) or a worker'),
}
EPILOG = 'Run `vla-ros SUBCOMMAND --help` for the options of one subcommand.'


def build_parser() -> ArgumentParser:
    """Build the top-level parser (subcommand arguments are added lazily by :func:`main`)."""
    parser = ArgumentParser(prog='vla-ros', description=__doc__.strip().splitlines()[0],
                            epilog=EPILOG)
    sub = parser.add_subparsers(dest='subcommand', required=True, metavar='SUBCOMMAND')
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(_module=module)
    return parser


def subcommand_parser(name: str) -> ArgumentParser:
    """Build the full parser of one subcommand (imports its module)."""
    module = importlib.import_module(SUBCOMMANDS[name][0])
    doc = (module.__doc__ or '').strip()
    parser = ArgumentParser(prog=f'vla-ros {name}',
                            description=_plain(doc) if doc else SUBCOMMANDS[name][1])
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run)
    return parser


def _plain(rst: str) -> str:
    """Render a module docstring as terminal text: RST double back-quotes become single."""
    return rst.replace('``', '`')


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        name = argv[0]
        args = subcommand_parser(name).parse_args(argv[1:])
        return run_command(f'vla-ros {name}', lambda: args._run(args))
    build_parser().parse_args(argv)  # prints usage / errors for unknown subcommands
    return 2


if __name__ == '__main__':
    sys.exit(main())
