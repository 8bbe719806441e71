"""``vla-ros <subcommand>``: tools for users of vla_ros.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported lazily so runtime commands never import torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Add new subcommands here.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    'command': ('vla_ros.cli.command_cmd', 'send a language command, stop, e-stop or clear'),
    'status': ('vla_ros.cli.status_cmd', 'print the policy node status'),
    'demo': ('vla_ros.cli.demo_cmd', 'run the end-to-end demo (what `make demo` runs)'),
    'export': ('vla_ros.cli.export_cmd', 'export a VLA policy to a verified ONNX policy bundle'),
    'inspect': ('vla_ros.cli.inspect_cmd', 'show a policy bundle\'s contract as tables'),
    'record': ('vla_ros.cli.record_cmd', 'record ROS topics (or expert demonstrations) to MCAP'),
    'train': ('vla_ros.cli.train_cmd', 'train a policy on recorded bags and export a bundle'),
    'eval': ('vla_ros.cli.eval_cmd', 'closed-loop success per task through the real nodes'),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='vla-ros', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='subcommand', required=True, metavar='SUBCOMMAND')
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(_module=module)
        # Arguments are added lazily in main() for the chosen subcommand only.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[argv[0]][0])
        sp = argparse.ArgumentParser(prog=f'vla-ros {argv[0]}',
                                     description=SUBCOMMANDS[argv[0]][1])
        module.add_arguments(sp)
        return int(module.run(sp.parse_args(argv[1:])) or 0)
    parser.parse_args(argv)  # prints usage / errors for unknown subcommands
    return 2


if __name__ == '__main__':
    sys.exit(main())
