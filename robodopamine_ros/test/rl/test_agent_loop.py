# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot-side control loop and the learner thread, without ROS."""

import time

import numpy as np
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.learner_thread import LearnerThread
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.robot.watchdog import Watchdog

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8)
OBS = {'state': np.zeros(4, np.float32)}
HAND = [0.0, 0.6, 0.2]


def reward(progress, terminal=False, truncated=False):
    return {'reward': 0.0, 'sparse_reward': float(terminal), 'progress_before': 0.0,
            'progress_after': progress, 'terminal': terminal, 'truncated': truncated}


def test_transitions_pair_each_action_with_its_shaped_step_reward_and_episodes_close():
    closed = []
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())
    loop = ControlLoop(actor, 'train', max_steps=3, on_episode=closed.append)
    loop.start_episode(7)
    first = loop.tick(0.0, OBS, HAND)
    assert first.source == 'policy' and np.all(np.abs(first.action) <= 1)
    loop.set_intervention(True, [0.5, 0.0, 0.0, 1.0], now=0.1)
    second = loop.tick(0.1, OBS, HAND, reward(0.1))
    assert second.source == 'teleop' and second.action[0] == 0.5
    loop.set_intervention(False)
    loop.tick(0.2, OBS, HAND, reward(0.3))
    done = loop.tick(0.3, OBS, HAND, reward(0.2))  # third transition: max_steps
    assert done.episode_done and done.summary['steps'] == 3 and done.source == 'stop'
    episode = closed[0]
    gamma = CONFIG.gamma
    np.testing.assert_allclose([t['reward'] for t in episode.transitions],
                               [gamma * 0.1 - 0.0, gamma * 0.3 - 0.1, gamma * 0.2 - 0.3],
                               rtol=1e-6)
    assert [t['progress_before'] for t in episode.transitions] == [0.0, 0.1, 0.3]
    np.testing.assert_allclose(episode.transitions[0]['action'], first.action)
    assert [t['intervention'] for t in episode.transitions] == [False, True, False]
    assert episode.transitions[1]['action'][0] == 0.5 and episode.transitions[-1]['truncated']
    assert done.summary['intervention_rate'] == 1 / 3


def test_watchdog_stop_holds_the_gripper_and_breaks_the_transition():
    dog = Watchdog({'observation': 0.2})
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())
    loop = ControlLoop(actor, 'collect', watchdog=dog)
    loop.start_episode(1)
    result = loop.tick(0.0, OBS, HAND)
    assert result.source == 'stop' and result.stop_reason == 'observation never received'
    dog.feed('observation', 0.0)
    loop.set_intervention(True, [0.0, 0.0, 0.0, 1.0], now=0.1)
    assert loop.tick(0.1, OBS, HAND).source == 'teleop'
    assert loop.tick(0.5, OBS, HAND, reward(0.0)).action.tolist() == [0, 0, 0, 1.0]
    assert loop.previous is None and len(loop.episode.transitions) == 1
    assert loop.episode.demo  # collect mode records demonstrations


def test_learner_thread_runs_the_offline_stage_then_hands_weights_over():
    learner = Learner(CONFIG, SHAPES, capacity=100)
    demo = Episode(-1, demo=True)
    for t in range(10):
        demo.add(OBS, [0.5, 0.0, 0.0, 1.0], OBS, float(t == 9), terminal=t == 9,
                 truncated=False, success=t == 9)
    learner.add_episode(demo)
    assert learner.agent.stage == 'offline'
    thread = LearnerThread(learner, publish_every=5, offline_updates=100).start()
    try:
        deadline = time.monotonic() + 30
        weights = None
        while weights is None and time.monotonic() < deadline:
            weights = thread.take_weights()
            time.sleep(0.01)
        assert weights is not None and weights[1] >= 2  # versions: one per update call
        assert set(weights[0]) == {'encoder', 'actor'}
        while thread.updates < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert learner.agent.stage == 'online' and learner.counters['updates'] >= 110
    finally:
        thread.stop()
    assert not thread.thread.is_alive()


def test_the_policy_holds_outside_the_workspace_box_and_teleop_may_bring_the_arm_back():
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())   # box x -0.5..0.5, y 0.3..0.9, z 0..0.4
    loop = ControlLoop(actor, 'eval')
    loop.start_episode(1)
    franka_ready_hand = [0.307, 0.0, 0.487]   # a real arm's pose in a simulated box: outside
    held = loop.tick(0.0, OBS, franka_ready_hand)
    assert held.source == 'stop' and np.all(held.action[:3] == 0)
    assert 'outside the workspace box' in held.stop_reason and '0.307' in held.stop_reason
    loop.set_intervention(True, [0.0, 1.0, -1.0, -1.0], now=0.1)   # the operator steers in
    steered = loop.tick(0.1, OBS, franka_ready_hand)
    assert steered.source == 'teleop' and steered.action[1] > 0 and steered.action[2] < 0
    loop.set_intervention(False)
    assert loop.tick(0.2, OBS, HAND).source == 'policy'   # back inside: the policy acts


def test_collect_episodes_reach_the_demo_buffer_without_a_learning_thread():
    learner = Learner(CONFIG, SHAPES)
    thread = LearnerThread(learner)        # collect and eval never start it
    episode = Episode(1, demo=True)
    for k in range(3):
        episode.add(OBS, np.zeros(4), OBS, 0.0, terminal=k == 2, truncated=False)
    thread.add_episode(episode)
    assert len(learner.demo) == 3 and len(learner.online) == 0


def test_a_checkpoint_asked_for_while_learning_is_written_between_two_updates(tmp_path):
    """The update loop gives way: a save never waits for more than a few updates."""
    learner = Learner(CONFIG, SHAPES)
    episode = Episode(-1, demo=True)
    for k in range(20):
        episode.add(OBS, np.zeros(4), OBS, 0.0, terminal=k == 19, truncated=False)
    learner.add_episode(episode)
    thread = LearnerThread(learner).start()
    try:
        while thread.updates < 50:   # learning is under way
            thread.thread.join(0.01)
        waits = []
        for _ in range(10):
            t0 = time.monotonic()
            thread.save(tmp_path)
            waits.append(time.monotonic() - t0)
    finally:
        thread.stop()
    assert (tmp_path / 'checkpoint.pt').is_file()
    assert max(waits) < 1.0, waits   # measured: under 20 ms; a starved save waited 4.3 s


def _wait(condition, seconds=30.0):
    """Poll a condition another thread makes true (join(0.01) waits; it is no sleep-sync)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_budgeted_learner_runs_exactly_its_updates_per_step_then_hands_weights_over():
    """updates_per_step: the ROS-free run's rule (n updates, then the weights, per step)."""
    learner = Learner(CONFIG, SHAPES)
    episode = Episode(-1, demo=True)
    for k in range(20):
        episode.add(OBS, np.zeros(4), OBS, 0.0, terminal=k == 19, truncated=False)
    learner.add_episode(episode)
    learner.set_stage('online')
    thread = LearnerThread(learner, updates_per_step=3).start()
    try:
        thread.thread.join(0.3)  # no grant yet: nothing runs (it would run ~100 here)
        initial = thread.take_weights()   # the weights as they are at start, once
        assert thread.updates == 0 and initial is not None and initial[1] == 0
        assert thread.take_weights() is None
        for _ in range(4):
            thread.grant()
        assert _wait(lambda: thread.updates == 12 and thread.backlog == 0)
        version = thread.take_weights()[1]
        thread.thread.join(0.3)
        assert thread.updates == 12 and thread.take_weights() is None  # waits for a grant
        assert version == learner.counters['updates'] == 12   # a version is an update count
    finally:
        thread.stop()


def test_the_loop_grants_one_step_per_executed_training_action_only():
    steps = []
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())
    for mode in ('train', 'eval', 'collect'):
        loop = ControlLoop(actor, mode, max_steps=3, on_step=lambda mode=mode: steps.append(mode))
        assert loop.tick(0.0, OBS, HAND).source == 'stop'  # between episodes: no step
        loop.start_episode(1)
        loop.tick(0.0, OBS, HAND)                              # policy (collect: a hold)
        loop.set_intervention(True, [0.5, 0.0, 0.0, 1.0], now=0.1)
        loop.tick(0.1, OBS, HAND, reward(0.1))                 # takeover
        loop.set_intervention(False)
        loop.tick(0.2, OBS, [5.0, 5.0, 5.0], reward(0.2))      # outside the box: held
    assert steps == ['train', 'train']


def test_a_checkpoint_holds_every_episode_handed_over_before_it(tmp_path):
    learner = Learner(CONFIG, SHAPES)
    learner.set_stage('online')
    thread = LearnerThread(learner, updates_per_step=1).start()  # idle: no step granted
    try:
        for k in range(3):
            episode = Episode(k + 1)
            for t in range(4):
                episode.add(OBS, np.zeros(4), OBS, 0.0, terminal=t == 3, truncated=False)
            thread.add_episode(episode)
        thread.save(tmp_path)   # right after the hand-over, before the thread looked
    finally:
        thread.stop()
    resumed, _ = Learner.resume(tmp_path, SHAPES)
    assert resumed.counters['episodes'] == 3 and len(resumed.online) == 12


def test_an_untrained_policy_never_drives_the_arm_while_the_offline_stage_runs():
    """Train mode holds the arm, and starts no episode, until the learner is online."""
    from robodopamine_ros.rl.agent_loop import OFFLINE_HOLD

    ready = []
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())
    loop = ControlLoop(actor, 'train', max_steps=3, policy_ready=lambda: bool(ready))
    assert loop.hold_reason(0.0) == OFFLINE_HOLD   # EpisodeCycle.may_start refuses a start
    held, at_home = loop.home_step(0.0, HAND)
    assert held.source == 'stop' and held.stop_reason == OFFLINE_HOLD and not at_home
    assert loop.tick(0.0, OBS, HAND).stop_reason == OFFLINE_HOLD
    ready.append(True)                              # the offline stage is over
    assert loop.hold_reason(0.1) is None
    loop.start_episode(1)
    assert loop.tick(0.1, OBS, HAND).source == 'policy'


def test_a_learner_that_fails_says_why_and_takes_no_more_budget():
    learner = Learner(CONFIG, SHAPES, capacity=100)
    thread = LearnerThread(learner, updates_per_step=1)

    def broken(steps=1):
        raise RuntimeError('CUDA out of memory')
    learner.update = broken
    episode = Episode(1)
    episode.add(OBS, np.zeros(4), OBS, 0.0, False, True)
    thread.add_episode(episode)
    thread.start()
    thread.grant()
    thread.thread.join(timeout=30)
    assert not thread.thread.is_alive()
    assert thread.error == 'the learner stopped: RuntimeError: CUDA out of memory'
    assert thread.stopped
    thread.grant()
    assert thread.backlog <= 1   # a dead learner is granted nothing more
