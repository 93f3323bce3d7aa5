# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""rl_agent_node's settings (validated, defaults written once) and the episode cycle."""

from dataclasses import fields
from pathlib import Path

import pytest
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, TeleopExpiry
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.episode_cycle import EpisodeCycle
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
    assert s.watchdog_timeouts() == {'observation': 0.5, 'ee_pose': 0.5, 'reward': 0.5,
                                     'progress': 0.5}
    assert RLAgentSettings(mode='collect').watchdog_timeouts() == {'observation': 0.5,
                                                                   'ee_pose': 0.5}


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
    names = [f'j{i}' for i in range(9)]
    s = RLAgentSettings(jacobian=[1.0] * 27, home_position=[0.0, 0.6, 0.2], joint_names=names)
    assert s.jacobian_matrix().shape == (3, 9) and s.home() == [0.0, 0.6, 0.2]
    assert s.joint_names == tuple(names) and s.joint_order().names == tuple(names)


def test_joint_names_must_name_each_observed_joint_once():
    assert len(RLAgentSettings().joint_names) == RLAgentSettings().joints   # the simulator's
    with pytest.raises(ValueError, match=r"joint_names names 2 joints \['a', 'b'\], "
                                         'parameter joints says 9'):
        RLAgentSettings(joint_names=['a', 'b'])
    with pytest.raises(ValueError, match='joint_names must name every joint'):
        RLAgentSettings(joint_names=[''])
    with pytest.raises(ValueError, match=r"names \['a'\] more than once"):
        RLAgentSettings(joint_names=['a', 'a'], joints=2)
    with pytest.raises(ValueError, match='jacobian must hold 3 x joints = 6 values'):
        RLAgentSettings(joint_names=['a', 'b'], joints=2, jacobian=[1.0] * 27)


def test_a_checkpoint_keeps_the_joint_names_it_was_trained_with(tmp_path):
    names = [f'j{i}' for i in range(4)]
    s = RLAgentSettings(joint_names=names, joints=4, checkpoint_dir=str(tmp_path))
    learner = Learner(AgentConfig(hidden=(8, 8)), s.state_shape())
    learner.save(tmp_path, s.checkpoint_extra())
    resumed, extra = Learner.resume(tmp_path, s.state_shape())
    assert resumed is not None and s.check_checkpoint(extra) is None
    other = RLAgentSettings(joint_names=names[::-1], joints=4, checkpoint_dir=str(tmp_path))
    with pytest.raises(ValueError, match=rf"{tmp_path}: trained with joint_names \['j0', "
                                         r".*parameter joint_names is \['j3', "):
        other.check_checkpoint(extra)
    learner.save(tmp_path)   # a checkpoint from before the names were kept: a warning
    assert 'does not say which joints' in s.check_checkpoint(Learner.resume(
        tmp_path, s.state_shape())[1])


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
    assert cycle.reset_due and not cycle.homing and not cycle.may_start(loop)
    assert not cycle.reset_now(hold='latched e-stop') and cycle.reset_due  # held: later
    assert cycle.reset_now() and cycle.starting and not cycle.reset_due  # in flight
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


def test_a_remote_learner_needs_train_and_an_outbox_and_holds_an_untrained_policy(tmp_path):
    with pytest.raises(ValueError, match="learner 'remote' is for mode train"):
        RLAgentSettings(learner='remote', mode='eval', log_dir=str(tmp_path))
    with pytest.raises(ValueError, match='set outbox_dir'):
        RLAgentSettings(learner='remote')
    with pytest.raises(ValueError, match='parameter learner must be one of'):
        RLAgentSettings(learner='cloud')
    with pytest.raises(ValueError, match="parameter device must be 'cpu' or 'cuda"):
        RLAgentSettings(device='gpu')
    settings = RLAgentSettings(learner='remote', log_dir=str(tmp_path))
    assert settings.outbox_folder() == str(tmp_path / 'outbox')
    assert not settings.saves_checkpoints   # the learner's
    assert settings.remote_config('/arm2', resumed=False).wait == 'hold'   # untrained
    assert settings.remote_config('/arm2', resumed=True).wait == 'act'
    assert settings.remote_config('/arm2', resumed=True).robot_id == 'arm2'
    assert settings.remote_config('/', resumed=True).robot_id == 'robot'
