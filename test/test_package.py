"""package.xml, setup.py and the code agree; both packages are built by colcon."""

from __future__ import annotations

import ast
import importlib
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Python modules that belong to ROS packages (need a rosdep key in package.xml).
ROS_MODULE = re.compile(r'^(rclpy|ament_index_python|builtin_interfaces|rcl_interfaces|'
                        r'launch|launch_ros|.+_msgs|.+_srvs)$')


def _setup_console_scripts() -> list[str]:
    tree = ast.parse((ROOT / 'setup.py').read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and node.targets[0].id == 'CONSOLE_SCRIPTS':
            return [ast.literal_eval(e) for e in node.value.elts]
    raise AssertionError('setup.py has no CONSOLE_SCRIPTS list')


def _package_xml_deps(path: pathlib.Path) -> set[str]:
    root = ET.parse(path).getroot()
    tags = ('depend', 'exec_depend', 'build_depend', 'test_depend', 'buildtool_depend')
    return {e.text.strip() for tag in tags for e in root.findall(tag)}


def _imported_top_modules(paths) -> set[str]:
    mods = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods.add(node.module.split('.')[0])
    return mods


@pytest.mark.parametrize('entry', _setup_console_scripts())
def test_console_script_resolves_to_main(entry):
    name, target = (s.strip() for s in entry.split('='))
    module, func = target.split(':')
    assert func == 'main', f'{name}: entry point must be main, got {func}'
    mod = importlib.import_module(module)
    assert callable(getattr(mod, 'main', None)), f'{module} has no main()'


def test_every_imported_ros_package_has_a_rosdep_key():
    deps = _package_xml_deps(ROOT / 'package.xml')
    code = list((ROOT / 'vla_ros').rglob('*.py')) + list((ROOT / 'launch').glob('*.py'))
    ros_imports = {m for m in _imported_top_modules(code) if ROS_MODULE.match(m)}
    assert ros_imports, 'expected the nodes to import ROS packages'
    missing = ros_imports - deps
    assert not missing, f'imported but not in package.xml: {sorted(missing)}'


def test_package_xml_is_format_3_and_names_match():
    for path, name, build_type in ((ROOT / 'package.xml', 'vla_ros', 'ament_python'),
                                   (ROOT / 'msg/package.xml', 'vla_ros_msgs', 'ament_cmake')):
        root = ET.parse(path).getroot()
        assert root.get('format') == '3'
        assert root.findtext('name') == name
        assert root.find('export/build_type').text == build_type
    assert 'vla_ros_msgs' in _package_xml_deps(ROOT / 'package.xml')


def test_msg_files_are_all_generated():
    cmake = (ROOT / 'msg/CMakeLists.txt').read_text()
    for msg in (ROOT / 'msg/msg').glob('*.msg'):
        assert f'"msg/{msg.name}"' in cmake, f'{msg.name} is not in rosidl_generate_interfaces'
        mod = importlib.import_module('vla_ros_msgs.msg')
        assert hasattr(mod, msg.stem), f'vla_ros_msgs.msg.{msg.stem} was not built'


def test_colcon_sees_both_packages():
    out = subprocess.run([sys.executable, '-m', 'colcon', 'list', '--base-paths', '.', 'msg'],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rows = {line.split('\t')[0]: line.split('\t')[2] for line in out.splitlines()}
    assert rows == {'vla_ros': '(ros.ament_python)', 'vla_ros_msgs': '(ros.ament_cmake)'}


def test_workspace_install_layout():
    """What `ros2 run` / `ros2 launch` rely on: scripts in lib/vla_ros, share/ data, index."""
    from ament_index_python.packages import get_package_prefix, get_package_share_directory

    prefix = pathlib.Path(get_package_prefix('vla_ros'))
    for entry in _setup_console_scripts():
        name = entry.split('=')[0].strip()
        assert (prefix / 'lib/vla_ros' / name).exists(), f'lib/vla_ros/{name} not installed'
    share = pathlib.Path(get_package_share_directory('vla_ros'))
    assert (share / 'package.xml').exists()
    for cfg in (ROOT / 'config').glob('*.yaml'):
        assert (share / 'config' / cfg.name).exists(), f'config/{cfg.name} not installed'
    for launch in (ROOT / 'launch').glob('*.launch.py'):
        assert (share / 'launch' / launch.name).exists(), f'{launch.name} not installed'
    msgs_share = pathlib.Path(get_package_share_directory('vla_ros_msgs'))
    assert (msgs_share / 'msg/MultimodalFrame.msg').exists()


@pytest.mark.slow
def test_both_packages_build_from_scratch(tmp_path):
    """A fresh colcon build of both packages in a scratch directory succeeds."""
    import os

    env = dict(os.environ)
    res = subprocess.run(
        [sys.executable, '-m', 'colcon', '--log-base', str(tmp_path / 'log'), 'build',
         '--base-paths', str(ROOT), str(ROOT / 'msg'),
         '--build-base', str(tmp_path / 'build'), '--install-base', str(tmp_path / 'install'),
         '--cmake-args', f'-DPython3_EXECUTABLE={sys.executable}', '-DBUILD_TESTING=OFF'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert list((tmp_path / 'install/vla_ros_msgs').rglob('_multimodal_frame.py'))
    assert (tmp_path / 'install/vla_ros/lib/vla_ros/fake_sensors').exists()
