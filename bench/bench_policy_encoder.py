# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Which camera encoder the 'cameras' policy uses: the offline stage's success per encoder.

The product's observation ('cameras': three views + proprioception, no object state) through
each candidate encoder, on the simulated insertion: policy demonstrations (10, and 1: the
GRM's own demonstration, the README's path), 1000 imitation + 1000 offline updates (the
defaults), then the deterministic policy on the 50 fixed evaluation layouts (simulator success:
ground truth, for evaluating only). The online stage is what bench_rl measures; this is the
start it gets. Also the update time of each encoder (batch 256, 2 critics, augmentation
included, one thread).

Encoders (rl/observations.py, rl/networks.py):
- cnn: DrQ / SERL's CNN (flattened grid, random shift 4 px) trained by the critic alone, views
  at 32 x 24 (at 64 x 48 one update takes about 1 s on one thread here);
- cnn, imitation trains it: the same, and the imitation stage's loss also trains the CNN
  (AgentConfig.imitation_trains_encoder, the default);
- grm-shipped: the shipped pre-trained GRM's image encoder and state fusion, frozen;
- grm-adapted: the same of the GRM adapted on the task's one demonstration, frozen (on a real
  arm the only encoder that has seen the task's images);
- grm-adapted, fine-tuned: that GRM's encoder and fusion started from its weights and trained
  by the critic (and the imitation stage), random shift 4 px, views at 64 x 48;
- and, as the upper bound, the privileged 39-d state.

Resumable (finished runs are skipped). Run:
.work/venv-core/bin/python bench/bench_policy_encoder.py --jobs 2
"""

import argparse
import json
from pathlib import Path
import sys
import time

from jobs import run_jobs
from results import record

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / 'robodopamine_ros' / 'robodopamine_ros' / 'grm' / 'pretrained'
CNN = ['--observation', 'cameras', '--image-encoder', 'cnn', '--image-size', '32', '24']
ENCODERS = {
    'cnn': [*CNN, '--agent', 'imitation_trains_encoder=false'],
    'cnn, imitation trains it': CNN,
    'grm-shipped': ['--observation', 'cameras', '--image-encoder', 'grm',
                    '--encoder-dir', str(SHIPPED)],
    'grm-adapted': ['--observation', 'cameras', '--image-encoder', 'grm'],
    'grm-adapted, fine-tuned': ['--observation', 'cameras', '--image-encoder', 'grm-tuned'],
    'state (upper bound: object positions)': ['--observation', 'state'],
}


def slug(name):
    return ''.join(c if c.isalnum() else '_' for c in name.lower()).strip('_')


def runs(args, grm_dir):
    robodopamine = Path(sys.executable).parent / 'robodopamine'
    for demos in args.demos:
        for name in args.encoders:
            folder = Path(args.output) / f'{slug(name)}_{demos}demo'
            yield name, demos, folder, [
                str(robodopamine), 'train', '-o', str(folder), *ENCODERS[name],
                '--reward', 'grm', '--grm-dir', str(grm_dir), '--grm-every', '2',
                '--success', 'either', '--operator',  # the product's (no online stage here)
                '--episodes', '0', '--policy-demos', str(demos), '--eval-episodes', '50',
                '--seed', '0']


def run_all(args, grm_dir):
    run_jobs([(f'{name}, {demos} demos', folder, command)
              for name, demos, folder, command in runs(args, grm_dir)
              if not (folder / 'summary.json').is_file()], args.jobs)


def agent_of(name, grm_dir, shapes):
    """A new agent with this encoder (the fine-tuned GRM's started from grm_dir)."""
    from robodopamine_ros.rl.agents import AgentConfig, make_agent
    from robodopamine_ros.rl.observations import tuned_encoder_start

    if not name.endswith('fine-tuned'):
        return make_agent(AgentConfig(), shapes)
    grm_config, net = tuned_encoder_start(grm_dir)
    agent = make_agent(AgentConfig(grm_config=grm_config), shapes)
    agent.load_grm_encoder(net)
    return agent


def update_ms(name, grm_dir):
    """One learner update's time (ms, median of 10 after 3 warm-ups) with this encoder."""
    import numpy as np
    import torch

    from robodopamine_ros.rl.agents import Stage
    from robodopamine_ros.rl.observations import obs_shapes

    torch.set_num_threads(1)
    if name.startswith('cnn'):
        shapes = obs_shapes('cameras', (32, 24))
    elif name.endswith('fine-tuned'):
        shapes = obs_shapes('cameras', (64, 48))
    elif name.startswith('grm'):
        shapes = obs_shapes('cameras', (64, 48), image_features=512)
    else:
        shapes = obs_shapes('state', (64, 48))
    agent = agent_of(name, grm_dir, shapes)
    agent.stage, agent.online_updates = Stage.ONLINE, 10 ** 6
    rng = np.random.default_rng(0)
    n = 256

    def obs():
        return {k: rng.integers(0, 255, (n,) + s, dtype=np.uint8) if k == 'images' else
                rng.normal(size=(n,) + s).astype(np.float32) for k, s in shapes.items()}
    batch = {'obs': obs(), 'next_obs': obs(), 'action': rng.uniform(-1, 1, (n, 4)).astype(
        np.float32), 'reward': np.zeros(n, np.float32), 'mc_return': np.zeros(n, np.float32),
        'terminal': np.zeros(n, bool), 'from_demo_buffer': np.arange(n) < n // 2}
    times = []
    for k in range(13):
        t0 = time.perf_counter()
        agent.update(batch)
        if k >= 3:
            times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def action_ms(name, grm_dir):
    """One action from a camera triplet and proprioception (ms, median of 50, one thread)."""
    import numpy as np
    import torch

    from robodopamine_ros.rl.observations import FrozenViewEncoder, obs_shapes, \
        policy_observation

    torch.set_num_threads(1)
    size = (32, 24) if name.startswith('cnn') else (64, 48)
    features = FrozenViewEncoder(SHIPPED if name == 'grm-shipped' else grm_dir) \
        if name.startswith('grm') and not name.endswith('fine-tuned') else None
    shapes = obs_shapes('cameras', size, image_features=features.size if features else None)
    agent = agent_of(name, grm_dir, shapes)
    rng = np.random.default_rng(0)
    obs = {view: rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
           for view in ('front', 'left_wrist', 'right_wrist')}
    obs['proprioception'] = np.zeros(16, np.float32)
    times = []
    for k in range(53):
        t0 = time.perf_counter()
        agent.act(policy_observation(obs, shapes, 'cameras', features), deterministic=True)
        if k >= 3:
            times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def report(args, grm_dir):
    for name, demos, folder, _ in runs(args, grm_dir):
        path = folder / 'summary.json'
        if not path.is_file():
            continue
        offline = json.loads(path.read_text())['offline']
        record('policy encoder', f'{name}, {demos} demo(s): imitation / offline-stage success',
               f'{offline["bc_success"]:.2f} / {offline["offline_success"]:.2f}', '',
               f'50 layouts, seed 0; BC error on demos {offline.get("demo/bc_error", 0):.3f}')
    if args.no_timings:  # a machine busy with other work would time it, not the encoder
        return
    for name in [n for n in args.encoders if not n.startswith('state')]:
        record('policy encoder', f'{name}: one action from a camera triplet (1 thread)',
               action_ms(name, grm_dir), 'ms', 'target <= 10 ms; frozen features included')
    for name in args.encoders:
        record('policy encoder', f'{name}: one learner update (batch 256, 2 critics, 1 thread)',
               update_ms(name, grm_dir), 'ms', 'target <= 40 ms; features of a frozen encoder are '
               'computed once per control step, not per update')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--demos', type=int, nargs='*', default=[10, 1])
    parser.add_argument('--encoders', nargs='*', default=list(ENCODERS))
    parser.add_argument('--output', default=str(ROOT / '.work' / 'bench_policy_encoder'))
    parser.add_argument('--report-only', action='store_true')
    parser.add_argument('--no-timings', action='store_true',
                        help='leave out the update and action timings (on a busy machine)')
    args = parser.parse_args()
    from robodopamine_ros.rl.sim_grm import adapt_sim_grm

    grm_dir = adapt_sim_grm(Path(args.output), seed=0, log=print)
    if not args.report_only:
        run_all(args, grm_dir)
    report(args, grm_dir)


if __name__ == '__main__':
    main()
