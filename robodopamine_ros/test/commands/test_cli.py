# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import subprocess
import sys

from robodopamine_ros.commands import cli


def test_help_lists_every_subcommand(capsys):
    try:
        cli.main(['--help'])
    except SystemExit as done:
        assert done.code == 0
    out = capsys.readouterr().out
    assert 'usage: robodopamine' in out
    for name in cli.SUBCOMMANDS:
        assert name in out, f'subcommand {name} missing from --help'


def test_no_subcommand_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert 'usage: robodopamine' in capsys.readouterr().out


def test_core_imports_without_rclpy():
    # Import every module outside nodes/ with rclpy made unimportable: the ROS-free promise.
    code = (
        'import sys, pkgutil, importlib, robodopamine_ros\n'
        'sys.modules["rclpy"] = None\n'
        'names = [m.name for m in pkgutil.walk_packages(robodopamine_ros.__path__, '
        '"robodopamine_ros.") if ".nodes" not in m.name]\n'
        'for name in names:\n'
        '    importlib.import_module(name)\n'
        'print(len(names))\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 1
