# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
franka_insertion.launch.py's ``operator:=scripted`` (issue 28 item 7), resolved without starting.

It adds sim_operator_node beside the simulated training loop, on the progress and reward
topics, with rl_agent_node's success source and control rate; it is refused where there is no
simulated training to stand in for a person at (the real arm, collect, eval, no agent).
"""

import pytest

pytest.importorskip('launch_ros')   # as test_launch_description (conftest: the launch tier)

from test_launch_description import LAUNCH, parameters, resolve, SIM_LOOP  # noqa: E402
import yaml  # noqa: E402,I100


def test_operator_scripted_adds_the_scripted_operator_to_the_simulated_training(tmp_path):
    nodes, _ = resolve(model_dir='/m')
    assert 'sim_operator_node' not in nodes    # '' (the default): none
    params = yaml.safe_load((LAUNCH.parents[1] / 'config' / 'sim_insertion.yaml').read_text())
    params['rl_agent_node']['ros__parameters']['success'] = 'either'
    params_file = tmp_path / 'labelled.yaml'
    params_file.write_text(yaml.safe_dump(params))
    nodes, _ = resolve(model_dir='/m', operator='scripted', params_file=str(params_file),
                       real_time_factor='2')
    assert set(nodes) == SIM_LOOP | {'sim_operator_node'}
    node, context = nodes['sim_operator_node']
    values = parameters(node, context)
    agent = parameters(*nodes['rl_agent_node'])
    assert values['simulation'] is True and values['use_sim_time'] is True
    assert values['success'] == agent['success'] == 'either'
    assert values['control_rate'] == agent['control_rate']
    remaps = dict(node.expanded_remapping_rules)
    assert (remaps['progress'], remaps['reward']) == ('robodopamine/progress',
                                                      'robodopamine/reward')
    assert node._ExecuteLocal__respawn is False   # never restarted, as the agent


@pytest.mark.parametrize('arguments', [
    {'use_sim': 'false'}, {'mode': 'eval'}, {'mode': 'collect'}, {'agent': 'false'}])
def test_operator_scripted_is_refused_outside_simulated_training(arguments):
    with pytest.raises(RuntimeError, match='operator:=scripted stands in for the person.*'
                                           'use_sim:=true mode:=train'):
        resolve(model_dir='/m', operator='scripted', **arguments)


def test_an_unknown_operator_is_refused_naming_it():
    with pytest.raises(RuntimeError, match="operator:='human' is not valid"):
        resolve(model_dir='/m', operator='human')
