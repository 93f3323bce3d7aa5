# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Joint positions by name, in the configured order, ROS-free.

Drivers publish ``joint_states`` in their own order (alphabetical on UR; joint_state_broadcaster
resorts them, ros2_controllers#159), and the order may differ between two recordings of the same
arm. The order of the joints in the state, in the Jacobian and in a JointTrajectory is the
configured ``joint_names`` (rl_agent_node's parameter); every place that reads positions maps
them by name to it (``JointOrder.positions``): the live state (rl_agent_node), the
demonstrations read from bags (bags.read_episode orders every message as the bag's first one,
rl.demonstrations maps that to joint_names), the joint_trajectory adapter. A message that
lacks a configured joint, names one that is not configured, names one twice, or whose name and
position counts differ is refused (ValueError naming both lists): positions are never taken by
index. A checkpoint keeps the names it was trained with (``check_trained_joints``).
"""

import numpy as np


class JointOrder:
    """The configured joint order; maps named positions onto it."""

    def __init__(self, names, source='parameter joint_names'):
        """
        names: the joints in the order the state uses; source: what they are, for errors.

        Raises ValueError naming `source` when a name is empty or repeated, or none is given.
        """
        self.names = tuple(str(n) for n in names)
        self.source = source
        if not self.names or not all(self.names):
            raise ValueError(f'{source} must name every joint (non-empty strings), got '
                             f'{list(self.names)}')
        repeated = sorted({n for n in self.names if self.names.count(n) > 1})
        if repeated:
            raise ValueError(f'{source} names {repeated} more than once: {list(self.names)}')
        self._index = {n: k for k, n in enumerate(self.names)}

    def __len__(self):
        return len(self.names)

    def permutation(self, names, where='joint_states'):
        """
        Return indices p with message[p] in the configured order, for a message naming `names`.

        Raises ValueError naming `where`, both lists and the missing / unknown / repeated joints.
        """
        names = tuple(str(n) for n in names)
        if names == self.names:
            return np.arange(len(names))
        problems = []
        missing = [n for n in self.names if n not in names]
        unknown = [n for n in names if n not in self._index]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if missing:
            problems.append(f'lacks {missing}')
        if unknown:
            problems.append(f'names unknown {unknown}')
        if repeated:
            problems.append(f'names {repeated} more than once')
        if problems:
            raise ValueError(f'{where} {" and ".join(problems)}: it names {list(names)}, '
                             f'{self.source} is {list(self.names)}')
        return np.array([names.index(n) for n in self.names])

    def positions(self, names, positions, where='joint_states', finite=False):
        """
        Return a message's joint values in the configured order (float64, one per joint).

        names, positions: a JointState's ``name`` and ``position``. Raises ValueError naming
        `where` and both lists when a name is missing, unknown or repeated, or the counts differ;
        with finite, also naming the configured joints whose value is NaN or inf (a driver
        that lost a joint: the state would be NaN, the policy could not act).
        """
        positions = np.asarray(positions, dtype=float).reshape(-1)
        if len(positions) != len(names):
            raise ValueError(f'{where} has {len(positions)} positions for {len(names)} names '
                             f'{list(names)} ({self.source} is {list(self.names)})')
        ordered = positions[self.permutation(names, where)]
        bad = non_finite_joints(self.names, ordered) if finite else []
        if bad:
            raise ValueError(f'{where}: positions of {bad} are not finite (NaN or inf)')
        return ordered


def non_finite_joints(names, positions):
    """Return the names whose positions (one row, or rows (N, joints)) are ever NaN or inf."""
    bad = ~np.isfinite(np.asarray(positions, dtype=float).reshape(-1, len(names))).all(axis=0)
    return [name for name, b in zip(names, bad) if b]


def check_trained_joints(trained, configured, source):
    """
    Compare a checkpoint's joint names with the configured ones.

    trained: the names stored with the checkpoint (None: a checkpoint from before they were
    stored); configured: parameter joint_names. Returns a warning (str) for a checkpoint
    without names, else None. Raises ValueError naming `source` and both lists when they differ
    (order included: the network reads the state by position).
    """
    configured = list(configured)
    if trained is None:
        return (f'{source}: the checkpoint does not say which joints it was trained with; '
                f'assuming parameter joint_names {configured}')
    if list(trained) != configured:
        raise ValueError(f'{source}: trained with joint_names {list(trained)}, parameter '
                         f'joint_names is {configured}: set joint_names to the trained list (same '
                         'order) or train a new checkpoint')
    return None
