# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
recorder_node: record topics into a rosbag2 folder without rosbag2 installed.

The stand-in for ``ros2 bag record`` where rosbag2 is absent (pip-only machines, CI): it
subscribes to each listed topic once a publisher appears (the type comes from the ROS graph)
and stores the serialized messages as received, with the receive time, like ros2 bag record.
Subscriptions are best effort, so they match reliable and sensor-QoS publishers alike. The bag
appears at ``bag`` when the node shuts down cleanly (written to a temporary folder, then
renamed); `robodopamine demo-info BAG` and `robodopamine adapt BAG` read it.

Parameters: bag (required: a folder that does not exist yet), storage (mcap | sqlite3),
topics (default: the demonstration topics of launch/franka_insertion.launch.py).
"""

import importlib

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from robodopamine_ros.bags import EpisodeBagWriter, TopicConfig
from robodopamine_ros.nodes.spin import run

# best effort matches reliable and sensor-QoS publishers; a deep queue keeps bursts
RECORD_QOS = QoSProfile(reliability=ReliabilityPolicy.BEST_EFFORT,
                        history=HistoryPolicy.KEEP_LAST, depth=100)
DEMO_TOPICS = TopicConfig()
DEFAULT_TOPICS = [DEMO_TOPICS.front, DEMO_TOPICS.left_wrist, DEMO_TOPICS.right_wrist,
                  DEMO_TOPICS.joint_states, DEMO_TOPICS.ee_pose, DEMO_TOPICS.action]


def message_class(type_name):
    """Return the Python class of a ROS type name such as 'sensor_msgs/msg/Image'."""
    package, kind, name = type_name.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)


class RecorderNode(Node):

    def __init__(self, **kwargs):
        super().__init__('recorder_node', **kwargs)
        self.declare_parameter('bag', '')
        self.declare_parameter('storage', 'mcap')
        self.declare_parameter('topics', DEFAULT_TOPICS)
        bag = self.get_parameter('bag').value
        if not bag:
            raise ValueError('parameter bag must name the bag folder to write')
        topics = [self.resolve_topic_name(t) for t in self.get_parameter('topics').value]
        self.writer = EpisodeBagWriter(bag, storage=self.get_parameter('storage').value)
        self.writer.__enter__()
        self.pending, self.counts = set(topics), dict.fromkeys(topics, 0)
        self.create_timer(0.2, self._subscribe_new_topics)

    def _subscribe_new_topics(self):
        types = dict(self.get_topic_names_and_types())
        for topic in sorted(self.pending & set(types)):
            if len(types[topic]) != 1:
                self.get_logger().error(f'{topic}: published with several types {types[topic]}'
                                        '; not recorded', throttle_duration_sec=5.0)
                continue
            type_name = types[topic][0]
            self.create_subscription(message_class(type_name), topic,
                                     self._writer_for(topic, type_name),
                                     RECORD_QOS, raw=True)
            self.pending.discard(topic)
            self.get_logger().info(f'recording {topic} ({type_name})')

    def _writer_for(self, topic, type_name):
        def write(raw):
            self.writer.write_raw(topic, type_name, raw, self.get_clock().now().nanoseconds)
            self.counts[topic] += 1
        return write

    def destroy_node(self):
        self.writer.__exit__(None, None, None)
        self.get_logger().info(f'wrote {self.writer.path}: {self.counts}')
        super().destroy_node()


def main(args=None):
    run(RecorderNode, 'recorder_node', args)


if __name__ == '__main__':
    main()
