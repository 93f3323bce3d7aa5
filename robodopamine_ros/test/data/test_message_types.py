# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""recorder_node's type names come from any peer on the graph: only pkg/msg/Name is accepted."""

import pytest
from robodopamine_ros.data.recording import message_type_parts, RecordingError


@pytest.mark.parametrize('name, parts', [
    ('sensor_msgs/msg/Image', ('sensor_msgs', 'Image')),
    ('robodopamine_interfaces/msg/ActionStamped', ('robodopamine_interfaces', 'ActionStamped')),
    ('tf2_msgs/msg/TFMessage', ('tf2_msgs', 'TFMessage')),
])
def test_message_types_are_split(name, parts):
    assert message_type_parts(name) == parts


@pytest.mark.parametrize('name', [
    'os/path/Join',                    # not a message namespace
    'std_srvs/srv/Trigger',            # a service
    'sensor_msgs/msg/Image/extra',     # too many parts
    'sensor_msgs/Image',               # the ROS 1 form
    'sensor_msgs.msg/msg/Image',       # a dotted module path
    '../msg/Image',                    # a path
    'Sensor_msgs/msg/Image',           # packages are lowercase
    'sensor_msgs/msg/image',           # messages are CamelCase
    'sensor_msgs/msg/Image\n',         # trailing characters
    'sensor_msgs/msg/__class__',
    '',
    None,
])
def test_anything_else_is_refused_naming_it(name):
    with pytest.raises(RecordingError, match='is not a ROS message type'):
        message_type_parts(name)
