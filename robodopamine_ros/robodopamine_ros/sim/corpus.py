# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A multi-task corpus for pre-training the GRM: Meta-World's tasks on our camera rig.

Every task except the ones too close to the product's insertion (``EXCLUDED``, with why) is
recorded on ``layouts`` layouts, each with three behaviours:

- ``expert``: Meta-World's scripted expert until success (a layout where it fails within
  max_steps is replaced by the next seed; a task whose expert fails every tried layout is
  skipped, with a warning, and counted in the manifest);
- ``halfway``: the same expert stopped at half of its successful episode's length, then the
  arm held still for HOLD_STEPS steps (a partial episode: progress stops where it stopped);
- ``random``: uniform random actions for max_steps (a failure: motion that is not progress).

Progress labels: the expert's sub-tasks are split at its gripper events (the sign of the
commanded gripper changes: grasp, release), and every frame gets the equalized keyframe
progress of those segments (labels.equalized_states, the same rule as a one-shot
demonstration's labels); the halfway episode copies the expert's labels up to the stop and
holds the last one; a random episode is labelled 0 throughout. Each task's references (start
and goal views) are the first and last front images of its first expert episode, which is how a
one-shot task is specified.

Format (``<output>/<task>/``): ``layout<k>_<behaviour>.npz`` with ``views`` (T, 3, H, W, 3)
uint8 (front, left wrist, right wrist; every ``every``-th control step and the last),
``progress`` (T,) float32, ``success`` (bool); ``references.npz`` (``start``, ``end``: H x W x 3);
and ``done.json`` once the task is complete, so an interrupted run resumes at the next task.
``<output>/corpus.json`` is the manifest (settings, tasks, skipped tasks and why, counts).
Every file is written to a temporary name and renamed.
"""

import json
from pathlib import Path

import numpy as np
from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.data.corpus import FORMAT, FORMAT_VERSION, save_arrays
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
from robodopamine_ros.reward.labels import equalized_states

BEHAVIOURS = ('expert', 'halfway', 'random')
EXCLUDED = {
    'peg-insert-side-v3': 'the product task itself (the one-shot target)',
    'peg-unplug-side-v3': 'the same peg and box, the insertion played backwards',
}
HOLD_STEPS = 30    # control steps a halfway episode holds still after the expert stopped


def corpus_tasks():
    """Return Meta-World's v3 tasks the corpus records (all but EXCLUDED)."""
    from robodopamine_ros.sim.metaworld_sim import task_names

    return [t for t in task_names() if t not in EXCLUDED]


def gripper_segments(actions, num_frames, frame_steps):
    """
    Sub-task segments of an expert episode, split where its commanded gripper changes sign.

    actions: (S, 4) the expert's actions per control step; frame_steps: (T,) the control step
    of each recorded frame. Returns keyframes.Segment list over the recorded frames (at least
    one segment; boundaries closer than 2 frames are merged).
    """
    closed = np.asarray(actions)[:, 3] > 0
    switches = np.flatnonzero(closed[1:] != closed[:-1]) + 1
    frames = sorted({int(np.searchsorted(frame_steps, s)) for s in switches})
    bounds = [0]
    for frame in frames:
        if 2 <= frame - bounds[-1] and num_frames - 1 - frame >= 2:
            bounds.append(frame)
    bounds.append(num_frames - 1)
    return [Segment(a, b, f'phase {k}') for k, (a, b) in enumerate(zip(bounds, bounds[1:]))]


def _run(sim, seed, policy, max_steps, every):
    """
    Run one episode with policy(obs, t).

    Returns (views (T, 3, H, W, 3), the control step of each frame, actions, success).
    """
    def views():   # rendered only for the frames kept
        rendered = sim.render_views()
        return np.stack([rendered[v] for v in VIEWS])

    obs, _ = sim.reset(seed=seed)
    frames, steps, actions, success = [views()], [0], [], False
    for t in range(max_steps):
        action = np.clip(policy(obs, t), -1.0, 1.0)
        obs, _, success, truncated, _ = sim.step(action)
        actions.append(action)
        last = success or truncated or t == max_steps - 1
        if (t + 1) % every == 0 or last:
            frames.append(views())
            steps.append(t + 1)
        if success or truncated:
            break
    return np.stack(frames), np.array(steps), np.array(actions), bool(success)


def record_task(sim, task, folder, layouts, max_steps=200, every=2, seed=0, attempts=3):
    """
    Record one task's episodes into folder; return a dict of counts.

    Raises ValueError when its expert failed every tried layout (the caller skips the task).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, len(task)])
    kept, tried, references = 0, 0, None
    counts = dict.fromkeys(BEHAVIOURS, 0)
    while kept < layouts and tried < layouts * attempts:
        layout_seed = seed * 1_000_003 + tried
        tried += 1
        views, steps, actions, success = _run(
            sim, layout_seed, lambda obs, t: sim.expert_action(obs), max_steps, every)
        if not success:
            continue
        progress = equalized_states(gripper_segments(actions, len(views), steps)) \
            .dense_progress(np.arange(len(views))).astype(np.float32)
        if references is None:
            references = (views[0, 0], views[-1, 0])
            save_arrays(folder / 'references.npz', start=references[0], end=references[1])
        save_arrays(folder / f'layout{kept}_expert.npz', views=views, progress=progress,
                    success=True)
        stop = max(1, len(actions) // 2)
        half_views, half_steps, _, half_success = _run(
            sim, layout_seed, lambda obs, t, stop=stop, actions=actions: sim.expert_action(obs)
            if t < stop else np.array([0.0, 0.0, 0.0, actions[stop - 1][3]]),
            min(max_steps, stop + HOLD_STEPS), every)
        half_progress = np.interp(np.minimum(half_steps, stop), steps, progress)
        save_arrays(folder / f'layout{kept}_halfway.npz', views=half_views,
                    progress=half_progress.astype(np.float32), success=half_success)
        random_views, _, _, random_success = _run(
            sim, layout_seed, lambda obs, t: rng.uniform(-1.0, 1.0, 4), max_steps, every)
        save_arrays(folder / f'layout{kept}_random.npz', views=random_views,
                    progress=np.zeros(len(random_views), np.float32), success=random_success)
        kept += 1
        for behaviour in BEHAVIOURS:
            counts[behaviour] += 1
    if kept == 0:
        raise ValueError(f'{task}: the scripted expert failed all {tried} layouts tried '
                         f'within {max_steps} steps')
    done = {'task': task, 'layouts': kept, 'layouts_tried': tried, 'episodes': counts}
    (folder / 'done.json').write_text(json.dumps(done) + '\n')
    return done


def record_corpus(output, tasks=None, layouts=3, max_steps=200, every=2, image_size=IMAGE_SIZE,
                  seed=0, log=print, progress=None):
    """
    Record (or resume) the corpus in output; returns the manifest dict (also corpus.json).

    tasks: task names (default corpus_tasks()); progress(task) is called after each task.
    """
    from robodopamine_ros.sim.metaworld_sim import MetaWorldSim

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    tasks = list(tasks or corpus_tasks())
    excluded = [t for t in tasks if t in EXCLUDED]
    if excluded:
        raise ValueError(f'{excluded[0]} is excluded from the corpus: {EXCLUDED[excluded[0]]}')
    settings = {'layouts': layouts, 'max_steps': max_steps, 'every': every,
                'image_size': list(image_size), 'seed': seed}
    manifest_path = output / 'corpus.json'
    if manifest_path.is_file():
        previous = json.loads(manifest_path.read_text())
        if previous.get('settings') != settings:
            raise ValueError(f'{output} holds a corpus recorded with {previous.get("settings")}'
                             f', not {settings}: use another folder')
    done, skipped = {}, {}
    for task in tasks:
        folder = output / task
        if (folder / 'done.json').is_file():
            done[task] = json.loads((folder / 'done.json').read_text())
        else:
            sim = MetaWorldSim(task, image_size=image_size, max_steps=max_steps,
                               render_images=False)
            try:
                done[task] = record_task(sim, task, folder, layouts, max_steps, every, seed)
            except ValueError as error:
                skipped[task] = str(error)
                log(f'warning: skipped {error}')
            finally:
                sim.close()
        if progress:
            progress(task)
    manifest = {'format': FORMAT, 'format_version': FORMAT_VERSION, 'settings': settings,
                'excluded': EXCLUDED, 'tasks': done, 'skipped': skipped,
                'episodes': int(sum(sum(d['episodes'].values()) for d in done.values()))}
    with atomic_path(manifest_path) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=2) + '\n')
    return manifest
