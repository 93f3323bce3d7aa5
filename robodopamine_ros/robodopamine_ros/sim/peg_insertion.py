# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated peg insertion (Meta-World peg-insert-side-v3) with three cameras, gymnasium API.

The task of the product's main job, on ``MetaWorldSim`` (the camera rig, layouts, rendering,
robot state and the scripted expert, shared with the multi-task corpus), plus what only the
insertion has:
- Cameras: the wrist cameras look just past the fingertips in the insertion direction (peg and
  hole are both in view while inserting); the third-person camera looks at the table.
- Layouts: the peg/box position vector from Meta-World's own reset space, seeded by us, with
  peg and box at least 10 cm apart.
- The expert's phases (reach, grasp, align, insert) and an oracle progress from the
  simulator's privileged state (the benchmark's oracle potential).
- Actions: end-effector position delta (x, y, z in [-1, 1], 1 cm per unit) and the gripper
  (-1 open, +1 close): the convention of the real agent. Success is Meta-World's own
  ``info['success']``; episodes end on success or after max_steps.
- Observations: {'state': Meta-World's 39-d state, 'robot_state': what a robot's agent sees
  with a pose tracker (robot/state.py: joints, hand pose, the peg's and the hole's poses),
  'proprioception': what the arm senses of itself (joints, fingers included, and the hand
  pose; no object), 'front', 'left_wrist', 'right_wrist': H x W x 3 uint8 images}.
"""

import numpy as np
from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.robot.state import robot_state, state_size
from robodopamine_ros.sim.metaworld_sim import MetaWorldSim, VIEW_CAMERAS  # noqa: F401

TASK = 'insert the peg into the hole'
ENV_NAME = 'peg-insert-side-v3'
PHASES = ('reach', 'grasp', 'align', 'insert')
OBJECTS = ('peg', 'hole')  # the tracked objects of robot_state, in this order
# its length: the simulated arm's 7 joints and 2 fingers, the hand, the objects
ROBOT_STATE_SIZE = state_size(9, len(OBJECTS))
# m, (low, high) corners of the end-effector box the policy may command in this scene: the
# workspace of the simulated robot's safety layer (sim_insertion.yaml, rl_agent_node default)
WORKSPACE = ((-0.5, 0.40, 0.05), (0.5, 1.0, 0.5))


class PegInsertionSim(MetaWorldSim):
    """The simulated insertion robot: a gymnasium environment, plus the scripted expert."""

    def __init__(self, image_size=IMAGE_SIZE, max_steps=200, render_images=True):
        import gymnasium

        super().__init__(ENV_NAME, image_size=image_size, max_steps=max_steps,
                         render_images=render_images)
        self.observation_space['robot_state'] = gymnasium.spaces.Box(
            -np.inf, np.inf, (ROBOT_STATE_SIZE,), np.float32)
        self.observation_space['proprioception'] = gymnasium.spaces.Box(
            -np.inf, np.inf, (state_size(9),), np.float32)

    @staticmethod
    def env_class(base):
        from robodopamine_ros.sim.metaworld_sim import with_cameras

        return with_cameras(base, 'PegInsertionWithCameras')

    def layout_for_seed(self, seed):
        """Draw peg and box positions for a seed from Meta-World's reset space (>= 10 cm apart)."""
        space = self.env._random_reset_space
        rng = np.random.default_rng(seed)
        while True:
            vector = rng.uniform(space.low, space.high)
            if np.linalg.norm(vector[:2] - vector[3:5]) >= 0.1:
                return vector

    def peg_to_hole(self):
        """Return the distance from the peg head to the hole target (m)."""
        return float(np.linalg.norm(self.env._get_site_pos('pegHead') - self.env._target_pos))

    def object_poses(self):
        """
        Return the poses of OBJECTS, (2, 7): x, y, z (m), qx, qy, qz, qw.

        The peg: its position and orientation in Meta-World's state. The hole: the target
        the peg head must reach (Meta-World's goal), orientation fixed (the box does not turn).
        """
        peg = self.state[4:11]
        hole = np.concatenate([self.state[-3:], [0.0, 0.0, 0.0, 1.0]])
        return np.stack([peg, hole])

    def robot_state(self):
        """Return the state an agent on the robot sees (robot/state.py), float32 (30,)."""
        return robot_state(self.joint_positions(), self.ee_pose(), self.object_poses())

    def proprioception(self):
        """Return what the arm senses of itself: joints (fingers included), hand pose; (16,)."""
        return robot_state(self.joint_positions(), self.ee_pose())

    def _observation(self, state):
        observation = super()._observation(state)
        observation['robot_state'] = self.robot_state()
        observation['proprioception'] = self.proprioception()
        return observation

    def expert_action(self, observation):
        """Return Meta-World's scripted expert action for the current state (~90 % success)."""
        return super().expert_action(observation)

    @staticmethod
    def expert_phase(state):
        """
        Return the phase the expert is in, from the same tests its policy uses.

        0 reach (above the peg), 1 grasp (descend and close), 2 align (carry to the hole's
        line), 3 insert.
        """
        hand, peg, goal = state[:3], state[4:7], state[-3:]
        hole = np.array([-0.35, goal[1], 0.16])
        if np.linalg.norm(hand[:2] - peg[:2]) > 0.04:
            return 0
        if abs(hand[2] - peg[2]) > 0.025:
            return 1
        if np.linalg.norm(peg[1:] - hole[1:]) > 0.03:
            return 2
        return 3

    # distances (m) over which each phase's oracle progress runs from 0 to 1
    ORACLE_SCALES = (0.3, 0.15, 0.3, 0.2)

    def oracle_progress(self):
        """
        Task progress in [0, 1] from the simulator's privileged state (the oracle potential).

        (phase + fraction of the phase done) / 4, the phase from ``expert_phase`` and the
        fraction from the distance that phase closes: hand to peg (xy), hand to peg height,
        peg to the hole's line, peg head to the hole, each over ``ORACLE_SCALES``; 1 on
        success. For the benchmark only: it separates the learner's quality from the GRM's.
        """
        if self.succeeded:
            return 1.0
        state = self.state
        hand, peg, goal = state[:3], state[4:7], state[-3:]
        phase = self.expert_phase(state)
        hole = np.array([-0.35, goal[1], 0.16])
        distance = (np.linalg.norm(hand[:2] - peg[:2]), abs(hand[2] - peg[2]),
                    np.linalg.norm(peg[1:] - hole[1:]), self.peg_to_hole())[phase]
        fraction = 1.0 - min(distance / self.ORACLE_SCALES[phase], 1.0)
        return float(min((phase + fraction) / len(PHASES), 1.0))
