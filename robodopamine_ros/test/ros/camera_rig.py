# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A test double of a robot's cameras and joint states, publishing at 30 Hz over real DDS."""

import numpy as np
from rclpy.qos import qos_profile_sensor_data
from robodopamine_ros.nodes.conversions import image_msg, ns_from_time
from sensor_msgs.msg import Image, JointState


class CameraRig:
    """
    Three 64 x 48 cameras (a bar moving across each frame) and joint states, one stamp each tick.

    cameras: the three image topics; joints: the JointState topic; also: (publisher, message)
    pairs published every tick beside them. ``published_ns`` holds every tick's stamp.
    """

    def __init__(self, node, cameras, joints, also=()):
        self.node = node
        self.cameras = [node.create_publisher(Image, t, qos_profile_sensor_data)
                        for t in cameras]
        self.joints = node.create_publisher(JointState, joints, 10)
        self.also = list(also)
        self.published_ns = []
        self.frame = 0
        node.create_timer(1 / 30, self.publish)

    def publish(self):
        stamp = self.node.get_clock().now().to_msg()
        self.frame += 1
        for k, publisher in enumerate(self.cameras):
            image = np.full((48, 64, 3), 30 * k, np.uint8)
            image[:, self.frame % 56:self.frame % 56 + 8] = 250
            publisher.publish(image_msg(image, stamp, f'cam{k}'))
        joints = JointState(name=['a'], position=[self.frame / 100])
        joints.header.stamp = stamp
        self.joints.publish(joints)
        for publisher, message in self.also:
            publisher.publish(message)
        self.published_ns.append(ns_from_time(stamp))

    def subscribed(self):
        """Return whether every camera and the joints have a subscriber."""
        return all(p.get_subscription_count() > 0 for p in self.cameras + [self.joints])
