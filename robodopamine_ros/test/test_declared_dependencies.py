# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Every module the package imports is declared: in package.xml for rosdep, in setup.py for pip."""

import ast
from pathlib import Path
import sys

from catkin_pkg.package import parse_package

PKG = Path(__file__).resolve().parents[1]
SOURCE = PKG / 'robodopamine_ros'

# import name -> (rosdep key, pip requirement or None for ROS-only / optional-extra modules)
KNOWN = {
    'rclpy': ('rclpy', None),
    'std_msgs': ('std_msgs', None),
    'std_srvs': ('std_srvs', None),
    'sensor_msgs': ('sensor_msgs', None),
    'geometry_msgs': ('geometry_msgs', None),
    'trajectory_msgs': ('trajectory_msgs', None),
    'diagnostic_msgs': ('diagnostic_msgs', None),
    'builtin_interfaces': ('builtin_interfaces', None),
    'rcl_interfaces': ('rcl_interfaces', None),
    'rosgraph_msgs': ('rosgraph_msgs', None),  # sim_robot_node's simulation clock (/clock)
    'robodopamine_interfaces': ('robodopamine_interfaces', None),
    'launch': ('launch', None),
    'launch_ros': ('launch_ros', None),
    'message_filters': ('message_filters', None),  # grm_node; its ROS-free fallback is sync.py
    'control_msgs': ('control_msgs', None),  # gripper_node (the real arm's gripper action)
    'rosidl_runtime_py': ('rosidl_runtime_py', None),  # recorder_node: message types by name
    'ament_index_python': ('ament_index_python', None),  # ... installed interfaces
    'scipy': ('python3-scipy', 'scipy'),     # metrics.outcome_ranking (Kendall tau)
    'numpy': ('python3-numpy', 'numpy'),
    'cv2': ('python3-opencv', 'opencv-python-headless'),
    'yaml': ('python3-yaml', 'pyyaml'),
    'torch': (None, 'torch'),  # the distributions' is too old: pip only (package.xml)
    'setuptools': ('python3-setuptools', 'setuptools'),
    'tqdm': ('python3-tqdm', 'tqdm'),
    'matplotlib': ('python3-matplotlib', 'matplotlib'),
    'rosbags': (None, 'rosbags'),  # no rosdep key: installed by pip (package.xml says so)
    'safetensors': (None, 'safetensors'),  # likewise
}
# Imported only by optional extras (declared in setup.py extras_require), never at import time
# of the core modules.
OPTIONAL = {'metaworld', 'mujoco', 'transformers', 'peft', 'tokenizers', 'gymnasium',
            'av', 'pyarrow', 'pandas',   # the [lerobot] extra
            'openai'}   # the [openai] extra (grm_node's backend openai)


def _imported_top_level_modules():
    found = {}
    for path in SOURCE.rglob('*.py'):
        tree = ast.parse(path.read_text(encoding='utf-8'), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split('.')[0], path.relative_to(PKG))
    return found


def test_every_import_is_declared():
    manifest = parse_package(str(PKG / 'package.xml'))
    rosdeps = {d.name for d in manifest.exec_depends + manifest.build_export_depends
               + manifest.build_depends}
    setup_text = (PKG / 'setup.py').read_text(encoding='utf-8')
    stdlib = set(sys.stdlib_module_names)
    problems = []
    for module, where in sorted(_imported_top_level_modules().items()):
        if module in stdlib or module == 'robodopamine_ros':
            continue
        if module in OPTIONAL:
            if module not in setup_text:
                problems.append(f'{module} (imported in {where}) is not in setup.py extras')
            continue
        if module not in KNOWN:
            problems.append(f'{module} (imported in {where}) is unknown to this test: '
                            'declare it in package.xml and setup.py, then add it to KNOWN')
            continue
        rosdep, pip_name = KNOWN[module]
        if rosdep and rosdep not in rosdeps:
            problems.append(f'{module} (imported in {where}) needs <exec_depend>{rosdep}'
                            '</exec_depend> in package.xml')
        if pip_name and f"'{pip_name}" not in setup_text:
            problems.append(f'{module} (imported in {where}) needs {pip_name} in setup.py')
    assert not problems, '\n'.join(problems)


def test_rclpy_only_in_nodes():
    leaks = []
    for path in SOURCE.rglob('*.py'):
        if 'nodes' in path.relative_to(SOURCE).parts:
            continue
        text = path.read_text(encoding='utf-8')
        if 'import rclpy' in text or 'from rclpy' in text:
            leaks.append(str(path.relative_to(PKG)))
    assert not leaks, f'rclpy imported outside robodopamine_ros/nodes/: {leaks}'
