# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A settings dataclass as ROS parameters: declared from its fields, read back, validated."""

from dataclasses import fields, MISSING
from enum import Enum


def declare_settings(node, settings_class):
    """
    Declare one parameter per field of `settings_class` and return the settings they hold.

    Each parameter takes the field's name and default (a tuple becomes a list, the ROS array
    type; an Enum its value); the values come back through the public rclpy API
    (``declare_parameter`` returns the parameter with any override from a params file or the
    command line) and the dataclass validates them (ValueError naming the parameter).
    """
    values = {}
    for item in fields(settings_class):
        default = item.default if item.default is not MISSING else item.default_factory()
        default = list(default) if isinstance(default, tuple) else default
        default = default.value if isinstance(default, Enum) else default
        values[item.name] = node.declare_parameter(item.name, default).value
    return settings_class(**values)
