# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""franka_insertion.launch.py's ``contract:=FILE``: recorder_node records a Rosetta contract."""

import pytest
from test_launch_description import parameters, resolve


def test_collect_passes_the_contract_and_our_topics_to_the_recorder(tmp_path):
    contract = tmp_path / 'rig.yaml'
    contract.write_text('robot_type: rig\n')    # the node reads it; the launch checks it exists
    nodes, _ = resolve(mode='collect', bag='/data/demo8', contract=str(contract))
    recorder = parameters(*nodes['recorder_node'])
    assert recorder['contract'] == str(contract) and recorder['bag'] == '/data/demo8'
    assert set(recorder['topics']) == {'robodopamine/action', 'sim_robot/success',
                                       'robodopamine/object_poses'}
    assert 'contract' not in parameters(*resolve(mode='collect')[0]['recorder_node'])


@pytest.mark.parametrize('arguments, message', [
    ({'mode': 'collect', 'contract': 'no_such.yaml'},
     "launch argument contract:='no_such.yaml': no such file; expected a Rosetta contract"),
    ({'mode': 'train', 'model_dir': '/m', 'contract': 'c.yaml'},
     'contract:=c.yaml names the topics a recording holds: use it with mode:=collect'),
])
def test_a_contract_is_refused_in_one_line(arguments, message):
    with pytest.raises(RuntimeError, match=message):
        resolve(**arguments)
