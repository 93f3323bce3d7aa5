# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
recorder_node: record topics into a rosbag2 folder without rosbag2 installed.

The stand-in for ``ros2 bag record`` where rosbag2 is absent (pip-only machines, CI): it
subscribes to each listed topic once a publisher appears (the type comes from the ROS graph)
and stores the serialized messages as received, with the receive time, like ros2 bag record.
Subscriptions are best effort, so they match reliable and sensor-QoS publishers alike; a
topic whose publishers all offer transient-local durability (a latched topic, such as a
contract published once) is subscribed transient local, reliable when they all offer
reliable, as ros2 bag record adapts to offered QoS: what was published before the recorder
started is recorded too.

The bag is written as it is recorded (recording.LiveBagWriter): ``<bag>/<bag>.mcap`` grows
from the start, flushed at most every ``flush_period`` seconds, so a recorder killed with
SIGKILL (or a power cut, up to what the OS had written) leaves a readable MCAP file with
everything up to its last flush; metadata.yaml is added when the node shuts down cleanly.
`robodopamine demo-info BAG` and `robodopamine adapt BAG` read it either way (a bag without
metadata.yaml with a warning).

Parameters: bag (required: a folder that does not exist yet), storage (mcap | sqlite3; a
sqlite3 bag is committed every flush_period, and without metadata.yaml it needs
``ros2 bag reindex``), flush_period (s, > 0; default 1.0), topics (default: the
demonstration topics of launch/franka_insertion.launch.py), contract (a Rosetta contract file,
data/rosetta.py; '' none): its topics are recorded (with those of ``topics`` when ``topics``
is not left at its default) and the bag embeds it as Rosetta's recorder does, in
metadata.yaml's custom_data (``rosetta.contract_yaml``, ``rosetta.contract_hash``).
"""

from ament_index_python import get_resource
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from robodopamine_ros.data.bags import TopicConfig
from robodopamine_ros.data.recording import LiveBagWriter, message_type_parts, RecordingError
from robodopamine_ros.data.rosetta import load_contract, recorded_topics
from robodopamine_ros.nodes.parameters import declare_parameter
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from rosidl_runtime_py.utilities import get_message

# best effort matches reliable and sensor-QoS publishers; a deep queue keeps bursts
RECORD_QOS = QoSProfile(reliability=ReliabilityPolicy.BEST_EFFORT,
                        history=HistoryPolicy.KEEP_LAST, depth=100)
# a latched topic (every publisher transient local): its history, reliable where offered
LATCHED_QOS = {reliable: QoSProfile(
    reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.TRANSIENT_LOCAL, history=HistoryPolicy.KEEP_LAST, depth=100)
    for reliable in (True, False)}
DEMO_TOPICS = TopicConfig()
DEFAULT_TOPICS = [DEMO_TOPICS.front, DEMO_TOPICS.left_wrist, DEMO_TOPICS.right_wrist,
                  DEMO_TOPICS.joint_states, DEMO_TOPICS.ee_pose, DEMO_TOPICS.action]


def message_class(type_name):
    """
    Return the Python class of a ROS message type name such as 'sensor_msgs/msg/Image'.

    The name is advertised by any peer on the graph: only ``pkg/msg/Name`` is accepted
    (data/recording.py), and only a message the ament index lists as an installed interface
    is imported, through rosidl's own lookup. Raises RecordingError naming the type otherwise.
    """
    package, name = message_type_parts(type_name)
    try:
        interfaces, _ = get_resource('rosidl_interfaces', package)
    except LookupError:
        raise RecordingError(f'type {type_name!r}: no interface package {package!r} is '
                             'installed: not recorded') from None
    if not {f'msg/{name}.msg', f'msg/{name}.idl'} & set(interfaces.splitlines()):
        raise RecordingError(f'type {type_name!r}: package {package!r} has no message '
                             f'{name!r}: not recorded')
    try:
        return get_message(type_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise RecordingError(f'type {type_name!r} cannot be loaded ({error}): not '
                             'recorded') from None


class RecorderNode(Node):

    def __init__(self, **kwargs):
        super().__init__('recorder_node', **kwargs)
        declare_parameter(self, 'bag', '')
        declare_parameter(self, 'storage', 'mcap')
        declare_parameter(self, 'flush_period', 1.0)     # s
        declare_parameter(self, 'topics', DEFAULT_TOPICS)
        declare_parameter(self, 'contract', '')
        bag = self.get_parameter('bag').value
        if not bag:
            raise ValueError('parameter bag must name the bag folder to write')
        path = self.get_parameter('contract').value
        contract = load_contract(path) if path else None
        topics = [self.resolve_topic_name(t) for t in recorded_topics(
            contract, self.get_parameter('topics').value, DEFAULT_TOPICS)]
        flush_period = self.get_parameter('flush_period').value
        self.writer = LiveBagWriter(bag, storage=self.get_parameter('storage').value,
                                    flush_period=flush_period,
                                    custom_data=contract.custom_data() if contract else None)
        self.pending, self.counts = set(topics), dict.fromkeys(topics, 0)
        self.subscriptions_by_topic = {}
        self.refused = set()   # (topic, type) refused as not a message type
        node_timer(self, 0.2, self._subscribe_new_topics)
        # flushes also when no message comes: a message waits at most flush_period + 0.1 s
        node_timer(self, min(0.1, flush_period / 4), self.writer.flush_if_due)
        self.get_logger().info(f'recording into {self.writer.data_file} (flushed every '
                               f'{flush_period} s)')

    def _subscribe_new_topics(self):
        types = dict(self.get_topic_names_and_types())
        for topic in sorted(self.pending & set(types)):
            if len(types[topic]) != 1:
                self.get_logger().error(f'{topic}: published with several types {types[topic]}'
                                        '; not recorded', throttle_duration_sec=5.0)
                continue
            offered = self.get_publishers_info_by_topic(topic)
            if not offered:   # on the graph through subscribers only: wait for a publisher
                continue
            type_name = types[topic][0]
            try:
                kind = message_class(type_name)
            except RecordingError as error:  # a peer advertised a type that is no message
                if (topic, type_name) not in self.refused:  # once per topic and type
                    self.refused.add((topic, type_name))
                    self.get_logger().error(f'{topic}: {error}')
                continue
            latched = all(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
                          for p in offered)
            qos = LATCHED_QOS[all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                                  for p in offered)] if latched else RECORD_QOS
            self.subscriptions_by_topic[topic] = self.create_subscription(
                kind, topic, self._writer_for(topic, type_name), qos, raw=True)
            self.pending.discard(topic)
            self.get_logger().info(f'recording {topic} ({type_name}'
                                   f'{", transient local" if latched else ""})')

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
