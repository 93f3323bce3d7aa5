# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A tiny continuous task with the simulated robot's interface, for learning tests.

A point in the plane must reach a fixed goal from a random start: state = (x, y, goal_x,
goal_y), action = the robot's (dx, dy, dz, gripper) with dx, dy moving the point 0.1 per
unit (dz and the gripper are ignored); success when within `radius` of the goal. The
scripted expert heads to the goal at `expert_speed` (1: full speed) until it is close; a slow
expert succeeds only from near starts, so imitating it is not enough and RL must do better.
"""

import numpy as np


class PointReach:

    def __init__(self, max_steps=30, radius=0.1, expert_speed=1.0):
        self.max_steps, self.radius, self.expert_speed = max_steps, radius, expert_speed
        self.position = np.zeros(2)
        self.goal = np.zeros(2)
        self.steps = 0

    def reset(self, seed=None):
        rng = np.random.default_rng(seed)
        self.goal = np.array([0.3, -0.2])
        while True:
            self.position = rng.uniform(-1, 1, 2)
            if np.linalg.norm(self.goal - self.position) > 0.6:
                break
        self.steps = 0
        return self._obs(), {}

    def _obs(self):
        return {'state': np.concatenate([self.position, self.goal]).astype(np.float32)}

    def step(self, action):
        action = np.asarray(action, dtype=float)
        self.position = np.clip(self.position + 0.1 * np.clip(action[:2], -1, 1), -1.5, 1.5)
        self.steps += 1
        success = bool(np.linalg.norm(self.goal - self.position) < self.radius)
        truncated = not success and self.steps >= self.max_steps
        reward = -10.0 * float(np.linalg.norm(self.goal - self.position))  # a dense reward
        return self._obs(), reward, success, truncated, {'success': success}

    def ee_pose(self):
        return np.array([self.position[0], self.position[1], 0.0, 0, 0, 0, 1])

    def expert_action(self, obs):
        speed = self.expert_speed
        delta = np.clip((obs['state'][2:] - obs['state'][:2]) / 0.1, -speed, speed)
        return np.array([delta[0], delta[1], 0.0, 0.0])

    def close(self):
        pass


class PointReachImages(PointReach):
    """
    PointReach seen through a camera: the policy gets 'images' only (one 16 x 16 view).

    The point is a bright 2 x 2 square on a dark field, the goal a dimmer one; nothing else
    tells where the point is, so a policy that learns must learn it from the pixels.
    """

    SIZE = 16

    def _obs(self):
        image = np.zeros((1, self.SIZE, self.SIZE, 3), np.uint8)
        for xy, value in ((self.goal, 90), (self.position, 255)):
            col, row = np.clip(((np.asarray(xy) + 1.5) / 3.0 * self.SIZE).astype(int), 0,
                               self.SIZE - 2)
            image[0, row:row + 2, col:col + 2] = value
        return {'images': image, 'state': super()._obs()['state']}
