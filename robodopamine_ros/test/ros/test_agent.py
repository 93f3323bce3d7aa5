# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""rl_agent_node and teleop_node over real DDS: the loop, takeovers, the watchdog, adapters."""

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary, RewardStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.nodes.grm_node import GRMNode
from robodopamine_ros.nodes.rl_agent_node import ADAPTER_TYPES, RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from robodopamine_ros.reward.contract import grm_content_hash
from robodopamine_ros.reward.shaping import shape
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.logs import read_contracts, read_log
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from sensor_msgs.msg import JointState, Joy
from sim_thread import SimInItsThread
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

AGENT = {'max_steps': 6, 'batch_size': 16, 'checkpoint_every': 1, 'observation_timeout': 0.5,
         'reward_timeout': 0.5}


def agent_node(context, **parameters):
    values = dict(AGENT, **parameters)
    return RLAgentNode(context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in values.items()])


@pytest.fixture
def graph(ros_context, tmp_path, background):
    sim = SimInItsThread(ros_context, image_width=64, image_height=48,
                         command_interface='twist')  # driven through the twist adapter
    refs = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 200, np.uint8)]
    CompactGRM.create(task='insert the peg').save(tmp_path / 'grm', refs)
    grm = GRMNode(context=ros_context, parameter_overrides=[
        Parameter('model_dir', value=str(tmp_path / 'grm')), Parameter('rate', value=10.0)])
    # both nodes keep their default gamma: the one GAMMA (reward/shaping.py) must make the
    # agent shape its stored rewards as shaping_node does
    shaping = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.1)])
    for node in (grm, shaping):
        background.add_node(node)
    yield sim, grm, shaping
    sim.close()


def test_train_loop_stores_rewards_shaped_from_shaping_nodes_progress_learns_and_checkpoints(
        graph, ros_context, tmp_path, background):
    sim, grm, shaping = graph
    probe = rclpy.create_node('rd_test_probe', context=ros_context)
    rewards, summaries, commands, executed = [], [], [], []
    reward_sub = probe.create_subscription(RewardStamped, 'reward',
                                           background.collector(rewards), 100)
    probe.create_subscription(Bool, 'sim_robot/success', background.collector(executed), 100)
    summary_sub = probe.create_subscription(EpisodeSummary, 'episode_summary',
                                            background.collector(summaries), 10)
    command_sub = probe.create_subscription(ActionStamped, 'command',
                                            background.collector(commands), 100)
    estop = probe.create_client(Trigger, 'rl_agent_node/estop')
    clear = probe.create_client(Trigger, 'rl_agent_node/clear_estop')
    intervene = probe.create_client(SetIntervention, 'rl_agent_node/set_intervention')
    teleop = probe.create_publisher(ActionStamped, 'teleop/action', 10)
    background.add_node(probe)
    wait = background.wait_until
    # the probe hears shaping_node before the agent exists, and the agent before it spins, so
    # it gets every message the agent sends or stores (one published before DDS matched the
    # probe never reaches it)
    wait(lambda: reward_sub.get_publisher_count() >= 1, what="the probe matched to 'reward'")
    agent = agent_node(ros_context, checkpoint_dir=str(tmp_path / 'ckpt'),
                       log_dir=str(tmp_path / 'logs'))
    wait(lambda: summary_sub.get_publisher_count() >= 1 and command_sub.get_publisher_count()
         >= 1, what='the probe matched to the agent')
    background.add_node(agent)
    try:
        wait(lambda: len(summaries) >= 2, timeout=60, what='two finished episodes')
        assert len(executed) >= 6 and sim.node.seed >= 1  # twists stepped it; it was reset
        assert any(c.source == 'policy' for c in commands)
        assert all(np.all(np.abs(c.values) <= 1.0) for c in commands)
        assert summaries[0].steps == 6 and summaries[0].episode_id == 1
        wait(lambda: agent.learner.updates > 5, what='learner updates')
        with agent.learner.lock:
            online = agent.learner.learner.online
            n = len(online)
            stored = {k: np.array(online.scalars[k][:n], np.float64) for k in
                      ('reward', 'progress_before', 'progress_after', 'sparse_reward')}
            flags = {k: np.array(online.flags[k][:n]) for k in ('terminal', 'truncated')}
        assert n >= 6

        # the agent shapes each executed step from the progress in effect at its two ticks
        # (rl/agent_loop.py ControlLoop): both are progresses shaping_node sent, and the reward
        # is shape() of them under the gamma shaping_node announces. Which of shaping_node's
        # rewards fall between two ticks depends on how the timers interleave, so the stored
        # rewards need not equal any sent one.
        def sent_progresses():
            return np.array([p for r in rewards for p in (r.progress_before, r.progress_after)])

        def all_progress_was_sent():   # float32 on the wire and in the buffer
            sent = sent_progresses()
            both = np.concatenate([stored['progress_before'], stored['progress_after']])
            return len(sent) > 0 and np.all(
                np.abs(both[:, None] - sent[None, :]).min(axis=1) <= 1e-6)

        # the probe may receive the newest reward a little after the agent did
        wait(all_progress_was_sent, what="the stored progresses among shaping_node's")
        assert len(np.unique(stored['progress_after'])) > 1   # the GRM's progress moved
        assert {round(r.gamma, 6) for r in rewards} == {round(agent.loop.shaping.gamma, 6)}
        for i in range(n):
            expected = shape(stored['progress_before'][i], stored['progress_after'][i],
                             agent.loop.shaping, terminal=bool(flags['terminal'][i]),
                             truncated=bool(flags['truncated'][i]),
                             success=bool(stored['sparse_reward'][i] > 0))
            assert stored['reward'][i] == pytest.approx(expected.reward, abs=1e-5), i
        ckpt = tmp_path / 'ckpt' / 'checkpoint.pt'
        wait(ckpt.is_file, what='a checkpoint')
        resumed, _ = Learner.resume(tmp_path / 'ckpt', {'state': (16,)})
        assert resumed.counters['episodes'] >= 1
        logged = read_log(tmp_path / 'logs')
        assert [r['episode'] for r in logged[:2]] == [1.0, 2.0] and logged[0]['steps'] == 6
        # the reward contract: grm_node's model and settings + the agent's shaping, named in
        # every row (grm_node published its half before the first episode), in checkpoints
        (digest, contract), = read_contracts(tmp_path / 'logs').items()
        # (a row before the latched message reached the agent would name none)
        assert {r['reward_contract'] for r in logged} - {''} == {digest}
        assert logged[-1]['reward_contract'] == digest
        assert contract.grm == grm_content_hash(tmp_path / 'grm') and contract.grm_every == 1.0
        assert contract.views['front'] == '/cameras/front/image_raw'
        assert contract.shaping['gamma'] == agent.loop.shaping.gamma
        assert Learner.read(tmp_path / 'ckpt')['extra']['reward_contract'] == contract.to_dict()

        # the e-stop latches: commands are stops until cleared
        wait(estop.service_is_ready, what='estop service')
        assert background.call(estop, Trigger.Request()).success
        at_estop = agent.loop.episode_id   # running, or the last one (between episodes)
        count = len(commands)
        wait(lambda: len(commands) >= count + 5, what='commands after the e-stop')
        assert all(c.source == 'stop' and c.values[:3].tolist() == [0, 0, 0]
                   for c in commands[count + 1:])
        refused = background.call(clear, Trigger.Request())  # nobody holds the deadman
        assert not refused.success and 'hold the teleop deadman' in refused.message
        count = len(commands)
        wait(lambda: len(commands) >= count + 3, what='commands after the refusal')
        assert all(c.source == 'stop' for c in commands[count:])
        # the operator at the robot: a takeover (teleop_node's service call and its action)
        background.call(intervene, SetIntervention.Request(active=True, source='test'))

        def operator_acts():
            teleop.publish(ActionStamped(values=[0.0, 0.0, 0.0, -1.0], intervention=True))
            return agent.loop.operator_present(agent._now())
        wait(operator_acts, what='the takeover')
        assert background.call(clear, Trigger.Request()).success
        # the interrupted episode ends: at the clear, or while held (shaping_node's end); no
        # episode starts while the e-stop holds the arm
        wait(lambda: any(s.episode_id == at_estop for s in summaries),
             what='the interrupted episode ends')
        background.call(intervene, SetIntervention.Request(active=False, source='test'))
        count = len(commands)
        wait(lambda: any(c.source == 'policy' for c in commands[count:]), timeout=20,
             what='policy commands after clearing (a new episode)')
        assert agent.loop.episode_id > at_estop

        # watchdog: the reward stream stops -> zero motion within the timeout, until it returns
        background.executor.remove_node(shaping)
        wait(lambda: commands[-1].source == 'stop', timeout=5, what='a stop on stale rewards')
        count = len(commands)
        wait(lambda: len(commands) >= count + 5, what='more commands')
        assert all(c.source == 'stop' for c in commands[count:])
        background.add_node(shaping)
        count = len(commands)
        wait(lambda: any(c.source != 'stop' for c in commands[count:]), timeout=20,
             what='commands resume with the rewards')
    finally:
        background.shutdown()
        agent.destroy_node()
        probe.destroy_node()


class Feeder:
    """A probe node publishing joint states, the pose and rewards of episode 1 at 20 Hz."""

    def __init__(self, context, background, joy=None):
        from geometry_msgs.msg import PoseStamped
        from sensor_msgs.msg import JointState
        self.node = rclpy.create_node('rd_test_feeder', context=context)
        self.joints = self.node.create_publisher(JointState, 'joint_states', 10)
        self.pose_pub = self.node.create_publisher(PoseStamped, 'robodopamine/ee_pose', 10)
        self.reward = self.node.create_publisher(RewardStamped, 'reward', 10)
        self.joy_pub = self.node.create_publisher(Joy, 'joy', 10)
        self.pose = PoseStamped()
        self.pose.header.frame_id = 'base'  # the agent's base_frame (another is refused)
        self.pose.pose.position.y, self.pose.pose.position.z = 0.6, 0.2
        self.pose.pose.orientation.w = 1.0
        self.joint_state = JointState(name=list(JOINT_NAMES), position=[0.1] * 9)  # the default
        self.joy, self.rewards = joy, False
        self.node.create_timer(0.05, self._publish)
        background.add_node(self.node)

    def _publish(self):
        self.joints.publish(self.joint_state)
        self.pose_pub.publish(self.pose)
        if self.rewards:
            reward = RewardStamped(episode_id=1, progress_before=0.2, progress_after=0.2,
                                   reward=-0.004, gamma=0.98)
            # a new progress each time: rewards from a frozen progress hold the arm
            reward.progress_stamp = self.node.get_clock().now().to_msg()
            self.reward.publish(reward)
        if self.joy is not None:
            self.joy_pub.publish(self.joy)


def test_joy_deadman_takes_over_and_release_and_silence_hand_back(ros_context, background):
    agent = agent_node(ros_context, mode='eval', reset_service='', max_steps=1000)
    teleop = TeleopNode(context=ros_context, parameter_overrides=[
        Parameter('timeout_s', value=0.3)])
    probe = rclpy.create_node('rd_test_joy', context=ros_context)
    commands = []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    for node in (probe, agent, teleop):
        background.add_node(node)
    feeder = Feeder(ros_context, background)
    wait = background.wait_until
    try:
        agent.loop.start_episode(1)  # no grm_node here: the episode starts directly
        feeder.rewards = True
        wait(lambda: commands and commands[-1].source == 'policy', what='policy commands')
        pressed = Joy(axes=[0.0, 0.8, 0.0, 0.0, 0.0, 0.0], buttons=[1, 0, 0, 0, 1])
        feeder.joy = pressed  # LB (button 4) is the gamepad deadman; axis 1 drives x
        wait(lambda: commands[-1].source == 'teleop', what='teleop commands')
        assert agent.loop.intervening and commands[-1].intervention
        assert commands[-1].values[0] == pytest.approx(0.8)
        assert commands[-1].values[3] == 1.0  # button 0 closed the gripper
        # the stored transitions carry the human action and the intervention flag
        wait(lambda: agent.loop.episode is not None and any(
            t['intervention'] for t in agent.loop.episode.transitions),
            what='a stored takeover transition')
        taken = [t for t in agent.loop.episode.transitions if t['intervention']]
        assert taken[-1]['action'][0] == pytest.approx(0.8)
        feeder.joy = Joy(axes=[0.0] * 6, buttons=[0] * 5)  # release
        wait(lambda: not agent.loop.intervening and commands[-1].source == 'policy',
             what='release hands back to the policy')
        feeder.joy = pressed
        wait(lambda: agent.loop.intervening, what='second takeover')
        feeder.joy = None  # /joy goes silent
        wait(lambda: not agent.loop.intervening, timeout=5, what='silence ends the takeover')
    finally:
        background.shutdown()
        for node in (agent, teleop, probe, feeder.node):
            node.destroy_node()


@pytest.mark.parametrize('adapter', sorted(ADAPTER_TYPES))
def test_every_adapter_publishes_its_type_within_limits(adapter, ros_context, background):
    extra = {}
    if adapter == 'joint_trajectory':
        extra = {'jacobian': [1.0] + [0.0] * 9 + [1.0] + [0.0] * 9 + [1.0] + [0.0] * 6}
    agent = agent_node(ros_context, mode='eval', adapter=adapter, adapter_topic='adapter_out',
                       reset_service='', **extra)
    probe = rclpy.create_node('rd_test_adapter', context=ros_context)
    received = []
    probe.create_subscription(ADAPTER_TYPES[adapter], 'adapter_out',
                              background.collector(received), 10)
    for node in (probe, agent):
        background.add_node(node)
    feeder = Feeder(ros_context, background)
    # the driver's own order (here reversed), other positions per joint: mapped by name
    q = {name: 0.1 + 0.01 * k for k, name in enumerate(JOINT_NAMES)}
    feeder.joint_state = JointState(name=list(JOINT_NAMES[::-1]),
                                    position=[q[n] for n in JOINT_NAMES[::-1]])
    try:
        agent.loop.start_episode(1)
        feeder.rewards = True
        background.wait_until(lambda: len(received) >= 3 and agent.loop.previous is not None,
                              what=f'{adapter} policy commands')
        count = len(received)
        background.wait_until(lambda: len(received) >= count + 3, what='more commands')
        step = 0.1 * 0.1 / 0.01  # max velocity (m/s) x period / metres per unit = 1 unit
        for msg in received[count:]:
            assert isinstance(msg, ADAPTER_TYPES[adapter])
            if adapter == 'twist':
                v = msg.twist.linear
                assert max(abs(v.x), abs(v.y), abs(v.z)) <= 0.1 + 1e-9  # m/s
            elif adapter == 'float64_array':
                assert len(msg.data) == 6 and max(abs(x) for x in msg.data) <= 0.1 + 1e-9
            elif adapter == 'pose':
                p = msg.pose.position
                moved = np.abs(np.array([p.x, p.y - 0.6, p.z - 0.2]))
                assert msg.header.frame_id == 'base' and moved.max() <= 0.01 * step + 1e-6
            else:
                assert msg.joint_names == list(JOINT_NAMES)   # parameter joint_names
                dq = np.array(msg.points[0].positions) - [q[n] for n in JOINT_NAMES]
                assert np.abs(dq[:3]).max() <= 0.01 + 1e-6 and np.allclose(dq[3:], 0)
    finally:
        background.shutdown()
        agent.destroy_node()
        probe.destroy_node()
        feeder.node.destroy_node()


def test_joint_states_lacking_a_configured_joint_are_refused_and_the_arm_held(
        ros_context, background):
    agent = agent_node(ros_context, mode='eval', reset_service='')
    probe = rclpy.create_node('rd_test_joint_names', context=ros_context)
    commands = []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    for node in (probe, agent):
        background.add_node(node)
    feeder = Feeder(ros_context, background)
    feeder.joint_state = JointState(name=list(JOINT_NAMES[:8]), position=[0.1] * 8)
    try:
        agent.loop.start_episode(1)
        feeder.rewards = True
        background.wait_until(lambda: len(commands) >= 5, what='commands')
        assert agent.joints is None and all(c.source == 'stop' for c in commands)
        feeder.joint_state = JointState(name=list(JOINT_NAMES[::-1]), position=[0.1] * 9)
        background.wait_until(lambda: commands[-1].source == 'policy',
                              what='the policy once every configured joint arrives')
    finally:
        background.shutdown()
        for node in (agent, probe, feeder.node):
            node.destroy_node()


def test_a_checkpoint_of_other_joint_names_does_not_start_the_agent(ros_context, tmp_path):
    from robodopamine_ros.rl.agents import AgentConfig

    learner = Learner(AgentConfig(hidden=(8, 8)), {'state': (16,)})
    learner.save(tmp_path, {'joint_names': list(JOINT_NAMES[::-1])})
    with pytest.raises(ValueError, match=r"trained with joint_names \['l_close', .*parameter "
                                         r"joint_names is \['right_j0'"):
        agent_node(ros_context, mode='eval', checkpoint_dir=str(tmp_path))
    learner.save(tmp_path, {'joint_names': list(JOINT_NAMES)})
    agent = agent_node(ros_context, mode='eval', checkpoint_dir=str(tmp_path))
    agent.destroy_node()
