# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""shaping_node over real rclpy: rewards at control rate from slower progress."""

import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from robodopamine_interfaces.msg import ProgressStamped, RewardStamped
from robodopamine_ros.nodes.shaping_node import ShapingNode


def formula(msg, delta=0.05):
    after = 0.0 if msg.terminal else msg.progress_after
    sparse = 1.0 if msg.progress_after >= 1.0 - delta else 0.0
    return sparse + msg.gamma * after - msg.progress_before, sparse


def test_rewards_match_the_formula_when_the_grm_is_slower(ros_context, executor, spin_until):
    node = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.02), Parameter('gamma', value=0.9)])
    probe = rclpy.create_node('rd_test_grm', context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    rewards, sent = [], []
    probe.create_subscription(RewardStamped, 'reward', rewards.append, QoSProfile(depth=100))
    publisher = probe.create_publisher(ProgressStamped, 'progress', 10)
    spin_until(lambda: publisher.get_subscription_count() >= 1, what='discovery')

    levels = iter([0.1, 0.25, 0.4, 0.6, 0.8, 0.97])

    def publish_progress():
        value = next(levels, None)
        if value is not None:
            sent.append(value)
            # success as grm_node's detector reports it (here: on the last level)
            publisher.publish(ProgressStamped(episode_id=3, progress=value, confidence=0.5,
                                              success=value >= 0.95))

    probe.create_timer(0.07, publish_progress)  # about 3.5 control steps per GRM tick
    spin_until(lambda: rewards and rewards[-1].terminal, timeout=15, what='a terminal reward')

    episode = [r for r in rewards if r.episode_id == 3]
    assert len(episode) > len(sent)  # more control steps than GRM ticks
    assert [r.step for r in episode] == list(range(episode[0].step, episode[0].step
                                                   + len(episode)))
    for previous, current in zip(episode, episode[1:]):
        assert current.progress_before == pytest.approx(previous.progress_after)
    for r in episode:
        reward, sparse = formula(r)
        assert r.reward == pytest.approx(reward, abs=1e-6)
        assert r.sparse_reward == sparse and r.gamma == pytest.approx(0.9)
        assert r.progress_after == pytest.approx(0.0) or \
            min(abs(r.progress_after - v) for v in sent) < 1e-6
    assert episode[-1].terminal and episode[-1].sparse_reward == 1.0
    assert episode[-1].confidence == pytest.approx(0.5)

    # a new episode id starts from progress 0 and step 0
    count = len(rewards)
    publisher.publish(ProgressStamped(episode_id=4, progress=0.3, confidence=1.0))
    spin_until(lambda: any(r.episode_id == 4 for r in rewards[count:]), what='episode 4')
    first = next(r for r in rewards[count:] if r.episode_id == 4)
    assert first.step == 0 and first.progress_before == 0.0
    node.destroy_node()
    probe.destroy_node()


def test_invalid_parameters_are_rejected_with_a_reason(ros_context):
    with pytest.raises(ValueError, match='gamma must be in'):
        ShapingNode(context=ros_context, parameter_overrides=[Parameter('gamma', value=1.5)])
    with pytest.raises(ValueError, match='control_period must be > 0'):
        ShapingNode(context=ros_context,
                    parameter_overrides=[Parameter('control_period', value=-0.1)])
    node = ShapingNode(context=ros_context)
    result = node.set_parameters([Parameter('success_delta', value=1.5)])[0]
    assert not result.successful and 'success_delta' in result.reason
    result = node.set_parameters([Parameter('max_steps', value=200)])[0]
    assert result.successful and node.stepper.max_steps == 200
    node.destroy_node()


def test_conversions_copy_every_field():
    import math
    from robodopamine_ros.nodes.conversions import (ns_from_time, progress_msg, reward_msg,
                                                    time_from_ns)
    from robodopamine_ros.reward.progress import ProgressTracker
    from robodopamine_ros.reward.shaping import shape, ShapingConfig
    stamp = time_from_ns(1_700_000_000_250_000_000)
    assert ns_from_time(stamp) == 1_700_000_000_250_000_000
    estimate = ProgressTracker().update(0.5, None, -0.25)
    msg = progress_msg(estimate, 7, stamp, 'front_camera', 0.004)
    assert (msg.episode_id, msg.tick, msg.header.frame_id) == (7, 1, 'front_camera')
    assert msg.progress == pytest.approx(estimate.progress)
    assert math.isnan(msg.progress_forward) and msg.progress_backward == pytest.approx(0.75)
    assert msg.inference_latency == pytest.approx(0.004)
    reward = shape(0.5, 0.97, ShapingConfig(gamma=0.9))
    msg = reward_msg(reward, 12, 7, stamp, confidence=0.25)
    assert (msg.step, msg.episode_id, msg.terminal, msg.truncated) == (12, 7, True, False)
    assert msg.reward == pytest.approx(reward.reward) and msg.confidence == 0.25


def test_no_fresh_progress_no_reward_and_each_reward_carries_its_progress_stamp(
        ros_context, executor, spin_until):
    """Issue 29 item 6: a silent GRM (a camera, a respawn) pauses the rewards."""
    import time
    node = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.02), Parameter('progress_timeout', value=0.2)])
    probe = rclpy.create_node('rd_test_silent_grm', context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    rewards, sent = [], {}   # sent: progress stamp (ns) -> monotonic send time
    probe.create_subscription(
        RewardStamped, 'reward', lambda msg: rewards.append((time.monotonic(), msg)),
        QoSProfile(depth=100))
    publisher = probe.create_publisher(ProgressStamped, 'progress', 10)
    spin_until(lambda: publisher.get_subscription_count() >= 1, what='discovery')
    grm = {'on': True, 'value': 0.1}

    def publish_progress():
        if grm['on']:
            msg = ProgressStamped(episode_id=5, progress=grm['value'])
            msg.header.stamp = probe.get_clock().now().to_msg()
            sent[msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec] = time.monotonic()
            publisher.publish(msg)

    probe.create_timer(0.05, publish_progress)
    spin_until(lambda: len(rewards) >= 10, what='rewards')
    grm['on'] = False        # the GRM goes silent
    silent_from = time.monotonic()
    spin_until(lambda: node.stepper.stale_for(time.monotonic()) is not None
               and time.monotonic() - silent_from > 1.0, what='a second of silence')
    during = len(rewards)
    grm['on'], grm['value'] = True, 0.6
    spin_until(lambda: any(m.progress_after > 0.5 for _, m in rewards[during:]),
               what='rewards from the new progress')
    stamps = [m.progress_stamp.sec * 10**9 + m.progress_stamp.nanosec for _, m in rewards]
    assert all(stamp in sent for stamp in stamps)    # each names the progress it came from
    # no reward was shaped from a progress older than progress_timeout (0.2 s) + one period,
    # with room for the deliveries on a busy machine (without the rule: a second and more)
    ages = [received - sent[stamp] for (received, _), stamp in zip(rewards, stamps)]
    assert max(ages) < 0.6
    steps = [m.step for _, m in rewards if m.episode_id == 5]
    assert steps == list(range(steps[0], steps[0] + len(steps)))   # none counted in the gap
    node.destroy_node()
    probe.destroy_node()
