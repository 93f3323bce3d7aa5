# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The colcon install tree has what `ros2 run` and `ros2 launch` rely on."""

import ast
import os
from pathlib import Path
import subprocess

from ament_index_python.packages import get_package_prefix, get_package_share_directory
import pytest

PKG_SRC = Path(__file__).resolve().parents[2]
REPO = PKG_SRC.parent


@pytest.fixture(scope='module')
def prefix():
    if 'RD_WS_INSTALL' not in os.environ:
        pytest.fail('RD_WS_INSTALL unset: run the ROS tier through scripts/test.sh')
    prefix = Path(get_package_prefix('robodopamine_ros'))
    assert prefix.is_relative_to(Path(os.environ['RD_WS_INSTALL'])), prefix
    return prefix


def _console_scripts():
    """Parse setup.py's console_scripts: every one must land in lib/robodopamine_ros."""
    tree = ast.parse((PKG_SRC / 'setup.py').read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and ' = robodopamine_ros.' in node.value:
            names.append(node.value.split('=')[0].strip())
    return names


def test_package_resolves_to_the_install(prefix):
    import robodopamine_ros
    assert Path(robodopamine_ros.__file__).is_relative_to(prefix)


def test_executables_under_lib(prefix):
    scripts = _console_scripts()
    assert 'robodopamine' in scripts
    for name in scripts:
        exe = prefix / 'lib' / 'robodopamine_ros' / name
        assert exe.is_file() and os.access(exe, os.X_OK), f'{exe} missing or not executable'
    # What `ros2 run robodopamine_ros robodopamine --help` executes.
    result = subprocess.run([str(prefix / 'lib' / 'robodopamine_ros' / 'robodopamine'), '--help'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'usage: robodopamine' in result.stdout


def test_share_layout(prefix):
    share = Path(get_package_share_directory('robodopamine_ros'))
    assert (share / 'package.xml').read_text() == (PKG_SRC / 'package.xml').read_text()
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'robodopamine_ros'
    assert marker.is_file()
    for folder, pattern in (('launch', '*.launch.py'), ('config', '*.yaml'),
                            ('config', '*.xml')):
        sources = sorted(p.name for p in (PKG_SRC / folder).glob(pattern))
        installed = sorted(p.name for p in (share / folder).glob(pattern))
        assert installed == sources, f'share/robodopamine_ros/{folder}: {installed} != {sources}'


def test_interfaces_installed():
    share = Path(get_package_share_directory('robodopamine_interfaces'))
    prefix = Path(get_package_prefix('robodopamine_interfaces'))
    for kind, suffix in (('msg', '.msg'), ('srv', '.srv')):
        folder = REPO / 'robodopamine_interfaces' / kind
        sources = sorted(p.stem for p in folder.glob('*' + suffix))
        assert sources
        for name in sources:
            assert (share / kind / (name + suffix)).is_file()
            assert (share / kind / (name + '.idl')).is_file()
    assert (prefix / 'lib' / 'librobodopamine_interfaces__rosidl_typesupport_c.so').is_file()
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'rosidl_interfaces'
    assert (marker / 'robodopamine_interfaces').is_file()


def test_message_definitions_ship_with_the_python_package(prefix):
    from robodopamine_ros.data.interfaces import message_definition_dir
    shipped = message_definition_dir()
    assert shipped.is_relative_to(prefix), shipped
    sources = REPO / 'robodopamine_interfaces' / 'msg'
    assert sorted(p.name for p in shipped.glob('*.msg')) == \
        sorted(p.name for p in sources.glob('*.msg'))
    for path in shipped.glob('*.msg'):
        assert path.read_text() == (sources / path.name).read_text()


def test_installed_node_refuses_bad_parameters_with_one_line(prefix):
    exe = prefix / 'lib' / 'robodopamine_ros' / 'shaping_node'
    result = subprocess.run([str(exe), '--ros-args', '-p', 'gamma:=1.5'], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert 'cannot start: gamma must be in (0, 1], got 1.5' in result.stderr + result.stdout
