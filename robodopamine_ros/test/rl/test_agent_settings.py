# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""rl_agent_node's settings (validated, defaults written once) and the episode cycle."""

from dataclasses import fields
from pathlib import Path

import pytest
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, EpisodeCycle, TeleopExpiry
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.robot.safety import SafetyConfig
import yaml

CONFIG = Path(__file__).resolve().parents[2] / 'config'


def test_defaults_come_from_the_config_dataclasses():
    s = RLAgentSettings()
    agent, shaping, teleop = AgentConfig(), ShapingConfig(), TeleopExpiry()
    assert (s.gamma, s.algorithm, s.batch_size) == (agent.gamma, agent.algorithm,
                                                    agent.batch_size)
    assert s.gamma == shaping.gamma and s.success_delta == shaping.success_delta
    assert (s.teleop_timeout, s.teleop_max_travel, s.teleop_on_timeout) == (
        teleop.timeout_s, teleop.max_travel_m, teleop.on_timeout)
    assert s.meters_per_unit == SafetyConfig().meters_per_unit
    assert s.safety_config().control_period == pytest.approx(0.1)
    assert s.home() is None and s.jacobian_matrix() is None
    assert s.watchdog_timeouts() == {'observation': 0.5, 'reward': 0.5}
    assert RLAgentSettings(mode='collect').watchdog_timeouts() == {'observation': 0.5}


@pytest.mark.parametrize('params', ['sim_insertion.yaml', 'franka_fr3.yaml'])
def test_the_shipped_params_files_are_valid_settings(params):
    values = yaml.safe_load((CONFIG / params).read_text())['rl_agent_node']['ros__parameters']
    names = {f.name for f in fields(RLAgentSettings)}
    assert set(values) <= names, f'{params}: not parameters of rl_agent_node: ' \
        f'{sorted(set(values) - names)}'
    settings = RLAgentSettings(**values)
    assert settings.gamma == yaml.safe_load((CONFIG / params).read_text())[
        'shaping_node']['ros__parameters']['gamma']


@pytest.mark.parametrize('change, named', [
    ({'adapter': 'torque'}, 'adapter'), ({'mode': 'teach'}, 'mode'),
    ({'home_position': (0.1, 0.2)}, 'home_position'), ({'control_rate': 0.0}, 'control_rate'),
    ({'checkpoint_every': 0}, 'checkpoint_every'), ({'jacobian': (1.0, 2.0)}, 'jacobian'),
    ({'algorithm': 'ppo'}, 'algorithm'), ({'teleop_on_timeout': 'coast'}, 'on_timeout'),
    ({'max_velocity': (0.1, -0.1, 0.1)}, 'velocit')])
def test_a_bad_parameter_is_named(change, named):
    with pytest.raises(ValueError, match=named):
        RLAgentSettings(**change)


def test_lists_from_ros_become_tuples_and_the_jacobian_a_matrix():
    s = RLAgentSettings(jacobian=[1.0] * 27, home_position=[0.0, 0.6, 0.2],
                        joint_names=['a', 'b'])
    assert s.jacobian_matrix().shape == (3, 9) and s.home() == [0.0, 0.6, 0.2]
    assert s.joint_names == ('a', 'b')


def _loop(mode='train'):
    config = AgentConfig(hidden=(8, 8))
    return ControlLoop(PolicyActor(config, {'state': (4,)}, SafetyConfig()), mode,
                       max_steps=5)


def test_the_episode_cycle_numbers_checkpoints_and_resets_or_homes():
    loop = _loop()
    cycle = EpisodeCycle(episodes_done=3, checkpoint_every=2, checkpoints=True, home=True)
    assert cycle.may_start(loop) and cycle.next_episode_id() == 4
    loop.start_episode(cycle.next_episode_id())
    assert not cycle.may_start(loop)      # an episode runs
    loop.episode = None                   # it ended
    assert cycle.finished(reset_available=True)           # episode 4: checkpoint due
    assert cycle.starting and not cycle.homing and not cycle.may_start(loop)
    cycle.starting = False                # the reset answered
    assert cycle.may_start(loop) and cycle.next_episode_id() == 5
    assert not cycle.finished(reset_available=False)      # episode 5: no checkpoint
    assert cycle.homing and not cycle.may_start(loop)     # no reset service: move home first
    cycle.homing = False
    assert cycle.may_start(loop)
    quiet = EpisodeCycle(checkpoint_every=1, checkpoints=False)
    assert not quiet.finished(reset_available=False) and not quiet.homing


def test_only_training_writes_checkpoints_and_collect_never_resumes():
    train, ev, collect = (RLAgentSettings(mode=m, checkpoint_dir='ckpt')
                          for m in ('train', 'eval', 'collect'))
    assert train.saves_checkpoints and train.resumes_checkpoint
    assert ev.resumes_checkpoint and not ev.saves_checkpoints
    # a collect run's zero-reward buffer must never hide the demonstration bags of mode train
    assert not collect.resumes_checkpoint and not collect.saves_checkpoints
    assert not RLAgentSettings().saves_checkpoints  # no checkpoint_dir


def test_tracked_objects_widen_the_state_and_are_watched():
    settings = RLAgentSettings(objects=2, updates_per_step=1)
    assert settings.state_shape() == {'state': (9 + 7 + 14,)}
    assert settings.watchdog_timeouts()['objects'] == settings.observation_timeout
    assert 'objects' not in RLAgentSettings().watchdog_timeouts()
    with pytest.raises(ValueError, match='objects and updates_per_step must be >= 0'):
        RLAgentSettings(updates_per_step=-1)
