# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Joint positions by name (data/joints.py; issue 29, item 3): the live state, bags, the adapter.

Drivers publish joint_states in their own order (alphabetical on UR, resorted by
joint_state_broadcaster): positions are mapped by name to the configured joint_names, and a
message that lacks or adds a joint is refused naming both lists.
"""

import numpy as np
import pytest
from robodopamine_ros.data import bag_writer, bags
from robodopamine_ros.data.joints import check_trained_joints, JointOrder
from robodopamine_ros.robot.controller_adapters import to_command

ARM = tuple(f'joint{i + 1}' for i in range(7))
RESORTED = ('joint2', 'joint3', 'joint1') + ARM[3:]   # ros2_controllers#159
READY = np.array([0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])   # the Franka ready pose


def as_published(names, positions_by_name):
    return list(names), [positions_by_name[n] for n in names]


def test_positions_are_mapped_by_name_whatever_the_drivers_order():
    order = JointOrder(ARM)
    by_name = dict(zip(ARM, READY))
    for names in (ARM, RESORTED, tuple(sorted(ARM, reverse=True))):
        np.testing.assert_array_equal(order.positions(*as_published(names, by_name)), READY)


@pytest.mark.parametrize('names, problem', [
    (ARM[:6], r"lacks \['joint7'\]"),
    (ARM + ('finger1',), r"names unknown \['finger1'\]"),
    (('joint1',) + ARM[1:6] + ('joint1',), r"lacks \['joint7'\] and names \['joint1'\] more"),
])
def test_a_missing_unknown_or_repeated_name_is_refused_naming_both_lists(names, problem):
    with pytest.raises(ValueError, match=problem) as error:
        JointOrder(ARM).positions(names, np.zeros(len(names)), '/joint_states')
    message = str(error.value)
    assert message.startswith('/joint_states ')
    assert f'it names {list(names)}' in message and f'parameter joint_names is {list(ARM)}' \
        in message


def test_counts_that_differ_and_bad_configurations_are_refused():
    with pytest.raises(ValueError, match='has 6 positions for 7 names'):
        JointOrder(ARM).positions(ARM, np.zeros(6))
    with pytest.raises(ValueError, match='must name every joint'):
        JointOrder([''])
    with pytest.raises(ValueError, match=r"names \['a'\] more than once"):
        JointOrder(['a', 'b', 'a'])


def test_a_checkpoint_keeps_its_joint_names():
    assert check_trained_joints(list(ARM), ARM, 'ckpt') is None
    assert 'does not say which joints' in check_trained_joints(None, ARM, 'ckpt')
    with pytest.raises(ValueError, match=r"ckpt: trained with joint_names \['joint2', "
                                         r".*parameter joint_names is \['joint1', "):
        check_trained_joints(list(RESORTED), ARM, 'ckpt')


def test_a_resorted_joint_state_through_the_joint_trajectory_adapter_moves_each_joint_a_little():
    """Issue 29: taken by index, a 1 cm step commanded a 1.58 rad shoulder jump in one period."""
    rng = np.random.default_rng(0)
    jacobian = rng.normal(0.0, 0.3, size=(3, 7))   # columns in the configured order
    order = JointOrder(ARM)
    q = order.positions(*as_published(RESORTED, dict(zip(ARM, READY))))
    command = to_command('joint_trajectory', [1.0, 0.0, 0.0, 0.0], 0.1, 0.01,
                         joint_positions=q, jacobian=jacobian, joint_names=order.names)
    commanded = dict(zip(command.joint_names, command.positions))
    jumps = [abs(commanded[n] - current) for n, current in zip(ARM, READY)]
    assert max(jumps) < 0.1   # a few hundredths of a rad for 1 cm, on every joint by name
    # taken by index (the bug), joint1 would be sent joint2's position: 0.785 rad away
    _, published = as_published(RESORTED, dict(zip(ARM, READY)))
    assert abs(published[0] - READY[0]) > 0.5


def test_a_bag_whose_messages_change_order_reads_in_its_first_messages_order(
        tmp_path, make_episode):
    episode = make_episode(num_frames=6)
    values = episode.streams['joint_positions'].values
    stamps = episode.streams['joint_positions'].stamps
    names = episode.joint_names
    shuffled = names[1:] + names[:1]
    with bag_writer.EpisodeBagWriter(tmp_path / 'bag') as writer:
        for index, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][index] for v in bags.VIEWS})
        for k, (stamp, row) in enumerate(zip(stamps, values)):
            published = names if k % 2 == 0 else shuffled
            by_name = dict(zip(names, row))
            writer.write_joint_state(int(stamp), published, [by_name[n] for n in published])
    back = bags.read_episode(tmp_path / 'bag')
    assert back.joint_names == names
    np.testing.assert_allclose(back.streams['joint_positions'].values, values)


def test_a_bag_whose_joints_change_is_refused_naming_the_message(tmp_path, make_episode):
    episode = make_episode(num_frames=4)
    names = episode.joint_names
    with bag_writer.EpisodeBagWriter(tmp_path / 'bag') as writer:
        for index, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][index] for v in bags.VIEWS})
        writer.write_joint_state(int(episode.stamps[0]), names, np.zeros(7))
        writer.write_joint_state(int(episode.stamps[1]), names[:6], np.zeros(6))
    with pytest.raises(bags.BagError, match=r'/joint_states at stamp \d+ ns lacks '
                                            r"\['fr3_joint7'\].*its first message\) is"):
        bags.read_episode(tmp_path / 'bag')
