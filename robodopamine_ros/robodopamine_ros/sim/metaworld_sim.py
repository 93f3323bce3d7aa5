# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Any Meta-World v3 task on the simulated Sawyer arm, with our three-camera rig, gymnasium API.

- Cameras like a real rig: two wrist cameras on the gripper ('hand' body), aimed at a point
  just past the fingertips, and one upright third-person camera aimed at ``scene_center``.
  They are added to Meta-World's model with MjSpec when the simulation is built. Rendering is
  offscreen with shadows, reflections, skybox and anti-aliasing off.
- Layouts come from our seed (Meta-World ignores reset(seed=...)): the task's object/goal
  vector is drawn from Meta-World's own reset space with numpy's generator seeded by us.
- Actions: end-effector position delta (x, y, z in [-1, 1], 1 cm per unit) and the gripper
  (-1 open, +1 close): the convention of the real agent. Success is Meta-World's own
  ``info['success']``; episodes end on success or after max_steps.
- Observations: {'state': Meta-World's 39-d state, 'front', 'left_wrist', 'right_wrist':
  H x W x 3 uint8 images}.
- The scripted expert: Meta-World's policy for the task (``metaworld.policies``).
"""

import os
import pickle

import gymnasium
import numpy as np
from robodopamine_ros.data.topics import IMAGE_SIZE

POST_SUCCESS_STEPS = 50   # steps an episode may run after success (rollouts' settle_steps)
# the simulated arm's joints (Meta-World's Sawyer: 7 arm joints, 2 fingers), in the order of
# joint_positions(): the names sim_robot_node publishes and rl_agent_node's default joint_names
JOINT_NAMES = tuple(f'right_j{i}' for i in range(7)) + ('r_close', 'l_close')
VIEW_CAMERAS = {'front': 'front_camera', 'left_wrist': 'left_wrist_camera',
                'right_wrist': 'right_wrist_camera'}
SCENE_CENTER = (-0.08, 0.6, 0.05)   # m: where the third-person camera looks (the table)
# offscreen rendering without a display; must be set before mujoco is first imported
os.environ.setdefault('MUJOCO_GL', 'egl')


def task_names():
    """Return the names of Meta-World's v3 tasks (e.g. 'assembly-v3'), in its order."""
    from metaworld.env_dict import ALL_V3_ENVIRONMENTS

    return list(ALL_V3_ENVIRONMENTS)


def with_cameras(base, class_name, scene_center=SCENE_CENTER):
    """
    Return a subclass of a Meta-World environment class that adds our camera rig.

    The class is made once and published in this module under class_name, so that
    Meta-World's task pickling finds it by name.
    """
    if class_name in globals():
        return globals()[class_name]
    import mujoco

    class WithCameras(base):
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
            center.name, center.pos = 'scene_center', list(scene_center)
            camera = spec.worldbody.add_camera()
            camera.name, camera.pos, camera.fovy = 'front_camera', [0.1, 1.2, 0.5], 50
            camera.mode = mujoco.mjtCamLight.mjCAMLIGHT_TARGETBODY
            camera.targetbody = 'scene_center'
            model = spec.compile()
            model.vis.quality.shadowsize = 0
            model.vis.quality.offsamples = 0
            return model, mujoco.MjData(model)

    WithCameras.__name__ = WithCameras.__qualname__ = class_name
    WithCameras.__module__ = __name__
    globals()[class_name] = WithCameras
    return WithCameras


class MetaWorldSim(gymnasium.Env):
    """One Meta-World task with the camera rig: a gymnasium environment, plus its expert."""

    metadata = {'render_modes': ['rgb_array']}

    def __init__(self, env_name, image_size=IMAGE_SIZE, max_steps=200, render_images=True):
        import mujoco
        from metaworld.env_dict import ALL_V3_ENVIRONMENTS
        from metaworld.policies import ENV_POLICY_MAP

        if env_name not in ALL_V3_ENVIRONMENTS:
            raise ValueError(f'unknown Meta-World task {env_name!r}; known: '
                             f'{", ".join(ALL_V3_ENVIRONMENTS)}')
        self.env_name = env_name
        base = ALL_V3_ENVIRONMENTS[env_name]
        self._cls = self.env_class(base)
        self._policy_cls = ENV_POLICY_MAP[env_name]
        self.env = self._cls()
        # Meta-World refuses to step past its max_path_length; our own limit (max_steps)
        # ends unsuccessful episodes, and a successful one may run on POST_SUCCESS_STEPS
        self.env.max_path_length = max_steps + 1 + POST_SUCCESS_STEPS
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

    @staticmethod
    def env_class(base):
        """Return the task's environment class with the rig (subclasses may name it)."""
        return with_cameras(base, base.__name__.replace('Sawyer', '').replace('EnvV3', '')
                            + 'WithCameras')

    # layouts ----------------------------------------------------------------------------------
    def layout_for_seed(self, seed):
        """
        Return the task's object / goal vector for a seed, or None: Meta-World samples it.

        None (here) lets Meta-World draw it from its reset space with its generator seeded by
        us, so the task's own constraints hold (several tasks re-draw until, e.g., object and
        goal are far enough apart: a fixed vector that breaks one would loop for ever).
        A subclass that knows its task's constraints may return a vector (PegInsertionSim).
        """
        return None

    def reset(self, *, seed=None, options=None):
        """Start an episode on the layout of `seed` (a random layout when seed is None)."""
        from metaworld import Task

        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(2 ** 31))
        layout = self.layout_for_seed(seed)
        space = self.env._random_reset_space
        data = {'env_cls': self._cls, 'partially_observable': False,
                'rand_vec': layout if layout is not None else (space.low + space.high) / 2}
        self.env.set_task(Task(env_name=self.env_name, data=pickle.dumps(data)))
        if layout is None:   # Meta-World draws it, seeded by us
            self.env._freeze_rand_vec, self.env.seeded_rand_vec = False, True
            self.env.seed(int(seed))
        state, info = self.env.reset()
        self.layout = np.array(self.env._last_rand_vec, dtype=np.float64)
        self.state = np.asarray(state, dtype=np.float64)
        self.steps = 0
        self.succeeded = False
        self._policy = self._policy_cls()
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

    # the scripted expert ----------------------------------------------------------------------
    def expert_action(self, observation):
        """Return Meta-World's scripted expert action for the current state."""
        return np.asarray(self._policy.get_action(observation['state']), dtype=np.float64)

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
        self.env.close()
