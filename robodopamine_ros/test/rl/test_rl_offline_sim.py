# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The offline stage on the real simulated insertion.

After it, the actor imitates the demos and the critic is calibrated on them.

10 successful expert demonstrations, 1000 imitation + 1000 offline updates (the defaults), sparse
reward, one CPU thread, seed 0: about a minute per back-end. Measured when written
(bench/RESULTS.md has the benchmark's figures): deterministic success on the 20 evaluation layouts
90 % (Cal-QL) and 85 % (ConRFT; 75 % before its acting actor was averaged, as Cal-QL's is), Q on
demo transitions 0.62 / 0.63 vs their Monte-Carlo return 0.61, BC error 0.06 / 0.08. A learning bug
(the critic's targets, the conservative term's sign, the imitation loss) moves these far outside
the bounds below; so does ConRFT's consistency loss without its sampling-level term (35 % and BC
error 0.11 here, 5-35 % and 0.11-0.15 on seeds 0-2).
"""

import numpy as np
import pytest
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.replay import ReturnRule
from robodopamine_ros.rl.sim_episodes import record_demos
from robodopamine_ros.rl.sim_training import config_shapes, offline_stage, TrainConfig
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.sim.peg_insertion import WORKSPACE
import torch


class NoLog:
    def scalar(self, *args):
        pass


@pytest.mark.parametrize('algorithm', ['calql', 'conrft'])
def test_offline_stage_imitates_and_calibrates(algorithm):
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    torch.manual_seed(0)
    config = TrainConfig(algorithm=algorithm, reward='sparse', seed=0)
    shapes, agent_config = config_shapes(config), config.agent_config()
    sim = PegInsertionSim(render_images=False, max_steps=config.max_steps)
    low, high = WORKSPACE
    actor = PolicyActor(agent_config, shapes, SafetyConfig(
        workspace_low=low, workspace_high=high, max_velocity=(0.1,) * 3))
    learner = Learner(agent_config, shapes, seed=0,
                      return_rule=ReturnRule(gamma=agent_config.gamma, sparse=True))
    try:
        record_demos(sim, actor, config, shapes, None, learner, agent_config.gamma,
                     log=lambda text: None)
        from robodopamine_ros.rl.sim_episodes import evaluate

        result = offline_stage(learner, config, actor,
                               lambda: evaluate(sim, actor, config, shapes, 20), NoLog(),
                               log=print)
    finally:
        sim.close()
    returns = learner.demo.scalars['mc_return'][:len(learner.demo)]
    assert abs(result['demo/q'] - result['demo/mc']) < 0.15, result
    assert 0.3 < np.mean(returns) < 1.0  # successful demos, gamma 0.99, 60-200 steps
    assert result['demo/bc_error'] < 0.1, result
    assert result['offline_success'] >= 0.5, result
