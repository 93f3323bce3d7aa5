# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL learner (docs/method.md): ROS-free, PyTorch.

- ``losses``: every loss in one place (TD target, Cal-QL conservative term, SAC + BC actor,
  consistency loss, ConRFT actor);
- ``networks``: observation encoder (state, images, or both), critics, the two actors;
- ``agents``: Cal-QL and ConRFT (an update = one call), their configuration;
- ``replay``: online and demo buffers, Monte-Carlo returns, mixing, relabelling;
- ``rewards``: the selectable reward sources; ``safety``: the action filter;
- ``acting``: the actor/learner split and checkpoints; ``sim_training``: the loop on the
  simulated robot; ``logs``: CSV and TensorBoard.
"""
