"""
inference_server.launch.py checked statically (launch is not installable here).

Every launch argument is described, the node is a console script, and every parameter it sets
is one vla_inference declares; robot.launch.py passes ``inference`` through.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAUNCH = ROOT / 'launch/inference_server.launch.py'


def _calls(tree, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and
            getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def _kw(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_server_launch_sets_only_declared_parameters_of_a_console_script():
    from vla_ros.params import INFERENCE_PARAMETERS

    tree = ast.parse(LAUNCH.read_text())
    args = {ast.literal_eval(c.args[0]): _kw(c, 'description')
            for c in _calls(tree, 'DeclareLaunchArgument')}
    assert {'bundle', 'robots', 'max_batch', 'batch_window_ms', 'providers'} <= set(args)
    assert all(d is not None and len(ast.unparse(d)) > 15 for d in args.values())
    (node,) = _calls(tree, 'Node')
    assert ast.literal_eval(_kw(node, 'executable')) == 'vla_inference'
    setup_py = (ROOT / 'setup.py').read_text()
    assert "'vla_inference = vla_ros.cli.nodes.vla_inference:main'" in setup_py
    params = _kw(node, 'parameters').elts[0]
    names = {ast.literal_eval(k) for k in params.keys}
    assert names <= set(INFERENCE_PARAMETERS), names - set(INFERENCE_PARAMETERS)
    used = {n.args[0].value for n in _calls(params, 'LaunchConfiguration')}
    assert used <= set(args)


def test_robot_launch_passes_the_inference_mode():
    from vla_ros.params import POLICY_PARAMETERS

    text = (ROOT / 'launch/robot.launch.py').read_text()
    assert "'inference': LaunchConfiguration('inference')" in text
    assert POLICY_PARAMETERS['inference'].default == 'local'
