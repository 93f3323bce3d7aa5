# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
ROS parameters of our nodes: declared with their default's type, read back, validated.

``declare_parameter(node, name, default)`` is rclpy's ``node.declare_parameter`` with the
types a user writes in YAML: an integer given where a float is declared (``rate: 10``) is that
float (and a list of integers for a list of floats); any other type is a ValueError naming the
parameter, the type given and the type expected, which ``spin.run`` turns into one fatal line
and exit status 2 (rclpy's own ``InvalidParameterTypeException`` is a 20-line traceback).
``declare_settings`` declares a settings dataclass the same way.
"""

from dataclasses import fields, MISSING
from enum import Enum

from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult

TYPE_NAMES = {bool: 'a boolean', int: 'an integer', float: 'a float', str: 'a string',
              bytes: 'a byte array'}


def type_name(value):
    """Name a parameter value's type as a user writes it ('an integer', 'a list of floats')."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == 'ndarray':
        items = {TYPE_NAMES.get(type(v), type(v).__name__).split(' ', 1)[-1] for v in value}
        if len(items) == 1 and 'byte array' not in items:
            return f'a list of {items.pop()}s'
        return 'a list'
    return TYPE_NAMES.get(type(value), f'a {type(value).__name__}')


def as_declared(name, given, default):
    """
    Return `given` (a parameter's value) in the type of `default`, the declared one.

    An integer for a float becomes that float, a list of integers for a list of floats a list
    of floats. Raises ValueError naming the parameter, the type given and the type expected.
    """
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)
    if isinstance(default, float) and is_int(given):
        return float(given)
    if isinstance(default, (list, tuple)) and default \
            and all(isinstance(v, float) for v in default) \
            and isinstance(given, (list, tuple)) and given and all(map(is_int, given)):
        return [float(v) for v in given]
    raise ValueError(f'parameter {name}: got {type_name(given)} ({given!r}), expected '
                     f'{type_name(default)} (like {default!r})')


def declare_parameter(node, name, default, descriptor=None):
    """
    Declare parameter `name` of `node` with `default` (its type); return the value it holds.

    The value is the override (params file, ``-p name:=value``) when there is one, converted
    by as_declared: an integer given for a float parameter is declared as that float. Raises
    ValueError (as_declared) for any other type.
    """
    from rclpy.exceptions import InvalidParameterTypeException

    try:
        return node.declare_parameter(name, default, descriptor or ParameterDescriptor()).value
    except InvalidParameterTypeException:
        pass   # the override has another type: read it as given, then judge it
    given = node.declare_parameter(name, None, ParameterDescriptor(dynamic_typing=True)).value
    node.undeclare_parameter(name)
    value = as_declared(name, given, default)
    return node.declare_parameter(name, value, descriptor or ParameterDescriptor(),
                                  ignore_override=True).value


def declare_settings(node, settings_class):
    """
    Declare one parameter per field of `settings_class` and return the settings they hold.

    Each parameter takes the field's name and default (a tuple becomes a list, the ROS array
    type; an Enum its value); the values come back through the public rclpy API
    (declare_parameter returns any override from a params file or the command line, an integer
    given for a float as that float) and the dataclass validates them (ValueError naming the
    parameter).
    """
    values = {}
    for item in fields(settings_class):
        default = item.default if item.default is not MISSING else item.default_factory()
        default = list(default) if isinstance(default, tuple) else default
        default = default.value if isinstance(default, Enum) else default
        values[item.name] = declare_parameter(node, item.name, default)
    return settings_class(**values)


def refuse_parameter_changes(node):
    """
    Refuse every later parameter change of `node` (``ros2 param set``) with a reason.

    For nodes that read their parameters once at start: a change would be answered
    "successful" and ignored. The reason names the node and says to restart it.
    """
    reason = f'{node.get_name()} parameters are read at start; restart it to change them'
    node.add_on_set_parameters_callback(
        lambda parameters: SetParametersResult(successful=False, reason=reason))
