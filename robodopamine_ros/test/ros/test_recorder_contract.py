# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
recorder_node with a Rosetta contract, and a latched topic published before it started.

The contract names a robot's topics (not ours): the recorder records those, embeds the contract
in metadata.yaml's custom_data as Rosetta's recorder does, and the demonstrations reader reads
the bag through the same contract. A std_msgs/String published once, transient local, before
the recorder exists (as the reward contract is) is recorded too: the recorder subscribes
transient local where every publisher offers it.
"""

from camera_rig import CameraRig
import rclpy
from rclpy.parameter import Parameter
from robodopamine_ros.data.bag_location import bag_custom_data
from robodopamine_ros.data.bags import bag_topics, read_episode, ReadOptions
from robodopamine_ros.data.rosetta import BAG_CONTRACT_KEY, load_contract
from robodopamine_ros.nodes.conversions import LATCHED as LATCHED_QOS
from robodopamine_ros.nodes.recorder_node import RecorderNode
from std_msgs.msg import String

CAMERAS = ['/rd_rig/front/color', '/rd_rig/left_hand/color', '/rd_rig/right_hand/color']
JOINTS = '/rd_rig/arm/joint_states'
LATCHED = '/rd_rig/reward_contract'
UNLISTED = '/rd_rig/unlisted'
CONTRACT = f"""\
robot_type: rd_rig
robot_interface: ros2
fps: 30

observations:
  observation.images.front:
    channel: {{topic: {CAMERAS[0]}, type: sensor_msgs/msg/Image,
              qos: {{reliability: best_effort, history: keep_last, depth: 10}}}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.images.left_wrist:
    channel: {{topic: {CAMERAS[1]}, type: sensor_msgs/msg/Image}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.images.right_wrist:
    channel: {{topic: {CAMERAS[2]}, type: sensor_msgs/msg/Image}}
    align: {{strategy: hold, timeline: header}}
    apply: [resize: [48, 64]]
  observation.state:
    channel: {{topic: {JOINTS}, type: sensor_msgs/msg/JointState}}
    align: {{strategy: hold, timeline: header}}
    select: [position.a]
"""


def test_recorder_records_a_contracts_topics_and_embeds_it(ros_context, background, tmp_path):
    contract_file = tmp_path / 'rig.yaml'
    contract_file.write_text(CONTRACT)
    bag = tmp_path / 'demo'
    node = rclpy.create_node('rd_test_contract_rig', context=ros_context)
    latched = node.create_publisher(String, LATCHED, LATCHED_QOS)   # as a node latches it
    latched.publish(String(data='{"reward": "contract"}'))    # before the recorder exists
    unlisted = node.create_publisher(String, UNLISTED, 10)   # a topic no contract names
    CameraRig(node, CAMERAS, JOINTS, also=[(unlisted, String(data='not recorded'))])
    background.add_node(node)
    recorder = RecorderNode(context=ros_context, parameter_overrides=[
        Parameter('bag', value=str(bag)), Parameter('contract', value=str(contract_file)),
        Parameter('topics', value=[LATCHED])])
    background.add_node(recorder)
    try:
        assert set(recorder.counts) == set(CAMERAS + [JOINTS, LATCHED])
        background.wait_until(lambda: recorder.counts[LATCHED] == 1
                              and min(recorder.counts[t] for t in CAMERAS + [JOINTS]) >= 10,
                              timeout=30.0, what='the latched message and 10 of each stream')
        assert unlisted.get_subscription_count() == 0
        background.shutdown()
    finally:
        recorder.destroy_node()      # the clean close: metadata.yaml with the contract
        node.destroy_node()

    assert bag_custom_data(bag)[BAG_CONTRACT_KEY] == CONTRACT
    topics, _ = bag_topics(bag)
    assert set(topics) == set(CAMERAS + [JOINTS, LATCHED])
    assert topics[LATCHED] == ('std_msgs/msg/String', 1)
    contract = load_contract(contract_file)
    episode = read_episode(bag, ReadOptions(topics=contract.topic_config(), contract=contract),
                           images=False)
    assert len(episode.stamps) >= 8 and episode.streams['joint_positions'].values.shape[1] == 1
