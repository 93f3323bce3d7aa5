# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
recorder_node: record topics into a rosbag2 folder without rosbag2 installed.

The stand-in for ``ros2 bag record`` where rosbag2 is absent (pip-only machines, CI): it
subscribes to each listed topic once a publisher appears (the type comes from the ROS graph)
and stores the serialized messages as received, with the receive time, like ros2 bag record.
Subscriptions are best effort, so they match reliable and sensor-QoS publishers alike.

The bag is written as it is recorded (recording.LiveBagWriter): ``<bag>/<bag>.mcap`` grows
from the start, flushed at most every ``flush_period`` seconds, so a recorder killed with
SIGKILL (or a power cut, up to what the OS had written) leaves a readable MCAP file with
everything up to its last flush; metadata.yaml is added when the node shuts down cleanly.
`robodopamine demo-info BAG` and `robodopamine adapt BAG` read it either way (a bag without
metadata.yaml with a warning).

Parameters: bag (required: a folder that does not exist yet), storage (mcap | sqlite3; a
sqlite3 bag is committed every flush_period, and without metadata.yaml it needs
``ros2 bag reindex``), flush_period (s, > 0; default 1.0), topics (default: the
demonstration topics of launch/franka_insertion.launch.py).
"""

import importlib

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from robodopamine_ros.data.bags import TopicConfig
from robodopamine_ros.data.recording import LiveBagWriter, RecordingError
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
        self.declare_parameter('flush_period', 1.0)     # s
        self.declare_parameter('topics', DEFAULT_TOPICS)
        bag = self.get_parameter('bag').value
        if not bag:
            raise ValueError('parameter bag must name the bag folder to write')
        topics = [self.resolve_topic_name(t) for t in self.get_parameter('topics').value]
        flush_period = self.get_parameter('flush_period').value
        self.writer = LiveBagWriter(bag, storage=self.get_parameter('storage').value,
                                    flush_period=flush_period)
        self.pending, self.counts = set(topics), dict.fromkeys(topics, 0)
        self.subscriptions_by_topic = {}
        self.create_timer(0.2, self._subscribe_new_topics)
        # flushes also when no message comes: a message waits at most flush_period + 0.1 s
        self.create_timer(min(0.1, flush_period / 4), self.writer.flush_if_due)
        self.get_logger().info(f'recording into {self.writer.data_file} (flushed every '
                               f'{flush_period} s)')

    def _subscribe_new_topics(self):
        types = dict(self.get_topic_names_and_types())
        for topic in sorted(self.pending & set(types)):
            if len(types[topic]) != 1:
                self.get_logger().error(f'{topic}: published with several types {types[topic]}'
                                        '; not recorded', throttle_duration_sec=5.0)
                continue
            type_name = types[topic][0]
            self.subscriptions_by_topic[topic] = self.create_subscription(
                message_class(type_name), topic, self._writer_for(topic, type_name),
                RECORD_QOS, raw=True)
            self.pending.discard(topic)
            self.get_logger().info(f'recording {topic} ({type_name})')

    def _writer_for(self, topic, type_name):
        def write(raw):
            try:
                self.writer.write_raw(topic, type_name, raw,
                                      self.get_clock().now().nanoseconds)
            except RecordingError as error:
                self.get_logger().error(f'{error}; not recorded')
                self.destroy_subscription(self.subscriptions_by_topic.pop(topic))
                return
            self.counts[topic] += 1
        return write

    def destroy_node(self):
        self.writer.close()
        self.get_logger().info(f'wrote {self.writer.path}: {self.counts}')
        super().destroy_node()


def main(args=None):
    run(RecorderNode, 'recorder_node', args)


if __name__ == '__main__':
    main()
