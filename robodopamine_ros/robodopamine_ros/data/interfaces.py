# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Our message types for ROS-free code (rosbags), registered from the .msg files themselves.

robodopamine_interfaces/msg is the one source of truth: this package ships it as package data
(the ``msg`` folder beside this module links to it), and the colcon install holds it under
share/robodopamine_interfaces/msg. Nothing is restated in Python.
"""

from functools import lru_cache
import os
from pathlib import Path
import struct

INTERFACE_PACKAGE = 'robodopamine_interfaces'
DISTROS = ('humble', 'jazzy')


def message_definition_dir():
    """Return the folder of our .msg files: the package data, else the ament index."""
    packaged = Path(__file__).resolve().parent / 'msg'
    if any(packaged.glob('*.msg')):
        return packaged
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        candidate = Path(prefix) / 'share' / INTERFACE_PACKAGE / 'msg'
        if prefix and any(candidate.glob('*.msg')):
            return candidate
    raise FileNotFoundError(f'no {INTERFACE_PACKAGE} .msg files found beside {__file__} or '
                            'under AMENT_PREFIX_PATH')


@lru_cache(maxsize=None)
def typestore(distro='jazzy'):
    """Return a rosbags typestore of the distro's standard types plus ours."""
    from rosbags.typesys import get_types_from_msg, get_typestore, Stores

    if distro not in DISTROS:
        raise ValueError(f'distro must be one of {DISTROS}, got {distro!r}')
    store = get_typestore(Stores.ROS2_JAZZY if distro == 'jazzy' else Stores.ROS2_HUMBLE)
    types = {}
    for path in sorted(message_definition_dir().glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(encoding='utf-8'),
                                        f'{INTERFACE_PACKAGE}/msg/{path.stem}'))
    store.register(types)
    return store


def deserialize(store, raw, typename):
    """
    Deserialize CDR bytes like rosbags' Typestore.deserialize_cdr, tolerating end padding.

    Fast-CDR (what rclpy and ros2 bag record) may leave up to 7 padding bytes after the last
    field, e.g. 4 after a sensor_msgs/JointState with an empty effort array; rosbags rejects more
    than 3 as a size mismatch. Anything beyond 7 bytes is still an error.
    """
    from rosbags.serde import SerdeError

    if len(raw) < 4 or bytes(raw[:2]) not in (b'\x00\x00', b'\x00\x01'):
        raise SerdeError(f'{typename}: invalid or unsupported CDR encapsulation')
    msgdef = store.get_msgdef(typename)
    func = msgdef.deserialize_cdr_le if raw[1] else msgdef.deserialize_cdr_be
    try:
        message, pos = func(memoryview(raw)[4:], 0, msgdef.cls, store)
    except (ValueError, struct.error) as error:  # UnicodeDecodeError is a ValueError
        raise SerdeError(f'could not deserialize {typename}: {error}') from error
    if len(raw) - 4 - pos > 7:
        raise SerdeError(f'{typename}: {len(raw) - 4 - pos} bytes left after the message')
    return message
