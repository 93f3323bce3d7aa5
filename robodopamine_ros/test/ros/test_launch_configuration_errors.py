# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A node that cannot start stops the launch: the real `ros2 launch`, a configuration error each.

A node of ours exiting with status 2 (spin.run: a bad parameter, a missing model_dir or demos
bag) is not respawned, every other process ends, and the launch's last line is that node's one
fatal line (launch/franka_insertion.launch.py, ConfigurationError).
"""

import re

from launch_tools import leftover_processes, private_domain, Ros2
import pytest
from test_ros2_launch import short_episodes_params
import yaml


def bad_type_params(tmp_path):
    """Write the shipped YAML with grm_node.rate an int (accepted) and a batch_size of 'big'."""
    path = short_episodes_params(tmp_path)
    params = yaml.safe_load(path.read_text())
    params['grm_node']['ros__parameters']['rate'] = 10
    params['rl_agent_node']['ros__parameters']['batch_size'] = 'big'
    path.write_text(yaml.safe_dump(params))
    return path


@pytest.mark.parametrize('case', ['missing model_dir', 'missing demos bag', 'wrong type'])
def test_a_node_exiting_with_status_2_ends_the_launch_with_its_line_last(
        tmp_path, model_dir, case):
    arguments = {
        'missing model_dir': lambda: [f'model_dir:={tmp_path / "no_such_model"}',
                                      f'params_file:={short_episodes_params(tmp_path)}'],
        'missing demos bag': lambda: [f'model_dir:={model_dir}',
                                      f'demos:={tmp_path / "no_such_bag"}',
                                      f'params_file:={short_episodes_params(tmp_path)}'],
        'wrong type': lambda: [f'model_dir:={model_dir}',
                               f'params_file:={bad_type_params(tmp_path)}'],
    }[case]()
    node, expected = {
        'missing model_dir': ('grm_node', str(tmp_path / 'no_such_model')),
        'missing demos bag': ('rl_agent_node', str(tmp_path / 'no_such_bag')),
        'wrong type': ('rl_agent_node', "parameter batch_size: got a string ('big'), "
                                        'expected an integer'),
    }[case]
    launch = Ros2(['launch', 'robodopamine_ros', 'franka_insertion.launch.py', *arguments,
                   f'log_dir:={tmp_path / "logs"}', f'checkpoint_dir:={tmp_path / "ckpt"}'],
                  private_domain(), tmp_path / 'launch.log', cwd=tmp_path)
    try:
        status = launch.wait(timeout=120)   # it ends by itself
        output = launch.output()
    finally:
        launch.kill()
    assert not leftover_processes(launch.pgid)
    assert status != 0, output[-3000:]
    lines = [line for line in output.splitlines() if line.strip()]
    assert node in lines[-1] and expected in lines[-1] and 'cannot start' in lines[-1], \
        output[-3000:]
    assert '[ERROR] [launch]' in lines[-1] and 'exit status 2' in lines[-1]
    # started once, never respawned; its fatal line once, no traceback
    assert len(re.findall(rf'\[{node}-\d+\]: process started', output)) == 1, output[-3000:]
    fatal = [line for line in lines if '[FATAL]' in line]
    assert len(fatal) == 1 and expected in fatal[0], output[-3000:]
    assert 'Traceback' not in output and 'InvalidParameterTypeException' not in output
    if case == 'wrong type':   # grm_node took its int rate: it started and ended cleanly
        assert re.search(r'\[grm_node-\d+\]: process has finished cleanly', output), output
