# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``--contract FILE``: a Rosetta contract names the topics a command reads a demo from.

The bag is written with our writer under the topic names of another robot; the contract maps
them (docs/cli.md, "Reading a demo").
"""

import json
import logging

from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.bags import TopicConfig

TOPICS = TopicConfig(front='/rig/front/color', left_wrist='/rig/left_hand/color',
                     right_wrist='/rig/right_hand/color', joint_states='/arm/joint_states',
                     ee_pose='/arm/tool_pose', action='/arm/command')
CONTRACT = f"""\
robot_type: rig
robot_interface: ros2
fps: 30

observations:
  observation.images.front:
    channel: {{topic: {TOPICS.front}, type: sensor_msgs/msg/Image}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.images.left_wrist:
    channel: {{topic: {TOPICS.left_wrist}, type: sensor_msgs/msg/Image}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.images.right_wrist:
    channel: {{topic: {TOPICS.right_wrist}, type: sensor_msgs/msg/Image}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.state:
    - channel: {{topic: {TOPICS.joint_states}, type: sensor_msgs/msg/JointState}}
      align: {{strategy: hold, timeline: header}}
      select: [position.fr3_joint1, position.fr3_joint2]
    - channel: {{topic: {TOPICS.ee_pose}, type: geometry_msgs/msg/PoseStamped}}
      align: {{strategy: hold, timeline: header}}
      select: [pose.position.x, pose.position.y, pose.position.z]

actions:
  action:
    channel: {{topic: {TOPICS.action}, type: robodopamine_interfaces/msg/ActionStamped}}
    align: {{strategy: hold, timeline: header}}
"""


def demo_info(*args):
    return cli.main(['demo-info', *map(str, args)])


def test_demo_info_reads_the_topics_a_contract_names(tmp_path, make_episode, capsys, caplog):
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=8), topics=TOPICS)
    contract = tmp_path / 'rig.yaml'
    contract.write_text(CONTRACT)
    assert demo_info(bag) == 1                       # our default topics are not there
    assert 'camera topic /cameras/front/image_raw not found' in capsys.readouterr().err
    with caplog.at_level(logging.WARNING):
        assert demo_info(bag, '--contract', contract, '--json') == 0
    info = json.loads(capsys.readouterr().out)
    assert info['frames'] == 8
    assert info['streams'] == {'joint_positions': 8, 'ee_pose': 8, 'action': 8,
                               'intervention': 8}
    assert info['sync']['streams']['ee_pose']['topic'] == TOPICS.ee_pose
    assert any('state[0]: select ignored' in r.getMessage() for r in caplog.records)


def test_contract_errors_are_one_line(tmp_path, make_episode, capsys):
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=4), topics=TOPICS)
    contract = tmp_path / 'rig.yaml'
    contract.write_text(CONTRACT)
    topics = tmp_path / 'topics.yaml'
    topics.write_text(f'front: {TOPICS.front}\n')
    assert demo_info(bag, '--contract', contract, '--topics', topics) == 1
    assert '--contract and --topics both name the topics: give one' in capsys.readouterr().err
    contract.write_text(CONTRACT.replace('align: {strategy: hold, timeline: header}\n'
                                         '    apply', 'apply', 1))
    assert demo_info(bag, '--contract', contract) == 1
    err = capsys.readouterr().err
    assert f'{contract}: observations.observation.images.front: missing required field ' \
        "'align'" in err and len(err.strip().splitlines()) == 1
    assert demo_info(bag, '--contract', tmp_path / 'none.yaml') == 1
    assert 'none.yaml: contract file not found' in capsys.readouterr().err


def test_a_bag_without_the_contracts_topics_is_refused(tmp_path, make_episode, capsys):
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=4), topics=TOPICS)
    contract = tmp_path / 'rig.yaml'
    contract.write_text(CONTRACT.replace(TOPICS.front, '/rig/front/image_raw'))
    assert demo_info(bag, '--contract', contract) == 1
    err = capsys.readouterr().err
    assert f'contract {contract} names topics the bag does not hold: /rig/front/image_raw ' \
        "(the contract's topics: /rig/front/image_raw, /rig/left_hand/color" in err
    assert "the bag's: /arm/command, /arm/joint_states, /arm/tool_pose, /rig/front/color" in err
    # a per-view option overrides the contract's camera: its topic is then not required
    assert demo_info(bag, '--contract', contract, '--front-topic', TOPICS.front) == 0
