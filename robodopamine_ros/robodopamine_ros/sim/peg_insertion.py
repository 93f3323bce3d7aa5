# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated peg insertion (Meta-World peg-insert-side-v3) with three cameras, gymnasium API.

- Cameras like a real rig: two wrist cameras on the gripper ('hand' body), aimed at a point
  just past the fingertips in the insertion direction (peg and hole are both in view while
  inserting), and one upright third-person camera. They are added to Meta-World's model with
  MjSpec when the simulation is built. Rendering is offscreen with shadows, reflections, skybox
  and anti-aliasing off.
- Layouts come from our seed (Meta-World ignores reset(seed=...)): the peg/box position vector
  is drawn from Meta-World's own reset space with numpy's generator seeded by us.
- Actions: end-effector position delta (x, y, z in [-1, 1], 1 cm per unit) and the gripper
  (-1 open, +1 close): the convention of the real agent. Success is Meta-World's own
  ``info['success']``; episodes end on success or after max_steps.
- Observations: {'state': Meta-World's 39-d state, 'front', 'left_wrist', 'right_wrist':
  H x W x 3 uint8 images}.
"""

import os
import pickle

import gymnasium
import numpy as np

VIEW_CAMERAS = {'front': 'front_camera', 'left_wrist': 'left_wrist_camera',
                'right_wrist': 'right_wrist_camera'}
TASK = 'insert the peg into the hole'
ENV_NAME = 'peg-insert-side-v3'
PHASES = ('reach', 'grasp', 'align', 'insert')
# offscreen rendering without a display; must be set before mujoco is first imported
os.environ.setdefault('MUJOCO_GL', 'egl')


def _env_class():
    """
    Meta-World's environment with our cameras (imported lazily: the [sim] extra).

    The class is made once and published in this module, so that Meta-World's task pickling
    finds it by name.
    """
    if 'PegInsertionWithCameras' in globals():
        return globals()['PegInsertionWithCameras']
    import mujoco
    from metaworld.envs.sawyer_peg_insertion_side_v3 import SawyerPegInsertionSideEnvV3

    class PegInsertionWithCameras(SawyerPegInsertionSideEnvV3):
        def _initialize_simulation(self):
            spec = mujoco.MjSpec.from_file(self.fullpath)
            hand = spec.body('hand')
            # hand frame: x points down, y along the finger opening, z along world +x
            target = hand.add_body()
            target.name = 'wrist_camera_target'
            target.pos = [0.10, 0.0, -0.06]
            for name, side in (('left_wrist_camera', 0.09), ('right_wrist_camera', -0.09)):
                camera = hand.add_camera()
                camera.name, camera.pos, camera.fovy = name, [-0.05, side, 0.06], 75
                camera.mode = mujoco.mjtCamLight.mjCAMLIGHT_TARGETBODY
                camera.targetbody = 'wrist_camera_target'
            center = spec.worldbody.add_body()
            center.name, center.pos = 'scene_center', [-0.08, 0.6, 0.05]
            camera = spec.worldbody.add_camera()
            camera.name, camera.pos, camera.fovy = 'front_camera', [0.1, 1.2, 0.5], 50
            camera.mode = mujoco.mjtCamLight.mjCAMLIGHT_TARGETBODY
            camera.targetbody = 'scene_center'
            model = spec.compile()
            model.vis.quality.shadowsize = 0
            model.vis.quality.offsamples = 0
            return model, mujoco.MjData(model)

    PegInsertionWithCameras.__module__ = __name__
    PegInsertionWithCameras.__qualname__ = 'PegInsertionWithCameras'
    globals()['PegInsertionWithCameras'] = PegInsertionWithCameras
    return PegInsertionWithCameras


class PegInsertionSim(gymnasium.Env):
    """The simulated insertion robot: a gymnasium environment, plus the scripted expert."""

    metadata = {'render_modes': ['rgb_array']}

    def __init__(self, image_size=(64, 48), max_steps=200, render_images=True):
        import mujoco

        cls = _env_class()
        self._cls = cls
        self.env = cls()
        self.env.max_path_length = max_steps + 1
        self.image_size = tuple(image_size)
        self.max_steps = max_steps
        self.render_images = render_images
        width, height = self.image_size
        self._renderer = None  # made on the first render (render_images=False may never)
        self._flags = (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION,
                       mujoco.mjtRndFlag.mjRND_SKYBOX)
        image = gymnasium.spaces.Box(0, 255, (height, width, 3), np.uint8)
        self.observation_space = gymnasium.spaces.Dict({
            'state': gymnasium.spaces.Box(-np.inf, np.inf, (39,), np.float64),
            **{view: image for view in VIEW_CAMERAS}})
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.steps = 0
        self.layout = None
        self._policy = None
        self.state, self.succeeded = None, False

    # layouts ----------------------------------------------------------------------------------
    def layout_for_seed(self, seed):
        """Draw peg and box positions for a seed from Meta-World's reset space (>= 10 cm apart)."""
        space = self.env._random_reset_space
        rng = np.random.default_rng(seed)
        while True:
            vector = rng.uniform(space.low, space.high)
            if np.linalg.norm(vector[:2] - vector[3:5]) >= 0.1:
                return vector

    def reset(self, *, seed=None, options=None):
        """Start an episode on the layout of `seed` (a random layout when seed is None)."""
        from metaworld import Task
        from metaworld.policies import SawyerPegInsertionSideV3Policy

        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2 ** 31))
        self.layout = self.layout_for_seed(seed)
        data = {'env_cls': self._cls, 'rand_vec': self.layout, 'partially_observable': False}
        self.env.set_task(Task(env_name=ENV_NAME, data=pickle.dumps(data)))
        state, info = self.env.reset()
        self.state = np.asarray(state, dtype=np.float64)
        self.steps = 0
        self.succeeded = False
        self._policy = SawyerPegInsertionSideV3Policy()
        return self._observation(state), {'success': False, 'layout': self.layout.copy()}

    def step(self, action):
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (4,) or not np.all(np.isfinite(action)):
            raise ValueError(f'action must be 4 finite numbers (dx, dy, dz, gripper), got '
                             f'{action!r}')
        state, reward, _, _, info = self.env.step(np.clip(action, -1.0, 1.0))
        self.state = np.asarray(state, dtype=np.float64)
        self.steps += 1
        success = bool(info['success'])
        self.succeeded = success
        truncated = not success and self.steps >= self.max_steps
        info = dict(info, success=success)
        return self._observation(state), float(reward), success, truncated, info

    # images -----------------------------------------------------------------------------------
    def render(self):
        """Return the third-person camera image (gymnasium's rgb_array render mode)."""
        return self.render_views()['front']

    def render_views(self):
        """Render the three cameras now: {view: H x W x 3 uint8}."""
        if self._renderer is None:
            import mujoco

            width, height = self.image_size
            self._renderer = mujoco.Renderer(self.env.model, height, width)
        views = {}
        for view, camera in VIEW_CAMERAS.items():
            self._renderer.update_scene(self.env.data, camera=camera)
            for flag in self._flags:
                self._renderer.scene.flags[flag] = False
            views[view] = self._renderer.render().copy()
        return views

    def _observation(self, state):
        observation = {'state': np.asarray(state, dtype=np.float64)}
        if self.render_images:
            observation.update(self.render_views())
        return observation

    # robot state ------------------------------------------------------------------------------
    def joint_positions(self):
        """Return the seven arm joints and the two finger joints (radians / metres)."""
        return self.env.data.qpos[:9].copy()

    def ee_pose(self):
        """Return the hand position (m) and orientation quaternion (x, y, z, w)."""
        body = self.env.data.body('hand')
        w, x, y, z = body.xquat
        return np.concatenate([body.xpos, [x, y, z, w]])

    def peg_to_hole(self):
        """Return the distance from the peg head to the hole target (m)."""
        return float(np.linalg.norm(self.env._get_site_pos('pegHead') - self.env._target_pos))

    # the scripted expert ----------------------------------------------------------------------
    def expert_action(self, observation):
        """Return Meta-World's scripted expert action for the current state (~90 % success)."""
        return np.asarray(self._policy.get_action(observation['state']), dtype=np.float64)

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

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
        self.env.close()
