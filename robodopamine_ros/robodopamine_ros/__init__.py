# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Robo-Dopamine for ROS 2: a general reward model, policy-invariant shaping, Dopamine-RL.

Everything in this package except the ``nodes`` subpackage is ROS-free: it imports without
rclpy and serves users who adapt and evaluate reward models on a GPU box without ROS.

Module map (imports run downward; docs/architecture.md, the method: docs/method.md):

- ``data/``     episodes, images, camera sync, rosbag2 in/out, keyframes, view and topic names
- ``reward/``   hop labels, progress fusion, shaping, success detection, reward-model metrics
- ``robot/``    teleop and deadman, controller adapters, watchdog, safety layer, gripper
- ``grm/``      reward models: compact GRM (pre-training, one-shot), VLM GRM, live progress
- ``sim/``      the simulated robot (Meta-World on our camera rig) and the pre-training corpus
- ``rl/``       Cal-QL and ConRFT, losses, replay, the control loop, simulated training
- ``commands/`` the ``robodopamine`` command line (one module per subcommand)
- ``nodes/``    the ROS 2 nodes: parameters, timers, topics, message conversions
"""

__version__ = '0.1.0'
