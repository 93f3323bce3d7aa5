# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Holds of rl_agent_node over real DDS (issue 29 item 6, issue 30 item 2).

No fresh progress, no reward: rewards from a frozen progress hold the arm, and a grm_node that
dies ends the episode (shaping_node goes quiet) until its respawn starts the next. An episode's
end while the arm is held (e-stop, stale observations, a silent takeover, the hand outside the
box) is honoured, and training goes on with the next episode once the hold ends.
"""

from agent_feeders import EpisodeFeeder, FakeGRM
import pytest
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary, RewardStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from std_srvs.srv import Trigger


@pytest.fixture
def training_agent(ros_context, background):
    """Start a training agent without grm_node (it starts its own episodes), acting."""
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'start_episode_service': '', 'reset_service': '',
            'max_steps': 100000, 'batch_size': 16, 'pretrain_updates': 0, 'offline_updates': 0,
            'updates_per_step': 1, 'observation_timeout': 0.5, 'reward_timeout': 0.5,
            'progress_timeout': 0.5}.items()])
    probe = rclpy.create_node('rd_test_holds', context=ros_context)
    commands, summaries = [], []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    for node in (probe, agent):
        background.add_node(node)
    feeder = EpisodeFeeder(ros_context, background, agent)
    background.wait_until(lambda: commands and commands[-1].source == 'policy',
                          what='policy commands')
    yield agent, probe, feeder, commands, summaries
    background.shutdown()
    for node in (agent, probe, feeder.node):
        node.destroy_node()


def more(commands, background, n=5):
    """Wait for n more commands; return them."""
    count = len(commands)
    background.wait_until(lambda: len(commands) >= count + n, what=f'{n} more commands')
    return commands[count:]


def test_rewards_from_a_frozen_progress_hold_the_arm(training_agent, background):
    agent, probe, feeder, commands, summaries = training_agent
    feeder.fresh_progress = False          # rewards keep coming: their progress is frozen
    background.wait_until(lambda: commands[-1].source == 'stop', what='a stop')
    assert 'progress' in agent.watchdog.faults()
    stored = len(agent.loop.episode.transitions)
    assert all(c.source == 'stop' for c in more(commands, background, 10))
    assert len(agent.loop.episode.transitions) == stored   # nothing stored in the gap
    feeder.fresh_progress = True
    background.wait_until(lambda: commands[-1].source == 'policy', what='the policy again')


@pytest.mark.parametrize('hold', ['estop', 'observations', 'teleop', 'outside'])
def test_an_episode_that_ends_while_the_arm_is_held_does_not_freeze_training(
        hold, training_agent, background):
    agent, probe, feeder, commands, summaries = training_agent
    wait = background.wait_until
    estop = probe.create_client(Trigger, 'rl_agent_node/estop')
    clear = probe.create_client(Trigger, 'rl_agent_node/clear_estop')
    intervene = probe.create_client(SetIntervention, 'rl_agent_node/set_intervention')
    teleop = probe.create_publisher(ActionStamped, 'teleop/action', 10)
    first = agent.loop.episode_id
    if hold == 'estop':
        wait(estop.service_is_ready, what='the estop service')
        assert background.call(estop, Trigger.Request()).success
    elif hold == 'observations':
        feeder.observations = False
    elif hold == 'teleop':   # a takeover whose pad went silent (teleop_on_timeout: stop)
        background.call(intervene, SetIntervention.Request(active=True, source='test'))
        teleop.publish(ActionStamped(values=[0.0, 0.0, 0.0, 1.0], intervention=True))
    else:
        feeder.hand_z = 0.9    # the hand outside the box: the policy holds
    wait(lambda: commands[-1].source == 'stop', what='the hold')
    feeder.end = 'truncated'               # shaping_node ends the episode: its last step
    wait(lambda: any(s.episode_id == first for s in summaries), what='the episode ended')
    feeder.end = None
    if hold == 'outside':   # the policy's own hold: the next episode starts (a reset or the
        wait(lambda: agent.loop.episode_id > first, what='the next episode')   # move home)
        feeder.hand_z = 0.2
        wait(lambda: commands[-1].source == 'policy', what='the policy, the hand back inside')
        return
    assert all(c.source == 'stop' for c in more(commands, background, 10))
    assert agent.loop.episode is None      # no next episode while the arm is held
    if hold == 'teleop':
        background.call(intervene, SetIntervention.Request(active=False, source='test'))
    elif hold == 'estop':   # clearing needs the deadman held (a person at the robot)
        background.call(intervene, SetIntervention.Request(active=True, source='test'))

        def cleared():
            teleop.publish(ActionStamped(values=[0.0, 0.0, 0.0, 1.0], intervention=True))
            return background.call(clear, Trigger.Request()).success
        wait(cleared, what='the e-stop cleared with the deadman held')
        background.call(intervene, SetIntervention.Request(active=False, source='test'))
    elif hold == 'observations':
        feeder.observations = True
    wait(lambda: agent.loop.episode_id > first and commands[-1].source == 'policy',
         timeout=20, what='the next episode, the policy acting')
    assert agent.cycle.episodes_done >= 1


def test_grm_node_dead_and_respawned_ends_the_episode_and_training_goes_on(
        ros_context, background):
    from robodopamine_ros.nodes.shaping_node import ShapingNode

    grm = FakeGRM(ros_context, background)
    shaping = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.1), Parameter('progress_timeout', value=0.5)])
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'reset_service': '', 'max_steps': 100000, 'batch_size': 16,
            'pretrain_updates': 0, 'offline_updates': 0, 'updates_per_step': 1,
            'reward_loss_timeout': 1.5}.items()])
    probe = rclpy.create_node('rd_test_grm_respawn', context=ros_context)
    commands, summaries, rewards = [], [], []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    probe.create_subscription(RewardStamped, 'reward', background.collector(rewards), 100)
    for node in (probe, shaping, agent):
        background.add_node(node)
    feeder = EpisodeFeeder(ros_context, background, agent)
    feeder.rewards = False                 # shaping_node sends the rewards here
    wait = background.wait_until
    try:
        wait(lambda: commands and commands[-1].source == 'policy', timeout=20,
             what='policy commands')
        first = agent.loop.episode_id
        grm.die()
        wait(lambda: any(s.episode_id == first for s in summaries), timeout=10,
             what='the episode ended for want of fresh rewards')
        count = len(rewards)
        assert all(c.source == 'stop' for c in more(commands, background, 5))
        assert len(rewards) == count and agent.loop.episode is None   # no reward, no episode
        grm.respawn()
        wait(lambda: agent.loop.episode_id > first and commands[-1].source == 'policy',
             timeout=20, what='the next episode through the respawned grm_node')
    finally:
        background.shutdown()
        for node in (agent, shaping, probe, grm.node, feeder.node):
            node.destroy_node()
