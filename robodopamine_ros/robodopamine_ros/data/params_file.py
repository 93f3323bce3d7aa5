# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A ROS 2 parameters file (YAML, keyed by node name), read as the launch files read it."""

import yaml


def node_parameters(params_file, name):
    """Return the ros__parameters of node `name` in params_file (keys name, /name, /**/name)."""
    try:
        with open(params_file) as stream:
            document = yaml.safe_load(stream) or {}
    except OSError as error:
        raise RuntimeError(f'params_file {params_file!r} cannot be read: {error.strerror}')
    except yaml.YAMLError as error:
        raise RuntimeError(f'params_file {params_file!r} is not valid YAML: '
                           f'{str(error).splitlines()[0]}')
    for key in (name, '/' + name, '/**/' + name):
        section = document.get(key) if isinstance(document, dict) else None
        if isinstance(section, dict):
            return dict(section.get('ros__parameters') or {})
    return {}
