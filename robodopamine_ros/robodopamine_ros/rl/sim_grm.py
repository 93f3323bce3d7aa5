# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated robot's GRM: ONE expert demonstration recorded and adapted, as the user's path.

``adapt_sim_grm`` writes ``<output>/grm_demo`` (the demonstration's bag), ``<output>/compact_grm``
(the GRM adapted on it) and the demonstration's layout seed beside them, so a one-demonstration
run starts its demo buffer with the same demonstration (``grm_demo_layout``).
"""

import json
from pathlib import Path

from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.data.topics import IMAGE_SIZE

DEMO_LAYOUT_FILE = 'grm_demo_layout.json'  # beside the GRM folder adapt_sim_grm writes


def grm_demo_layout(grm_dir):
    """
    Return the layout seed of the demonstration a simulated GRM was adapted on (-1: unknown).

    The user's path records one demonstration: the GRM adapts on it and the policy's demo
    buffer starts with it (TrainConfig.demo_layout), so a 1-demonstration run uses one.
    """
    path = Path(grm_dir).parent / DEMO_LAYOUT_FILE
    if not path.is_file():
        return -1
    return int(json.loads(path.read_text())['layout_seed'])


def adapt_sim_grm(output, seed=0, steps=300, image_size=IMAGE_SIZE, log=print):
    """
    Record ONE expert demonstration on the simulated robot and adapt a compact GRM on it.

    Returns the model folder (output/compact_grm); an existing folder is reused.
    """
    from robodopamine_ros.data import bag_writer
    from robodopamine_ros.grm.one_shot import adapt
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import expert_demonstration

    output = Path(output)
    model_dir = output / 'compact_grm'
    if (model_dir / 'model.safetensors').is_file():
        return model_dir
    sim = PegInsertionSim(image_size=image_size, max_steps=200)
    try:
        demo, demo_seed = expert_demonstration(sim, seed)
    finally:
        sim.close()
    demo_bag = output / 'grm_demo'
    with atomic_path(output / DEMO_LAYOUT_FILE) as tmp:
        tmp.write_text(json.dumps({'layout_seed': int(demo_seed)}) + '\n')
    if not demo_bag.exists():
        bag_writer.write_episode(demo_bag, demo, storage='mcap', image_format='png',
                                 action_source='expert')
    log(f'GRM: one expert demonstration (layout seed {demo_seed}, {demo.num_frames} frames), '
        f'adapting a compact GRM ({steps} steps)')
    adapt(demo_bag, model_dir, steps=steps, episode=demo, size=image_size, log=log)
    return model_dir
