# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL through the ROS graph vs the ROS-free run, at equal episodes (issue 13, item 6).

Per seed, both runs start from the SAME learner: the ROS-free offline stage (10 expert
demonstrations, imitation, offline Cal-QL; ``robodopamine train --episodes 0 --observation
robot``) writes a checkpoint whose state is what rl_agent_node sees on a robot (joint positions,
hand pose, the peg's and hole's poses: robot/state.py). Then, with the same learner settings
(the checkpoint's AgentConfig, one update per control step, the same GRM ticking every step):

- ROS-free: ``robodopamine train`` continues it for N online episodes in-process;
- ROS: ``ros2 launch robodopamine_ros franka_insertion.launch.py use_sim:=true mode:=train`` with
  the checkpoint in checkpoint_dir: sim_robot_node (64 x 48 cameras, as the GRM's input in the
  ROS-free run), grm_node, shaping_node, rl_agent_node (objects 2, updates_per_step 1,
  checkpoint every 10 episodes), on the simulation clock at ``--real-time-factor`` x real time.
  Episodes end on the GRM's success detection, as on a robot. This script copies each
  checkpoint as it appears and stops the launch after N episodes.

Both are scored the same way, offline: deterministic-policy success of the checkpoint at
episodes 0, 10, ..., N on the fixed evaluation layouts (20; 50 at 50 and at N), the ROS-free
run's own evaluations for it, ``evaluate_checkpoint`` for the ROS run's copies. Resumable: run
it again on the same output and it continues (the launch resumes from its checkpoint).

Run (after scripts/test.sh has built the workspace):
  bash -c 'source scripts/env.sh && use_workspace && $ROS_VENV/bin/python \
    bench/bench_ros_rl.py --grm-dir GRM --seeds 2 --output .work/ros_rl'
"""

import argparse
import csv
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
from results import record

REPO = Path(__file__).resolve().parents[1]
AGENT = ['--batch', '256', '--cql-batch', '32', '--agent', 'actor_ema=0.005',
         'online_actor_delay=1000']


def cli(*args, log):
    """Run `robodopamine ...` in this interpreter, output appended to log."""
    with open(log, 'a') as out:
        subprocess.run([sys.executable, '-m', 'robodopamine_ros.commands.cli', *args],
                       stdout=out, stderr=subprocess.STDOUT, check=True,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))


def offline(out, seed, grm_dir):
    folder = out / f'offline_seed{seed}'
    if not (folder / 'checkpoint.pt').is_file():
        print(f'seed {seed}: offline stage (ROS-free, observation robot)', flush=True)
        cli('train', '-o', str(folder), '--observation', 'robot', '--episodes', '0',
            '--grm-dir', str(grm_dir), '--grm-every', '1', '--seed', str(seed), *AGENT,
            log=out / f'offline_seed{seed}.log')
    return folder / 'checkpoint.pt'


def ros_free(out, seed, grm_dir, episodes, checkpoint):
    folder = out / f'rosfree_seed{seed}'
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / 'checkpoint.pt').is_file():
        shutil.copy(checkpoint, folder / 'checkpoint.pt')
    if not (folder / 'summary.json').is_file() or json.loads(
            (folder / 'summary.json').read_text())['config']['episodes'] != episodes:
        print(f'seed {seed}: ROS-free online run, {episodes} episodes', flush=True)
        t0 = time.perf_counter()
        cli('train', '-o', str(folder), '--observation', 'robot', '--episodes', str(episodes),
            '--grm-dir', str(grm_dir), '--grm-every', '1', '--seed', str(seed), *AGENT,
            log=out / f'rosfree_seed{seed}.log')
        print(f'seed {seed}: ROS-free run took {time.perf_counter() - t0:.0f} s', flush=True)
    summary = json.loads((folder / 'summary.json').read_text())
    return {int(e): float(r) for e, r, _ in summary['eval']}, summary


def episodes_done(checkpoint):
    import torch

    state = torch.load(checkpoint, map_location='cpu', weights_only=True)
    return int(state['counters']['episodes'])


def params_file(folder, seed):
    import yaml

    params = yaml.safe_load((REPO / 'robodopamine_ros/config/sim_insertion.yaml').read_text())
    # training layouts of the simulated robot: seeds apart from the demos' and the evaluation's
    params['sim_robot_node']['ros__parameters'].update(
        image_width=64, image_height=48, seed=700_000 + 1000 * seed)
    params['rl_agent_node']['ros__parameters'].update(
        objects=2, updates_per_step=1, checkpoint_every=10, pretrain_updates=0,
        offline_updates=0)
    path = folder / 'params.yaml'
    path.write_text(yaml.safe_dump(params))
    return path


def ros_run(out, seed, grm_dir, episodes, checkpoint, factor, timeout_s):
    """Run the graph until `episodes` are done; returns {episode: snapshot folder}, stats."""
    folder = out / f'ros_seed{seed}'
    ckpt, snaps = folder / 'checkpoints', folder / 'snapshots'
    ckpt.mkdir(parents=True, exist_ok=True)
    snaps.mkdir(exist_ok=True)
    if not (ckpt / 'checkpoint.pt').is_file():
        shutil.copy(checkpoint, ckpt / 'checkpoint.pt')
    (snaps / 'ep0').mkdir(exist_ok=True)
    shutil.copy(checkpoint, snaps / 'ep0' / 'checkpoint.pt')
    stats_file = folder / 'wall.json'
    stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {'wall_s': 0.0}
    done = episodes_done(ckpt / 'checkpoint.pt')
    if done < episodes:
        print(f'seed {seed}: ROS run from episode {done} to {episodes} at real-time factor '
              f'{factor}', flush=True)
        command = ['ros2', 'launch', 'robodopamine_ros', 'franka_insertion.launch.py',
                   'use_sim:=true', 'mode:=train', f'model_dir:={grm_dir}',
                   f'checkpoint_dir:={ckpt}', f'log_dir:={folder / "logs"}',
                   f'params_file:={params_file(folder, seed)}',
                   f'real_time_factor:={factor}', 'joy:=false', 'respawn:=false']
        env = dict(os.environ, OMP_NUM_THREADS='1',
                   ROS_DOMAIN_ID=str(150 + seed), ROS_LOCALHOST_ONLY='1')
        t0 = time.perf_counter()
        with open(folder / 'launch.log', 'a') as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
        seen = (ckpt / 'checkpoint.pt').stat().st_mtime
        try:
            while done < episodes:
                if process.poll() is not None:
                    raise RuntimeError(f'the launch exited ({process.returncode}) at episode '
                                       f'{done}: see {folder / "launch.log"}')
                if time.perf_counter() - t0 > timeout_s:
                    raise TimeoutError(f'the ROS run is at episode {done} after {timeout_s} s')
                time.sleep(2.0)  # polling files another process writes; not synchronization
                mtime = (ckpt / 'checkpoint.pt').stat().st_mtime
                if mtime != seen:
                    seen = mtime
                    done = episodes_done(ckpt / 'checkpoint.pt')
                    (snaps / f'ep{done}').mkdir(exist_ok=True)
                    shutil.copy(ckpt / 'checkpoint.pt', snaps / f'ep{done}' / 'checkpoint.pt')
                    print(f'seed {seed}: ROS run at episode {done} '
                          f'({time.perf_counter() - t0:.0f} s)', flush=True)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            stats['wall_s'] += time.perf_counter() - t0
            stats_file.write_text(json.dumps(stats))
    return {int(p.name[2:]): p for p in snaps.iterdir()}, stats


def evaluate_snapshots(snapshots, episodes):
    from robodopamine_ros.rl.sim_training import evaluate_checkpoint, TrainConfig

    config = TrainConfig(reward='sparse', observation='robot')
    curve = {}
    for k in sorted(snapshots):
        cache = snapshots[k] / 'eval.json'
        layouts = config.final_eval_episodes if k and (
            k % config.final_eval_every == 0 or k == episodes) else config.eval_episodes
        if cache.is_file():
            curve[k] = json.loads(cache.read_text())['success']
            continue
        rate, _ = evaluate_checkpoint(snapshots[k], config, layouts)
        cache.write_text(json.dumps({'success': rate, 'layouts': layouts}))
        curve[k] = rate
    return curve


def training_log(path):
    """Rows of an episodes.csv (training episodes: steps, success)."""
    if not path.is_file():
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def auc(curve, episodes):
    xs = sorted(k for k in curve if k <= episodes)
    return float(np.trapezoid([curve[k] for k in xs], xs) / max(xs[-1] - xs[0], 1))


def plot(curves, path, episodes):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, style in (('ROS-free', '-'), ('through the ROS graph', '--')):
        for seed, curve in curves[name].items():
            xs = sorted(curve)
            ax.plot(xs, [curve[k] for k in xs], style, marker='o', markersize=3,
                    color=f'C{seed}', label=f'{name}, seed {seed}')
    ax.set_xlabel('online episodes')
    ax.set_ylabel('deterministic success')
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(0, episodes)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--grm-dir', required=True, help='compact GRM folder (robodopamine adapt)')
    parser.add_argument('--output', default='.work/ros_rl')
    parser.add_argument('--seeds', type=int, default=2)
    parser.add_argument('--only-seed', type=int, default=None,
                        help='run this seed only (two processes can share the seeds)')
    parser.add_argument('--no-ros', action='store_true',
                        help='only the offline stage and the ROS-free run (figures not written)')
    parser.add_argument('--episodes', type=int, default=60)
    parser.add_argument('--real-time-factor', type=float, default=2.0)
    parser.add_argument('--timeout', type=float, default=3600.0, help='s per ROS run')
    args = parser.parse_args()
    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    grm_dir = Path(args.grm_dir).resolve()
    curves = {'ROS-free': {}, 'through the ROS graph': {}}
    rows = []
    seeds = [args.only_seed] if args.only_seed is not None else range(args.seeds)
    for seed in seeds:
        checkpoint = offline(out, seed, grm_dir)
        free, summary = ros_free(out, seed, grm_dir, args.episodes, checkpoint)
        if args.no_ros:
            continue
        snapshots, stats = ros_run(out, seed, grm_dir, args.episodes, checkpoint,
                                   args.real_time_factor, args.timeout)
        ros = evaluate_snapshots(snapshots, args.episodes)
        curves['ROS-free'][seed], curves['through the ROS graph'][seed] = free, ros
        episodes = training_log(out / f'ros_seed{seed}' / 'logs' / 'episodes.csv')
        steps = sum(int(r['steps']) for r in episodes)
        offline_wall = json.loads((checkpoint.parent / 'summary.json').read_text())['wall_time_s']
        rows.append({'seed': seed, 'free': free, 'ros': ros,
                     'free_wall': summary['wall_time_s'] - offline_wall,
                     'ros_wall': stats['wall_s'], 'ros_steps': steps,
                     'ros_train_success': np.mean([r['success'] == 'True' for r in episodes]),
                     'free_train_success': np.mean([s for _, s, _ in
                                                    summary['training_success']])})
        print(f'seed {seed}: ROS-free {free}\nseed {seed}: ROS     {ros}', flush=True)
    if args.no_ros or args.only_seed is not None:
        return  # figures only from a run over all seeds
    plot(curves, REPO / 'bench' / 'ros_rl_success.png', args.episodes)
    (out / 'rows.json').write_text(json.dumps(rows, indent=1, default=float))
    n = args.episodes
    for label, key in (('ROS-free', 'free'), ('through the ROS graph', 'ros')):
        finals = [r[key].get(n, float('nan')) for r in rows]
        curve_text = '; '.join(f'seed {r["seed"]}: ' + '/'.join(
            f'{r[key][k]:.2f}' for k in sorted(r[key])) for r in rows)
        record('rl through ROS', f'{label}: deterministic success at episode {n} (median of '
               f'{len(rows)} seeds)', round(float(np.median(finals)), 3), '',
               f'per seed {", ".join(f"{v:.2f}" for v in finals)}; curve at episodes 0, 10, '
               f'..., {n} ({curve_text}); AUC {np.median([auc(r[key], n) for r in rows]):.3f}; '
               f'bench/ros_rl_success.png')
    record('rl through ROS', 'training-episode success, ROS (GRM-detected) vs ROS-free '
           '(simulator), mean over seeds',
           round(float(np.mean([r['ros_train_success'] for r in rows])), 3), '',
           f'ROS-free {np.mean([r["free_train_success"] for r in rows]):.2f}')
    rate = sum(r['ros_steps'] for r in rows) / max(sum(r['ros_wall'] for r in rows), 1e-9)
    record('rl through ROS', 'control steps per wall-clock second through the graph',
           round(rate, 2),
           'steps/s', f'real-time factor {args.real_time_factor} (10 Hz x factor asked); '
           f'wall {sum(r["ros_wall"] for r in rows):.0f} s ROS vs '
           f'{sum(r["free_wall"] for r in rows):.0f} s ROS-free for the online episodes')


if __name__ == '__main__':
    main()
