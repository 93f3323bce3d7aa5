# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Recording simulated episodes, expert and non-expert.

Expert demonstrations come with automatic keyframes (the expert's phases); non-expert rollouts
are labelled success / partial / fail by the simulator's own state:

- success: Meta-World's success flag;
- partial: the peg was grasped (Meta-World's grasp_success), or moved at least 25 % closer to
  the hole, but not inserted;
- fail: neither.

Episodes carry stamps at the control period (10 Hz by default, as on the real robot), the three
camera views before every action and the last views, joint positions, end-effector poses and
the commanded actions, so that they write to a bag exactly like a real recording.
"""

import numpy as np

from robodopamine_ros.data.episode import Episode, Stream
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.success import DEFAULT_HOLD_S
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES, POST_SUCCESS_STEPS
from robodopamine_ros.sim.peg_insertion import PHASES, TASK

BEHAVIOURS = ('expert', 'noisy', 'random', 'halfway')
CONTROL_PERIOD_NS = 100_000_000
# held-out rollouts: control steps a success runs on with the arm still, as on a robot waiting
# for the success detector: its hold (reward/success.py) and 1 s of margin
SETTLE_STEPS = round(DEFAULT_HOLD_S * 1e9 / CONTROL_PERIOD_NS) + 10


def phase_keyframes(phases, last_frame):
    """Segments from the frames where the expert's phase first changes (empty ones dropped)."""
    starts = [0]
    for phase in range(1, len(PHASES)):
        if phase in phases:
            first = phases.index(phase)
            if first > starts[-1]:
                starts.append(first)
    bounds = starts + [last_frame]
    names = [PHASES[phases[s]] for s in starts]
    return [Segment(a, b, name) for a, b, name in zip(bounds, bounds[1:], names) if b > a]


def rollout(sim, seed, behaviour='expert', noise=1.0, period_ns=CONTROL_PERIOD_NS,
            settle_steps=0):
    """
    Run one episode; returns (Episode, label).

    settle_steps: control steps the arm holds still (gripper as it was) after the success flag
    first rises, recorded like the rest, as on a robot whose episode runs on until the success
    detector (reward/success.py) has seen the goal for its hold ticks. The label is the flag at
    the last step. 0: the episode ends at the flag, as in training.
    """
    if behaviour not in BEHAVIOURS:
        raise ValueError(f'behaviour must be one of {BEHAVIOURS}, got {behaviour!r}')
    if not (isinstance(settle_steps, int) and 0 <= settle_steps <= POST_SUCCESS_STEPS):
        raise ValueError(f'settle_steps must be an integer in [0, {POST_SUCCESS_STEPS}], got '
                         f'{settle_steps!r}')
    rng = np.random.default_rng(10_000 + seed)
    obs, _ = sim.reset(seed=seed)
    start_distance = sim.peg_to_hole()
    views = {v: [] for v in VIEWS}
    joints, poses, actions, phases = [], [], [], []
    grasped = success = False
    closest = start_distance
    halfway_hold, aligning = None, 0
    settling = None                       # steps left to hold after success, once it rose
    for _ in range(sim.max_steps + settle_steps):
        for view in VIEWS:
            views[view].append(obs[view])
        joints.append(sim.joint_positions())
        poses.append(sim.ee_pose())
        phase = sim.expert_phase(obs['state'])
        phases.append(phase)
        if settling is not None:
            action = np.array([0.0, 0.0, 0.0, actions[-1][3]])
        elif behaviour == 'random':
            action = rng.uniform(-1, 1, 4)
        else:
            action = sim.expert_action(obs)
            if behaviour == 'noisy':
                action[:3] += rng.normal(0, noise, 3)
            elif behaviour == 'halfway':
                # the expert stops 10 steps into carrying the peg, and holds it there
                aligning += phase >= 2
                if aligning > 10:
                    halfway_hold = action[3] if halfway_hold is None else halfway_hold
                    action = np.array([0.0, 0.0, 0.0, halfway_hold])
        action = np.clip(action, -1, 1)
        actions.append(action)
        obs, _, success, truncated, info = sim.step(action)
        grasped |= bool(info.get('grasp_success', False))
        closest = min(closest, sim.peg_to_hole())
        if success and settling is None:
            settling = settle_steps
        if settling == 0 or (settling is None and truncated):
            break
        if settling:
            settling -= 1
    for view in VIEWS:
        views[view].append(obs[view])
    joints.append(sim.joint_positions())
    poses.append(sim.ee_pose())
    phases.append(sim.expert_phase(obs['state']))
    count = len(views['front'])
    stamps = np.arange(count, dtype=np.int64) * period_ns
    label = 'success' if success else 'partial' if grasped or closest < 0.75 * start_distance \
        else 'fail'
    episode = Episode(
        episode_id=f'{behaviour}_seed{seed}', stamps=stamps,
        views={v: np.stack(views[v]) for v in VIEWS},
        streams={'joint_positions': Stream(stamps, np.stack(joints)),
                 'ee_pose': Stream(stamps, np.stack(poses)),
                 'action': Stream(stamps[:-1], np.stack(actions)),
                 'intervention': Stream(stamps[:-1], np.zeros(len(actions), bool))},
        joint_names=JOINT_NAMES,
        keyframes=phase_keyframes(phases, count - 1) if behaviour == 'expert' and success
        else [],
        instructions=(TASK,), success=success)
    return episode, label


def expert_demonstration(sim, seed=0, attempts=10):
    """Record a successful expert episode: the first of seeds seed, seed+1, ... that succeeds."""
    for k in range(attempts):
        episode, label = rollout(sim, seed + k, 'expert')
        if label == 'success':
            return episode, seed + k
    raise RuntimeError(f'the scripted expert failed on {attempts} layouts from seed {seed}')
