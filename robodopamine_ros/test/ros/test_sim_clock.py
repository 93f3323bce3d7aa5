# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated robot on its own clock, faster than real time, with the agent seeing the layout.

sim_robot_node publishes /clock (publish_clock, real_time_factor 3); grm_node, shaping_node and
rl_agent_node run with use_sim_time, the agent with the peg and hole poses in its state
(objects 2) and one learner update per control step (updates_per_step 1): what
bench/bench_ros_rl.py runs for 60 episodes.
"""

from geometry_msgs.msg import PoseArray
import numpy as np
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.nodes.conversions import ns_from_time, pose_array_values
from robodopamine_ros.nodes.grm_node import GRMNode
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.rl.acting import Learner
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from sim_thread import SimInItsThread

FRAME_NS = round(1e9 / 30.0)


def test_sim_clock_drives_the_graph_and_the_agent_sees_the_objects(ros_context, tmp_path,
                                                                   background):
    sim = SimInItsThread(ros_context, image_width=64, image_height=48, publish_clock=True,
                         real_time_factor=3.0)
    sim_time = [Parameter('use_sim_time', value=True)]
    probe = rclpy.create_node('rd_test_clock', context=ros_context)
    clocks, images, objects, summaries, commands = [], [], [], [], []
    probe.create_subscription(Clock, '/clock', background.collector(clocks), 1000)
    probe.create_subscription(Image, 'cameras/front/image_raw', background.collector(images),
                              qos_profile_sensor_data)
    probe.create_subscription(PoseArray, 'robodopamine/object_poses',
                              background.collector(objects), 100)
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 1000)
    background.add_node(probe)
    wait = background.wait_until
    agent = None
    try:
        wait(lambda: len(images) >= 3 and len(objects) >= 3, what='frames and object poses')
        # one frame = 1/30 s of simulation time, on /clock first, then stamped on the frame
        stamps = [ns_from_time(c.clock) for c in clocks]
        assert stamps[0] % FRAME_NS == 0 and set(np.diff(stamps)) == {FRAME_NS}
        # compare within the clock messages received: a frame's image may be delivered before
        # its /clock message, and the first ones can be published before /clock's subscription
        # is matched (the image subscription may match earlier)
        framed = {ns_from_time(i.header.stamp) for i in images} - {0}
        seen = {t for t in framed if stamps[0] <= t <= stamps[-1]}
        assert len(seen) >= 2 and seen <= set(stamps)
        poses = pose_array_values(objects[-1])
        np.testing.assert_allclose(poses, sim.node.sim.object_poses(), atol=1e-5)

        refs = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 200, np.uint8)]
        CompactGRM.create(task='insert the peg').save(tmp_path / 'grm', refs)
        grm = GRMNode(context=ros_context, parameter_overrides=sim_time + [
            Parameter('model_dir', value=str(tmp_path / 'grm')), Parameter('rate', value=10.0)])
        shaping = ShapingNode(context=ros_context, parameter_overrides=sim_time + [
            Parameter('control_period', value=0.1)])
        agent = RLAgentNode(context=ros_context, parameter_overrides=sim_time + [
            Parameter(k, value=v) for k, v in {
                'max_steps': 6, 'batch_size': 16, 'checkpoint_every': 1, 'objects': 2,
                'updates_per_step': 1, 'checkpoint_dir': str(tmp_path / 'ckpt')}.items()])
        for node in (grm, shaping, agent):
            background.add_node(node)
        wait(lambda: len(summaries) >= 2, timeout=60, what='two episodes on the sim clock')
        # the agent's commands carry simulation time (seconds since the clock started)
        last = ns_from_time(clocks[-1].clock)
        policy = [c for c in commands if c.source == 'policy']
        assert policy and all(0 < ns_from_time(c.header.stamp) <= last for c in policy)
        # one update per executed step: far fewer than a free-running learner's
        wait(lambda: agent.learner.backlog == 0 and agent.learner.updates > 0,
             what='the learner to catch up')
        executed = len([c for c in commands if c.source == 'policy'])
        assert agent.learner.updates <= executed + 1
        # the state it learned on is joints + hand + the two objects (robot/state.py)
        wait((tmp_path / 'ckpt' / 'checkpoint.pt').is_file, what='a checkpoint')
        resumed, _ = Learner.resume(tmp_path / 'ckpt', {'state': (30,)})
        assert resumed.online.obs['state'][:len(resumed.online)][:, 16:].any()
    finally:
        background.shutdown()
        if agent is not None:
            agent.destroy_node()
        probe.destroy_node()
        sim.close()


def test_on_the_sim_clock_the_expert_acts_in_the_state_stamped_with_its_action(ros_context,
                                                                               background):
    """
    Pair each expert action with the state of its stamp, the one it was chosen in.

    A recorded demonstration pairs them so: not the state after the action's step.
    """
    from sensor_msgs.msg import JointState

    sim = SimInItsThread(ros_context, image_width=64, image_height=48, publish_clock=True,
                         real_time_factor=3.0, autopilot='expert')
    probe = rclpy.create_node('rd_test_autopilot', context=ros_context)
    actions, joints = [], []
    probe.create_subscription(ActionStamped, 'command', background.collector(actions), 1000)
    probe.create_subscription(JointState, 'joint_states', background.collector(joints), 1000)
    background.add_node(probe)
    try:
        background.wait_until(lambda: len(actions) >= 8, timeout=60, what='expert actions')
        state = {ns_from_time(j.header.stamp): np.array(j.position) for j in joints}
        checked = 0
        for action in actions[2:-2]:
            t = ns_from_time(action.header.stamp)
            if {t - FRAME_NS, t, t + FRAME_NS} <= set(state):
                # nothing moved between the frame before and the action's own frame; the
                # action's step shows in the next frame
                np.testing.assert_array_equal(state[t], state[t - FRAME_NS])
                assert not np.array_equal(state[t + FRAME_NS], state[t])
                checked += 1
        assert checked >= 3 and all(a.source == 'expert' and a.intervention for a in actions)
    finally:
        background.shutdown()
        probe.destroy_node()
        sim.close()
