# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Who can reach the arm's ROS graph: the domain, discovery and SROS2 rules of a real cell, ROS-free.

Any process in the same ROS domain that discovers our nodes can publish to them and call their
services (a reward, a takeover, clearing the software e-stop). On a real arm the graph is closed
by one of (docs/real-arm.md, "Closing the ROS graph"):

- a ROS_DOMAIN_ID of its own per cell (not 0, the default every other ROS user shares), and
- localhost-only discovery when every node runs on the robot PC
  (``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` from Jazzy on, ``ROS_LOCALHOST_ONLY=1`` on
  Humble), or else
- SROS2 (``ROS_SECURITY_ENABLE=true``, ``ROS_SECURITY_STRATEGY=Enforce``) with the shipped
  policy ``config/sros2_policy.xml``: one enclave per node, ``enclave(name)``.

``discovery_warning(environ)`` is the launch file's rule for ``use_sim:=false``: the warning it
logs when the graph is in domain 0 and discoverable by the whole subnet.
"""

ENCLAVE_ROOT = '/robodopamine'   # enclave paths of config/sros2_policy.xml
LOCAL_RANGES = ('LOCALHOST', 'OFF')


def domain_id(environ):
    """Return the ROS domain of an environment (an int; unset or empty is 0, as rmw reads it)."""
    value = environ.get('ROS_DOMAIN_ID', '').strip()
    return int(value) if value.isdigit() else 0


def discovery_range(environ):
    """
    Return 'LOCALHOST', 'OFF' or 'SUBNET': how far the environment's nodes are discoverable.

    ROS_AUTOMATIC_DISCOVERY_RANGE (Jazzy and later) decides when set (SYSTEM_DEFAULT is the
    subnet); else ROS_LOCALHOST_ONLY=1 (Humble; honoured by Jazzy when the range is unset)
    means localhost; else the subnet. On Humble (ROS_DISTRO=humble) only ROS_LOCALHOST_ONLY
    counts.
    """
    scope = environ.get('ROS_AUTOMATIC_DISCOVERY_RANGE', '').strip().upper()
    if environ.get('ROS_DISTRO', '') != 'humble' and scope:
        return scope if scope in LOCAL_RANGES else 'SUBNET'
    return 'LOCALHOST' if environ.get('ROS_LOCALHOST_ONLY', '').strip() == '1' else 'SUBNET'


def security_enabled(environ):
    """Whether SROS2 is on in the environment (ROS_SECURITY_ENABLE=true)."""
    return environ.get('ROS_SECURITY_ENABLE', '').strip().lower() == 'true'


def enclave(node_name):
    """Return the SROS2 enclave of one of our nodes (config/sros2_policy.xml's context path)."""
    return f'{ENCLAVE_ROOT}/{node_name}'


def discovery_warning(environ):
    """
    Return the warning for a real arm's environment, or None when the graph is closed enough.

    The warning: domain 0 (or ROS_DOMAIN_ID unset) with discovery across the subnet, so any
    ROS 2 process on the network joins the arm's graph.
    """
    if domain_id(environ) != 0 or discovery_range(environ) != 'SUBNET':
        return None
    secured = ' (SROS2 is on: processes without its keys are refused, but every cell on domain ' \
        '0 still discovers yours)' if security_enabled(environ) else ''
    return ('the real arm runs in ROS domain 0 with discovery across the whole subnet: any '
            'ROS 2 process on the network can publish a reward, take over or clear the '
            f'software e-stop{secured}. Set ROS_DOMAIN_ID to a number of this cell alone, and '
            'ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (Humble: ROS_LOCALHOST_ONLY=1) when every '
            'node runs on the robot PC, or SROS2 with config/sros2_policy.xml '
            '(docs/real-arm.md, "Closing the ROS graph")')
