# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Issue 29 over real DDS: a safe agent on a real arm, round 2.

The hand pose is watched (1), every stream survives its stamps jumping (5), clearing the e-stop
needs the operator at the robot (7; also test_agent.py's training loop), no message or
parameter can kill or steer the agent (8).
"""

from geometry_msgs.msg import PoseStamped
import numpy as np
import pytest
from rcl_interfaces.msg import Parameter as ParameterMsg, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import ActionStamped, RewardStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.data.recording import RecordingError
from robodopamine_ros.nodes.recorder_node import message_class
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from sensor_msgs.msg import Image, JointState, Joy
from std_srvs.srv import Trigger

# far in the future (2036; builtin_interfaces/Time's int32 seconds end in 2038)
FUTURE_NS = 2_100_000_000 * 10**9


class StampedFeeder:
    """A probe publishing joint states, the hand pose and rewards of episode 1 at 20 Hz."""

    def __init__(self, context, background):
        self.node = rclpy.create_node('rd_test_stamped_feeder', context=context)
        self.joints = self.node.create_publisher(JointState, 'joint_states', 10)
        self.pose_pub = self.node.create_publisher(PoseStamped, 'robodopamine/ee_pose', 10)
        self.reward = self.node.create_publisher(RewardStamped, 'reward', 10)
        self.pose = PoseStamped()
        self.pose.header.frame_id = 'base'
        self.pose.pose.position.y, self.pose.pose.position.z = 0.6, 0.2
        self.pose.pose.orientation.w = 1.0
        self.pose_on = True
        self.offset_ns = 0          # added to every stamp (a clock step)
        self.next_joint_stamp = None  # one joint_states message with this stamp (ns)
        self.node.create_timer(0.05, self._publish)
        background.add_node(self.node)

    def _stamp(self):
        ns = self.node.get_clock().now().nanoseconds + self.offset_ns
        return rclpy.time.Time(nanoseconds=ns).to_msg()

    def _publish(self):
        stamp = self._stamp()
        joints = JointState(name=list(JOINT_NAMES), position=[0.1] * 9)
        joints.header.stamp = stamp
        if self.next_joint_stamp is not None:
            joints.header.stamp = rclpy.time.Time(nanoseconds=self.next_joint_stamp).to_msg()
            self.next_joint_stamp = None
        self.joints.publish(joints)
        if self.pose_on:
            self.pose.header.stamp = stamp
            self.pose_pub.publish(self.pose)
        reward = RewardStamped(episode_id=1, progress_before=0.2, progress_after=0.2,
                               reward=-0.004, gamma=0.99)
        reward.header.stamp = reward.progress_stamp = stamp
        self.reward.publish(reward)


@pytest.fixture
def running_agent(ros_context, background):
    """Start an eval agent fed at 20 Hz, acting (policy commands) before the test begins."""
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter('mode', value='eval'), Parameter('reset_service', value=''),
        Parameter('max_steps', value=100000), Parameter('observation_timeout', value=0.5),
        Parameter('reward_timeout', value=0.5)])
    probe = rclpy.create_node('rd_test_agent_safety', context=ros_context)
    commands = []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    for node in (probe, agent):
        background.add_node(node)
    feeder = StampedFeeder(ros_context, background)
    agent.loop.start_episode(1)  # no grm_node here: the episode starts directly
    background.wait_until(lambda: commands and commands[-1].source == 'policy',
                          what='policy commands')
    yield agent, probe, feeder, commands
    background.shutdown()
    for node in (agent, probe, feeder.node):
        node.destroy_node()


def policy_again(agent, commands, background, what):
    count = len(commands)
    background.wait_until(lambda: any(c.source == 'policy' for c in commands[count:]),
                          what=what)


# item 1 ----------------------------------------------------------------------------------------
def test_a_frozen_a_foreign_or_a_nan_hand_pose_stops_the_arm(running_agent, background):
    agent, probe, feeder, commands = running_agent
    wait = background.wait_until
    feeder.pose.header.frame_id = 'world'  # a pose in another frame than base_frame
    wait(lambda: commands[-1].source == 'stop', what='a stop on a pose in another frame')
    assert "frame_id 'world' is not base_frame 'base'" in agent.watchdog.bad['ee_pose']
    feeder.pose.header.frame_id = 'base'
    policy_again(agent, commands, background, 'the policy with the pose in base_frame')

    # a NaN pose stops the arm during a takeover too (the box must not switch off)
    intervene = probe.create_client(SetIntervention, 'rl_agent_node/set_intervention')
    teleop = probe.create_publisher(ActionStamped, 'teleop/action', 10)
    background.call(intervene, SetIntervention.Request(active=True, source='test'))

    def operator_drives():
        teleop.publish(ActionStamped(values=[1.0, 0.0, 0.0, 1.0], intervention=True))
        return commands[-1].source == 'teleop'
    wait(operator_drives, what='teleop commands')
    feeder.pose.pose.position.x = float('nan')
    wait(lambda: not operator_drives() and commands[-1].source == 'stop',
         what='a stop on a NaN pose while the operator drives')
    assert np.all(np.array(commands[-1].values[:3]) == 0)
    assert 'finite' in agent.watchdog.bad['ee_pose']
    feeder.pose.pose.position.x = 0.0
    wait(operator_drives, what='teleop again with a finite pose')
    background.call(intervene, SetIntervention.Request(active=False, source='test'))
    policy_again(agent, commands, background, 'the policy after the takeover')

    # a frozen pose, while joints and rewards keep coming: stopped within the timeout
    feeder.pose_on = False
    wait(lambda: commands[-1].source == 'stop', timeout=5.0, what='a stop on a frozen pose')
    assert 'stale for' in agent.watchdog.faults().get('ee_pose', '')
    assert 'observation' not in agent.watchdog.faults()  # the joints kept coming
    feeder.pose_on = True
    policy_again(agent, commands, background, 'the policy once the pose returns')


# item 7 ----------------------------------------------------------------------------------------
def test_only_the_operator_at_the_robot_clears_the_estop_and_the_policy_waits(
        running_agent, ros_context, background):
    agent, probe, _, commands = running_agent
    teleop = TeleopNode(context=ros_context)  # gamepad: LB (4) deadman, START (7) clears
    background.add_node(teleop)
    joy = probe.create_publisher(Joy, 'joy', 10)
    estop = probe.create_client(Trigger, 'rl_agent_node/estop')
    clear = probe.create_client(Trigger, 'rl_agent_node/clear_estop')
    wait = background.wait_until
    try:
        wait(lambda: estop.service_is_ready() and joy.get_subscription_count() > 0,
             what='the e-stop service and teleop_node')
        assert background.call(estop, Trigger.Request()).success
        wait(lambda: commands[-1].source == 'stop', what='the e-stop holds the arm')
        refused = background.call(clear, Trigger.Request())  # any process on the domain
        assert not refused.success and 'deadman' in refused.message

        def pad(*pressed):
            buttons = [0] * 11
            for index in pressed:
                buttons[index] = 1
            joy.publish(Joy(axes=[0.0] * 6, buttons=buttons))
        for _ in range(3):
            pad(7)  # START alone: nothing
        count = len(commands)
        wait(lambda: len(commands) >= count + 3, what='ticks after START alone')
        assert agent.watchdog.estop_reason is not None

        def deadman_held():
            pad(4)
            return agent.loop.operator_present(agent._now())
        wait(deadman_held, what='the operator takes over')
        pad(4, 7)  # deadman + START: teleop_node calls clear_estop
        wait(lambda: agent.watchdog.estop_reason is None, what='the e-stop cleared')
        assert agent.loop.episode is None  # the interrupted episode ended
        pad()  # release
        wait(lambda: not agent.loop.intervening, what='the takeover ends')
        count = len(commands)
        wait(lambda: len(commands) >= count + 5, what='ticks after clearing')
        assert all(c.source == 'stop' for c in commands[count:])  # held until the next episode
        agent.loop.start_episode(2)  # (no grm_node here to start it)
        policy_again(agent, commands, background, 'the policy at the next episode')
    finally:
        teleop.destroy_node()


# item 5 ----------------------------------------------------------------------------------------
def test_a_message_from_the_future_or_a_clock_step_back_does_not_hold_the_arm(
        running_agent, background):
    agent, _, feeder, commands = running_agent
    feeder.next_joint_stamp = FUTURE_NS
    background.wait_until(lambda: agent.watchdog.refused['observation'] >= 1,
                          what='the message from the future refused')
    order = agent.watchdog.orders['observation']
    assert order.refused['future'] == 1 and order.newest < FUTURE_NS * 1e-9 - 10**8
    policy_again(agent, commands, background, 'the policy after a message from the future')
    assert 'observation' not in agent.watchdog.faults()

    feeder.offset_ns = -5 * 10**9  # every stream's clock steps back 5 s
    background.wait_until(lambda: order.jumps >= 1, what='joint_states re-based')
    count = len(commands)
    background.wait_until(lambda: len(commands) >= count + 10, what='ten more ticks')
    assert all(c.source == 'policy' for c in commands[count:])  # never held
    assert all(agent.watchdog.orders[s].jumps == 1 for s in ('observation', 'ee_pose',
                                                             'reward'))


def test_the_deadman_survives_joy_stamps_from_the_future_and_a_step_back(
        ros_context, background):
    teleop = TeleopNode(context=ros_context)
    probe = rclpy.create_node('rd_test_joy_stamps', context=ros_context)
    actions = []
    probe.create_subscription(ActionStamped, 'teleop/action', background.collector(actions),
                              100)
    joy = probe.create_publisher(Joy, 'joy', 10)
    for node in (teleop, probe):
        background.add_node(node)

    def press(offset_ns=0, stamp_ns=None, x=0.5):
        msg = Joy(axes=[0.0, x, 0.0, 0.0, 0.0, 0.0], buttons=[0, 0, 0, 0, 1])
        now = probe.get_clock().now().nanoseconds + offset_ns
        msg.header.stamp = rclpy.time.Time(nanoseconds=stamp_ns or now).to_msg()
        joy.publish(msg)
    try:
        background.wait_until(lambda: joy.get_subscription_count() > 0, what='teleop_node')
        press(stamp_ns=FUTURE_NS)
        background.wait_until(lambda: teleop.teleop.stamps.refused['future'] == 1,
                              what='the Joy message from the future refused')
        assert not actions and not teleop.teleop.active
        press(x=0.4)
        background.wait_until(lambda: actions, what='the next real message takes over')
        press(offset_ns=-5 * 10**9, x=0.3)  # the clock steps back 5 s: acted on at once
        background.wait_until(lambda: len(actions) >= 2, what='the first message after the step')
        assert actions[-1].values[0] == pytest.approx(0.3)
        assert teleop.teleop.stamps.jumps == 1
    finally:
        background.shutdown()
        for node in (teleop, probe):
            node.destroy_node()


# item 8 ----------------------------------------------------------------------------------------
def test_malformed_teleop_actions_and_a_failing_tick_do_not_end_the_agent(
        running_agent, background, monkeypatch):
    agent, probe, _, commands = running_agent
    teleop = probe.create_publisher(ActionStamped, 'teleop/action', 10)
    background.wait_until(lambda: teleop.get_subscription_count() > 0, what='the agent')
    agent.loop.set_intervention(True, [0.2, 0.0, 0.0, 1.0], now=agent._now())
    for values in ([0.5] * 7, [float('nan'), 0.0, 0.0, 1.0]):  # 7 values ended it before
        teleop.publish(ActionStamped(values=values, intervention=True))
    count = len(commands)
    background.wait_until(lambda: len(commands) >= count + 5, what='ticks after them')
    assert agent.loop.teleop_action.tolist() == [0.2, 0.0, 0.0, 1.0]  # refused, kept out
    agent.loop.set_intervention(False)
    policy_again(agent, commands, background, 'the policy')

    def broken(*args, **kwargs):
        raise RuntimeError('injected fault')
    monkeypatch.setattr(agent.loop, 'tick', broken)
    count = len(commands)
    background.wait_until(lambda: len(commands) >= count + 5, what='ticks while it fails')
    assert all(c.source == 'stop' for c in commands[count + 1:])
    assert agent.tick_error == 'RuntimeError: injected fault'
    monkeypatch.undo()
    policy_again(agent, commands, background, 'the policy once the tick works again')


def test_parameter_changes_are_refused_with_a_reason(running_agent, background):
    agent, probe, _, _ = running_agent
    client = probe.create_client(SetParameters, 'rl_agent_node/set_parameters')
    background.wait_until(client.service_is_ready, what='the parameter service')
    request = SetParameters.Request(parameters=[ParameterMsg(
        name='max_velocity', value=ParameterValue(type=ParameterType.PARAMETER_DOUBLE_ARRAY,
                                                  double_array_value=[1.0, 1.0, 1.0]))])
    future = client.call_async(request)
    future.add_done_callback(background.notify)
    background.wait_until(future.done, what='the answer')
    result = future.result().results[0]
    assert not result.successful and 'read at start; restart it' in result.reason
    assert list(agent.get_parameter('max_velocity').value) == [0.1, 0.1, 0.1]


def test_shaping_parameters_are_fixed_once_rewards_are_shaped(ros_context):
    node = ShapingNode(context=ros_context)
    assert node.set_parameters([Parameter('gamma', value=0.95)])[0].successful  # before
    node.stepper.start_episode(3)  # grm_node's progress of episode 3 arrived
    for name, value in (('gamma', 0.9), ('success_delta', 0.1),
                        ('terminate_on_success', False), ('max_steps', 50)):
        result = node.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful and f'{name} fixed while rewards are shaped' in \
            result.reason
    assert node.stepper.config.gamma == pytest.approx(0.95) and node.stepper.max_steps == 0
    node.destroy_node()


def test_the_recorder_imports_only_installed_message_types(tmp_path, monkeypatch):
    """A peer can advertise any type string: nothing outside rosidl's messages is imported."""
    package = tmp_path / 'rd_evil_pkg'
    (package / 'msg').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'msg' / '__init__.py').write_text(
        f'open({str(tmp_path / "imported")!r}, "w").close()\nclass Payload: SLOT_TYPES = ()\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert message_class('sensor_msgs/msg/Image') is Image
    for name, match in (('rd_evil_pkg/msg/Payload', "no interface package 'rd_evil_pkg'"),
                        ('sensor_msgs/msg/Nope', "package 'sensor_msgs' has no message"),
                        ('rd_evil_pkg.msg/x/Payload', 'is not a ROS message type')):
        with pytest.raises(RecordingError, match=match):
            message_class(name)
    assert not (tmp_path / 'imported').exists()
