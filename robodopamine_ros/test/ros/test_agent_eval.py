# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Mode eval is an evaluation (issue 30 item 6), over real DDS.

rl_agent_node runs eval_episodes episodes, logs them in its own log with the simulator's ground
truth beside the detector's verdict, reports the rate and ends its own process (its context
shuts down); sim_robot_node's layouts:=eval are the ROS-free benchmark's evaluation layouts.
"""

from agent_feeders import EpisodeFeeder, FakeGRM
import rclpy
from rclpy.parameter import Parameter
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.rl.logs import read_log
from std_msgs.msg import Bool


def test_eval_runs_its_episodes_logs_both_verdicts_reports_and_exits(
        ros_context, background, tmp_path):
    from conftest import BackgroundSpin

    grm = FakeGRM(ros_context, background)
    shaping = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.1), Parameter('max_steps', value=5)])
    background.add_node(shaping)
    # the agent in a context of its own: the evaluation shuts it down, as main() then exits
    agent_context = rclpy.Context()
    rclpy.init(context=agent_context)
    agent_spin = BackgroundSpin(agent_context)
    agent = RLAgentNode(context=agent_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'eval', 'reset_service': '', 'eval_episodes': 2, 'max_steps': 1000,
            'log_dir': str(tmp_path / 'logs')}.items()])
    feeder = EpisodeFeeder(ros_context, background, agent)
    feeder.rewards = False        # shaping_node's rewards
    truth = feeder.node.create_publisher(Bool, 'sim_robot/success', 10)
    # the simulator: the peg is in during the first evaluation episode only
    feeder.node.create_timer(
        0.1, lambda: truth.publish(Bool(data=agent.loop.episode_id % 2 == 1)))
    agent_spin.add_node(agent)
    try:
        background.wait_until(lambda: not agent_context.ok(), timeout=30,
                              what='the evaluation to end the agent')
        assert [r['ground_truth'] for r in agent.evaluation.rows] == [1.0, 0.0]
        assert [r['success'] for r in agent.evaluation.rows] == [False, False]
        assert agent.evaluation.report().startswith(
            'eval: success rate 0.00 (0 of 2 episodes) by the success detector; 0.50 (1 of 2)')
        assert not (tmp_path / 'logs' / 'episodes.csv').exists()   # not the training log
        folder, = (tmp_path / 'logs').glob('eval_*')
        rows = read_log(folder)
        assert [r['episode'] for r in rows] == [1.0, 2.0]
        assert [r['ground_truth'] for r in rows] == [1.0, 0.0]
    finally:
        agent_spin.shutdown()
        background.shutdown()
        agent.destroy_node()
        rclpy.try_shutdown(context=agent_context)
        for node in (shaping, grm.node, feeder.node):
            node.destroy_node()


def test_the_evaluation_layouts_are_the_benchmarks_never_the_training_ones(ros_context):
    from robodopamine_ros.nodes.sim_robot_node import SimRobotNode
    from robodopamine_ros.rl.sim_episodes import EVAL_SEED

    train = SimRobotNode(context=ros_context)
    evaluation = SimRobotNode(context=ros_context, parameter_overrides=[
        Parameter('layouts', value='eval'), Parameter('seed', value=3)])
    try:
        assert train.seed == 1    # the default: a layout the scripted expert solves
        assert evaluation.seed == EVAL_SEED + 3
    finally:
        train.destroy_node()
        evaluation.destroy_node()
