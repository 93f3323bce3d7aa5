# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Rosetta contracts (format v2) read into our topics, and the bags they are checked against.

The contracts are written as Rosetta's documentation writes them (doc/reference/contract.md,
contracts/so_101.yaml, doc/how-to/write-a-contract.md: the same keys and structure), with our
message types where the reader needs them.
"""

import pytest
from robodopamine_ros.data.bag_location import BagError
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.bags import ReadOptions, TopicConfig
from robodopamine_ros.data.rosetta import (BAG_CONTRACT_HASH_KEY, BAG_CONTRACT_KEY,
                                           load_contract, parse_contract, recorded_topics)
from robodopamine_ros.data.rosetta_schema import ContractError

# contracts/so_101.yaml's shape: three cameras, state and action with select and rad2deg, here
# on our views' names, a hand pose in the state and our action message
CONTRACT = """\
robot_type: fr3
robot_interface: ros2
fps: 30

observations:
  observation.images.front:
    channel: {topic: /front_camera/image_raw,
              type: sensor_msgs/msg/Image,
              qos: {reliability: best_effort, history: keep_last, depth: 10}}
    align: {strategy: hold, timeline: header}
    apply: [resize: [480, 640]]

  observation.images.wrist.left:
    channel: {topic: /left_camera/image_raw,
              type: sensor_msgs/msg/Image,
              qos: {reliability: best_effort, history: keep_last, depth: 10}}
    align: {strategy: hold, timeline: header}
    apply: [resize: [480, 640]]

  observation.images.wrist_right:
    channel: {topic: /right_camera/image_raw,
              type: sensor_msgs/msg/Image,
              qos: {reliability: best_effort, history: keep_last, depth: 10}}
    align: {strategy: hold, timeline: header}
    apply: [resize: [480, 640]]

  observation.state:
    - channel: {topic: /fr3/joint_states, type: sensor_msgs/msg/JointState}
      align: {strategy: hold, timeline: header}
      select: [position.fr3_joint1, position.fr3_joint2, position.fr3_joint3]
      apply: [rad2deg]
    - channel: {topic: /fr3/hand_pose, type: geometry_msgs/msg/PoseStamped}
      align: {strategy: asof, timeline: header, tolerance_ms: 10}
      select: [pose.position.x, pose.position.y, pose.position.z]
    - channel: {topic: /gripper/state, type: std_msgs/msg/Float32}
      align: {strategy: hold, timeline: receive}
      select: [data]

actions:
  action:
    # the operator's command, as recorded in collect mode
    channel: {topic: /fr3/action, type: robodopamine_interfaces/msg/ActionStamped}
    align: {strategy: hold, timeline: header}

tasks:
  task:
    channel: {topic: /task_prompt, type: std_msgs/msg/String}
"""
TOPICS = TopicConfig(front='/front_camera/image_raw', left_wrist='/left_camera/image_raw',
                     right_wrist='/right_camera/image_raw', joint_states='/fr3/joint_states',
                     ee_pose='/fr3/hand_pose', action='/fr3/action')


def contract_file(tmp_path, text=CONTRACT, name='fr3.yaml'):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_documented_contract_gives_our_topics(tmp_path):
    contract = load_contract(contract_file(tmp_path))
    assert contract.topic_config() == TOPICS
    assert (contract.robot_type, contract.fps) == ('fr3', 30)
    assert contract.image_keys == {'front': 'observation.images.front',
                                   'left_wrist': 'observation.images.wrist.left',
                                   'right_wrist': 'observation.images.wrist_right'}
    assert contract.tasks == {'task': '/task_prompt'}
    assert list(contract.topics) == [TOPICS.front, TOPICS.left_wrist, TOPICS.right_wrist,
                                     TOPICS.joint_states, TOPICS.ee_pose, '/gripper/state',
                                     TOPICS.action, '/task_prompt']
    notes = '\n'.join(contract.ignored)
    assert 'state[0]: select ignored: every joint of /fr3/joint_states is read' in notes
    assert "state[0]: apply ['rad2deg'] ignored" in notes
    assert 'state[2]: /gripper/state (std_msgs/msg/Float32) not read' in notes
    assert 'tasks.task: /task_prompt recorded, not read' in notes
    data = contract.custom_data()
    assert data[BAG_CONTRACT_KEY] == CONTRACT and len(data[BAG_CONTRACT_HASH_KEY]) == 64


def test_the_minimal_documented_contract_keeps_our_defaults():
    # doc/reference/contract.md's minimal example, verbatim: no camera of ours in it
    minimal = """\
robot_type: my_robot
robot_interface: ros2
fps: 30

observations:
  observation.state:
    channel: {topic: /joint_states, type: sensor_msgs/msg/JointState}
    align: {strategy: hold, timeline: header}
    select: [position.j1, position.j2]

actions:
  action:
    channel: {topic: /joint_commands, type: sensor_msgs/msg/JointState}
    align: {strategy: hold, timeline: header}
    select: [position.j1, position.j2]
"""
    with pytest.raises(ContractError, match=r'minimal.yaml: observations: no image key for '
                       r"our view\(s\) \['front', 'left_wrist', 'right_wrist'\]"):
        parse_contract(minimal, 'minimal.yaml')
    cameras = ''.join(f"""
  observation.images.{view}:
    channel: {{topic: /{view}/image, type: sensor_msgs/msg/CompressedImage}}
    align: {{strategy: drop, timeline: receive}}
    apply: [resize: [96, 128]]""" for view in ('front', 'left_wrist', 'right_wrist'))
    contract = parse_contract(minimal.replace('observations:', 'observations:' + cameras))
    assert contract.topic_config() == TopicConfig(front='/front/image',
                                                  left_wrist='/left_wrist/image',
                                                  right_wrist='/right_wrist/image')
    assert any('actions.action: /joint_commands (sensor_msgs/msg/JointState) recorded, not '
               'read' in note for note in contract.ignored)


def test_x_robodopamine_names_the_view_of_any_image_key():
    text = CONTRACT.replace('observation.images.front', 'observation.images.top')
    with pytest.raises(ContractError, match=r'c.yaml: observations: image keys '
                       r"\['observation.images.top'\] map to none of our views .*views: "
                       r'front, left_wrist, right_wrist; image keys: observation.images.top, '
                       r'observation.images.wrist.left, observation.images.wrist_right'):
        parse_contract(text, 'c.yaml')
    ours = 'x-robodopamine:\n  views: {front: observation.images.top}\n'
    assert parse_contract(ours + text).topic_config() == TOPICS
    with pytest.raises(ContractError, match=r'x-robodopamine.views.front: '
                       r"'observation.images.side' is not an image key"):
        parse_contract(ours.replace('top', 'side') + text, 'c.yaml')
    with pytest.raises(ContractError, match=r'x-robodopamine.views: must map our views \(front, '
                       r"left_wrist, right_wrist\) to image keys, got \{'top'"):
        parse_contract('x-robodopamine:\n  views: {top: observation.images.top}\n' + text)


@pytest.mark.parametrize('change, message', [
    (('    align: {strategy: hold, timeline: header}\n    apply: [resize: [480, 640]]\n\n'
      '  observation.images.wrist.left', '    apply: [resize: [480, 640]]\n\n'
      '  observation.images.wrist.left'),
     "observations.observation.images.front: missing required field 'align'"),
    (('{topic: /fr3/action, ', '{'),
     "actions.action.channel: missing required field 'topic'"),
    (('robot_interface: ros2\n', ''), "the contract: missing required field 'robot_interface'"),
    (('fps: 30', 'fps: 29.97'), 'fps: must be a positive integer, got 29.97'),
    (('tolerance_ms: 10', 'tolerance: 10'),
     r"state\[1\].align: unknown key\(s\) \['tolerance'\]"),
    (('strategy: asof', 'strategy: nearest'),
     r"state\[1\].align.strategy: 'nearest' is not one of \['hold', 'asof', 'drop'\]"),
    (('select: [data]', 'select: []'), r'state\[2\].select: must be a non-empty list'),
    (('tasks:', 'task:'), r"the contract: unknown key\(s\) \['task'\]"),
    (('fps: 30\n', 'fps: 30\nfps: 15\n'), "line 4: not valid YAML: found duplicate key 'fps'"),
    (('type: sensor_msgs/msg/Image,\n              qos: {reliability: best_effort, history: '
      'keep_last, depth: 10}}\n    align: {strategy: hold, timeline: header}\n    apply: '
      '[resize: [480, 640]]\n\n  observation.images.wrist.left',
      'type: sensor_msgs/msg/JointState}\n    align: {strategy: hold, timeline: header}\n\n'
      '  observation.images.wrist.left'),
     'observation.images.front.channel.type: an image is sensor_msgs/msg/Image or '
     'sensor_msgs/msg/CompressedImage, got sensor_msgs/msg/JointState'),
])
def test_a_bad_contract_names_the_file_and_the_field(tmp_path, change, message):
    old, new = change
    assert old in CONTRACT
    with pytest.raises(ContractError, match=f'{tmp_path / "fr3.yaml"}: .*{message}'):
        load_contract(contract_file(tmp_path, CONTRACT.replace(old, new, 1)))


def test_v1_contracts_and_missing_files_are_named(tmp_path):
    v1 = """\
robot_type: my_robot
robot_interface: ros2
fps: 30
observations:
  - key: observation.state
    topic: /joint_states
    type: sensor_msgs/msg/JointState
"""
    with pytest.raises(ContractError, match='observations: must be a mapping keyed by frame '
                       r'key, got a list \(the v1 list-of-entries'):
        parse_contract(v1)
    with pytest.raises(FileNotFoundError, match='none.yaml: contract file not found'):
        load_contract(tmp_path / 'none.yaml')


def test_a_second_joint_state_source_is_refused():
    text = CONTRACT.replace('/gripper/state, type: std_msgs/msg/Float32',
                            '/gripper/joint_states, type: sensor_msgs/msg/JointState')
    with pytest.raises(ContractError, match=r'observation.state\[2\]: a second '
                       r'sensor_msgs/msg/JointState source; the reader reads one '
                       r'\(/fr3/joint_states\)'):
        parse_contract(text)


def test_a_bag_without_the_contracts_topics_is_refused_listing_both(tmp_path, make_episode):
    contract = parse_contract(CONTRACT, 'fr3.yaml')
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=6), topics=TOPICS)
    from robodopamine_ros.data.bags import bag_topics, read_episode

    recorded = {t: m for t, (m, _) in bag_topics(bag)[0].items()}
    with pytest.raises(BagError, match='contract fr3.yaml names topics the bag does not '
                       r"hold: /gripper/state \(the contract's topics: /front_camera/image_raw, "
                       r'.*/gripper/state, /fr3/action; the bag.s: /fr3/action, '
                       r'/fr3/hand_pose, /fr3/joint_states, /front_camera/image_raw'):
        contract.check_bag(recorded, bag)
    with pytest.raises(BagError, match='/gripper/state'):
        read_episode(bag, ReadOptions(topics=contract.topic_config(), contract=contract))
    gripper = ('    - channel: {topic: /gripper/state, type: std_msgs/msg/Float32}\n'
               '      align: {strategy: hold, timeline: receive}\n      select: [data]\n')
    assert gripper in CONTRACT
    fits = parse_contract(CONTRACT.replace(gripper, ''))
    episode = read_episode(bag, ReadOptions(topics=fits.topic_config(), contract=fits))
    assert set(episode.streams) >= {'joint_positions', 'ee_pose', 'action'}
    # a view given by its own option is read from there: the contract's camera need not be
    wrong = parse_contract(fits.text.replace('/front_camera/', '/nowhere/'))
    with pytest.raises(BagError, match='/nowhere/image_raw'):
        wrong.check_bag(recorded, bag)
    wrong.with_views({'front': TOPICS.front}).check_bag(recorded, bag)
    typed = parse_contract(fits.text.replace('sensor_msgs/msg/JointState',
                                             'sensor_msgs/msg/Imu'), 't.yaml')
    with pytest.raises(BagError, match='topic /fr3/joint_states has type '
                       'sensor_msgs/msg/JointState, but contract t.yaml says sensor_msgs/msg/Imu'):
        typed.check_bag(recorded, bag)


def test_recorded_topics():
    contract = parse_contract(CONTRACT)
    default = ['/a', '/b']
    assert recorded_topics(None, ['/x'], default) == ['/x']
    assert recorded_topics(contract, default, default) == list(contract.topics)
    assert recorded_topics(contract, ['/fr3/action', '/sim_robot/success'], default) == \
        list(contract.topics) + ['/sim_robot/success']


@pytest.mark.parametrize('text', ['? [a, b]\n: 1\n', 'x-robodopamine: {views: {front: [a]}}\n'])
def test_a_contract_of_another_shape_is_one_contract_error(text):
    from robodopamine_ros.data.rosetta import ContractError, parse_contract

    with pytest.raises(ContractError, match='odd.yaml'):
        parse_contract(text, 'odd.yaml')
