# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Imports run downward (docs/architecture.md): nodes and commands use the core, never the reverse.

Read from the source with ast, every import of every module, at any depth (a lazy import in a
function counts): rclpy only in nodes/; nodes/ and commands/ imported by nobody below them;
the root holds only the package face; the foundation packages (data, reward, robot) never
reach up into the learners, simulators or reward models built on them.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'robodopamine_ros'
# what each part of the core may not import (besides nodes and commands, which nothing may)
FORBIDDEN = {'data': ('grm', 'rl', 'sim', 'reward', 'robot'),
             'robot': ('grm', 'rl', 'sim'),
             'reward': ('rl', 'sim'),
             'grm': ('rl', 'sim'),
             'sim': ('rl',),
             'rl': ()}


def modules():
    for path in sorted(PACKAGE.rglob('*.py')):
        yield path.relative_to(PACKAGE).parts, path


def imported(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def part_of(name):
    parts = name.split('.')
    return parts[1] if parts[0] == 'robodopamine_ros' and len(parts) > 1 else None


@pytest.mark.parametrize('parts, path', list(modules()), ids=lambda v: '/'.join(v)
                         if isinstance(v, tuple) else '')
def test_imports_run_downward(parts, path):
    here = parts[0] if len(parts) > 1 else None
    names = imported(path)
    if here != 'nodes':
        assert not {n for n in names if n.split('.')[0] in ('rclpy', 'launch', 'launch_ros')}, \
            f'{path}: only nodes/ may import rclpy'
        assert not {n for n in names if part_of(n) == 'nodes'}, f'{path}: imports nodes/'
    if here not in ('nodes', 'commands'):
        assert not {n for n in names if part_of(n) == 'commands'}, f'{path}: imports commands/'
    upward = {n for n in names if part_of(n) in FORBIDDEN.get(here, ())}
    assert not upward, f'{path}: {here}/ imports {sorted(upward)} (docs/architecture.md)'


def test_the_root_holds_only_the_package_face():
    assert sorted(p.name for p in PACKAGE.glob('*.py')) == ['__init__.py']
