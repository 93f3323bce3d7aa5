# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
One-shot adaptation of the compact GRM on one demonstration, with its report.

What ``robodopamine adapt`` runs for the compact back-end, and what the main job and the
simulated training call: read the demo, adapt (grm.adapt_compact), evaluate on the demo
(reward.evaluation), write the model folder with report.md, loss.png and progress.png.

An existing output folder keeps the previous model, whole, until the new one is complete: the
intermediate saves (every ``eval_every`` steps) go to ``<output>.partial`` beside it (marked
partial in their config: loading one warns), and the final model, history.json, the plots and
report.md are written into a new folder that replaces output in one swap (grm.model_folder),
with nothing of the previous folder carried over. A kill at any point leaves the previous
model with its own reports, or the new one with its own.
"""

import json
from pathlib import Path
import shutil

from robodopamine_ros.data.topics import IMAGE_SIZE


def adapt(demo, output, steps=300, pool=24, size=IMAGE_SIZE, seed=0, episode=None, log=print,
          options=None, init='auto', lr=None):
    """
    Adapt a compact GRM on a demo (or a loaded Episode); return (model, history).

    options: demos.ReadOptions for reading a bag demo (ignored when episode is given).
    lr: peak learning rate (None: CompactTrainConfig's).
    init: where adaptation starts (grm/pretrain.py, choose_start): 'auto', 'pretrained',
    'scratch' or a model folder; history['start'] records the choice.
    """
    from tqdm import tqdm

    from robodopamine_ros.data import demos
    from robodopamine_ros.grm.adapt_compact import (adapt_compact, CompactTrainConfig,
                                                    reference_frames)
    from robodopamine_ros.grm.model_folder import replace_folder
    from robodopamine_ros.grm.pretrain import choose_start, start_reason, start_text
    from robodopamine_ros.reward.evaluation import evaluate_model, plot_progress

    output = Path(output)
    partial = partial_folder(output)
    episode = episode or demos.load_demo(demo, image_size=tuple(size), options=options)
    if episode.num_frames < 20:
        raise ValueError(f'{demo}: {episode.num_frames} frames are too few to adapt a GRM')
    config = CompactTrainConfig(steps=steps, pool=pool, image_size=tuple(size), seed=seed,
                                eval_every=max(50, steps // 4))
    if lr is not None:
        config.lr = lr
    model, origin = choose_start(init, episode, config, log=log)
    log(f'start: {start_text(origin)}: {start_reason(origin)}')   # which start, and why
    model.config['task'] = episode.instructions[0]
    start, end = reference_frames(episode)
    references = (episode.views['front'][start], episode.views['front'][end])
    bar = tqdm(total=steps, unit='step', desc='adapt compact GRM', mininterval=1.0)

    def on_step(step, loss):
        bar.update(1)
        if step % 25 == 0:
            bar.set_postfix(loss=f'{loss:.4f}')

    def on_eval(step, metrics):
        bar.write(f'step {step}: held-out pair error {metrics["heldout_pair_mae"]:.3f}, dense '
                  f'VOC {metrics["voc_fused"]:.3f}, error vs keyframes '
                  f'{metrics.get("mae_vs_keyframes", float("nan")):.3f}')
        # intermediate saves go beside the output, never into it (a kill leaves the previous
        # model whole, with its own reports); marked partial: loading one warns
        model.save(partial, references, keep_others=False,
                   extra={'task': episode.instructions[0], 'checkpoint_step': step,
                          'partial': True})

    model, history = adapt_compact(episode, config, model=model, on_step=on_step,
                                   on_eval=on_eval)
    bar.close()
    metrics, curves = evaluate_model(model, episode, references)
    history['final'], history['start'] = metrics, origin
    training = {'demo': str(demo), 'steps': steps, 'seconds': history['seconds'],
                'start': origin, 'final': metrics}
    rows = '\n'.join(f'| {k} | {v:.3f} |' if isinstance(v, float) else f'| {k} | {v} |'
                     for k, v in metrics.items())
    # the model and its reports are written into a new folder that replaces output in one
    # swap (grm.model_folder): nothing of a previous model is carried over
    with replace_folder(output, keep_others=False) as new:
        model.write_files(new, references, extra={'task': episode.instructions[0],
                                                  'checkpoint_step': steps,
                                                  'training': training})
        (new / 'history.json').write_text(json.dumps(history, indent=1) + '\n')
        plot_progress(curves, f'{episode.episode_id}: compact GRM after {steps} steps',
                      new / 'progress.png')
        _plot_loss(history, new / 'loss.png')
        (new / 'report.md').write_text(
            f'# Compact GRM adapted on `{demo}`\n\n{steps} steps in {history["seconds"]} s, '
            f'from {start_text(origin)}.\n\n'
            f'| metric (on the demo, every 10th frame) | value |\n|---|---|\n{rows}\n\n'
            '![loss](loss.png)\n\n![progress](progress.png)\n')
    shutil.rmtree(partial, ignore_errors=True)
    log(f'wrote {output}: config.json, model.safetensors, reference PNGs, report.md, '
        f'loss.png, progress.png ({history["seconds"]} s of training)')
    return model, history


def partial_folder(output):
    """Where adapt() keeps its intermediate saves: ``<output>.partial`` beside output."""
    output = Path(output)
    return output.with_name(f'{output.name}.partial')


def _plot_loss(history, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    loss = np.array(history['loss'])
    window = max(1, len(loss) // 50)
    smooth = np.convolve(loss, np.ones(window) / window, mode='valid')
    figure, axis = plt.subplots(figsize=(6, 3), dpi=100)
    axis.semilogy(loss, alpha=0.3, label='loss')
    axis.semilogy(np.arange(len(smooth)) + window - 1, smooth, label=f'mean of {window}')
    axis.set_xlabel('step')
    axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
