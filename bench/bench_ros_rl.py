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

That is the UPPER BOUND setting (``--setting upper-bound``, the default: the peg's and hole's
poses from the simulator, 10 demonstrations, a ROS-free offline stage). ``--setting product``
runs the product's own loop instead, the README's path on the simulated robot, every step
the command a user types (issue 28 item 7):

1. ``ros2 launch robodopamine_ros franka_insertion.launch.py use_sim:=true mode:=collect
   autopilot:=expert bag:=OUT/demo1``: ONE demonstration by the scripted expert, on the
   default layout, recorded by recorder_node (stopped with Ctrl-C once the expert succeeded;
   ``robodopamine demo-info`` must say it succeeded);
2. ``robodopamine keyframes propose OUT/demo1`` and ``robodopamine adapt OUT/demo1 -o
   OUT/grm1`` (the compact GRM, one-shot; shared by the seeds, as bench_rl.py's GRM is);
3. per seed, ``... mode:=train model_dir:=OUT/grm1 demos:=OUT/demo1 observation:=cameras
   success:=either operator:=scripted seed:=S real_time_factor:=F``: rl_agent_node learns from
   scratch with the three 64x48 views through the frozen encoder of OUT/grm1 (imitation and
   offline RL on the one demonstration, then online), success from the GRM's detector
   overruled by sim_operator_node's labels, which also takes over on stalls; N online episodes
   on the simulation clock, each checkpoint (every 10 episodes) copied as it appears;
4. ``... mode:=eval model_dir:=OUT/grm1 observation:=cameras`` on the checkpoint at episode N:
   ``eval_episodes`` (50) episodes on the simulator's evaluation layouts (the ROS-free
   benchmark's), scored by the simulator's ground truth (``ground_truth`` in the eval
   episodes.csv) beside the detector's verdict. The curve at episodes 10, 20, ..., N is
   ``evaluate_checkpoint`` of the copies on the fixed layouts (20; 50 at 50, 100, N), as
   bench_rl.py scores its runs (``--no-curve`` skips it).

Deviations from the README's defaults, each for the comparison with bench_rl.py's ROS-free
``product, 1 demo: Dopamine-RL, Cal-QL + operator`` runs (config/sim_insertion.yaml otherwise,
written to OUT/params*.yaml): the simulated cameras render 64x48 (the ROS-free run's images;
``--camera-size``), the learner takes one update per control step (``updates_per_step`` 1: on
a simulation clock "as many as it manages" depends on the machine's load) with batch 256
(bench_rl's), and writes a checkpoint every 10 episodes; ``objects`` is 0 (the yaml's 2 is
refused with observation:=cameras). The figures go beside the ROS-free ones
(``--rosfree-output``: bench_rl.py's output, whose finished seeds give the spread).
Resumable: every stage is skipped when done, the training launch resumes from its checkpoint.
Two processes may share the seeds (``--only-seed``) once the first has adapted the GRM; a run
over all seeds then writes the figures from what they left.

  bash -c 'source scripts/env.sh && use_workspace && $ROS_VENV/bin/python \
    bench/bench_ros_rl.py --setting product --seeds 3 --episodes 150 \
    --rosfree-output .work/bench_rl --output .work/ros_rl_product'
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
import results
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


def snapshot(ckpt, snaps):
    """Copy ckpt/checkpoint.pt to snaps/ep<episodes done>/; return the episodes done."""
    done = episodes_done(ckpt / 'checkpoint.pt')
    (snaps / f'ep{done}').mkdir(exist_ok=True)
    shutil.copy(ckpt / 'checkpoint.pt', snaps / f'ep{done}' / 'checkpoint.pt')
    return done


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
                    seen, done = mtime, snapshot(ckpt, snaps)
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


def evaluate_snapshots(snapshots, episodes, config=None):
    from robodopamine_ros.rl.sim_training import evaluate_checkpoint, TrainConfig

    config = config or TrainConfig(reward='sparse', observation='robot')
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


# --- the product's setting: the README's path through ros2 launch (issue 28 item 7) ---

PRODUCT = 'product, 1 demo (README path through ros2 launch)'
# bench_rl.py's variant trained under the same detector rule: the rule until 2026-12-07 (3
# ticks), or the hold of 1 s (10 ticks at grm_node's 10 Hz)
ROSFREE_PRODUCT = {3: 'product, 1 demo: Dopamine-RL, Cal-QL + operator',
                   10: 'product, 1 demo: Dopamine-RL, Cal-QL + operator, detector holds 1 s'}
LAUNCH = ['ros2', 'launch', 'robodopamine_ros', 'franka_insertion.launch.py', 'use_sim:=true',
          'joy:=false', 'respawn:=false']


def cli_output(*args, log):
    """Run `robodopamine ...`; return its output (also appended to log)."""
    result = subprocess.run([sys.executable, '-m', 'robodopamine_ros.commands.cli', *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    with open(log, 'a') as out:
        out.write(result.stdout)
    if result.returncode:
        raise RuntimeError(f'robodopamine {" ".join(map(str, args))} failed '
                           f'({result.returncode}): see {log}')
    return result.stdout


def product_params(path, args, success_hold=None, **agent):
    """
    config/sim_insertion.yaml with the comparison's few changes (module docstring).

    success_hold: grm_node's detector hold (GRM ticks at its rate) instead of the config's
    (None: the config's).
    """
    import yaml

    params = yaml.safe_load((REPO / 'robodopamine_ros/config/sim_insertion.yaml').read_text())
    if success_hold is not None:
        grm = params['grm_node']['ros__parameters']
        grm['success_hold_s'] = success_hold / grm['rate']
    width, height = args.camera_size
    params['sim_robot_node']['ros__parameters'].update(image_width=width, image_height=height)
    # objects 0: observation:=cameras refuses the yaml's 2 (the policy sees no object poses)
    params['rl_agent_node']['ros__parameters'].update(
        objects=0, updates_per_step=1, batch_size=256, checkpoint_every=args.checkpoint_every,
        **agent)
    for name in ('pretrain_updates', 'offline_updates'):
        if getattr(args, name) is not None:
            params['rl_agent_node']['ros__parameters'][name] = getattr(args, name)
    path.write_text(yaml.safe_dump(params))
    return path


def config_hold(path=None):
    """Return grm_node's detector hold in ticks in a params file (default: sim_insertion.yaml)."""
    import yaml
    from robodopamine_ros.reward.success import ticks_for_hold

    params = yaml.safe_load(Path(path or REPO / 'robodopamine_ros/config/sim_insertion.yaml')
                            .read_text())['grm_node']['ros__parameters']
    if 'success_hold' in params:   # a params file written before the hold was in seconds
        return int(params['success_hold'])
    return ticks_for_hold(params['rate'], params['success_hold_s'])


def start_launch(arguments, log_path, domain):
    """Start `ros2 launch ... arguments` in its own process group, output to log_path."""
    env = dict(os.environ, OMP_NUM_THREADS='1', ROS_DOMAIN_ID=str(domain),
               ROS_LOCALHOST_ONLY='1')
    with open(log_path, 'a') as log:
        log.write(f'\n$ {" ".join(LAUNCH + arguments)}\n')
        log.flush()
        return subprocess.Popen(LAUNCH + arguments, stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)


def stop_launch(process, timeout=40.0):
    """Ctrl-C the launch (its process group), as a user does; SIGKILL if it hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def collect_demo(out, args):
    """README step 1: one demonstration by the scripted expert, recorded by recorder_node."""
    bag, log = out / 'demo1', out / 'collect.log'
    if (bag / 'metadata.yaml').is_file() and 'demonstration: succeeded' in cli_output(
            'demo-info', str(bag), log=out / 'demo_info.log'):
        return bag
    if bag.exists():   # a partial recording: recorder_node refuses an existing bag
        shutil.rmtree(bag)
    print('product: mode:=collect autopilot:=expert (one demonstration)', flush=True)
    start = log.stat().st_size if log.is_file() else 0
    process = start_launch(['mode:=collect', 'autopilot:=expert', f'bag:={bag}',
                            f'params_file:={product_params(out / "params_collect.yaml", args)}',
                            f'log_dir:={out / "logs_collect"}'], log, args.domain)
    t0 = time.perf_counter()
    try:
        while True:
            text = log.read_text(errors='replace')[start:]
            if 'the expert succeeded' in text:
                break
            if 'the expert did not succeed' in text or process.poll() is not None:
                raise RuntimeError(f'collect: the expert did not succeed or the launch ended: '
                                   f'see {log}')
            if time.perf_counter() - t0 > 300:
                raise TimeoutError(f'collect: no expert success after 300 s: see {log}')
            time.sleep(1.0)  # polling another process's log; not synchronization
        # the success is published once: let the recorder take it and a few states after it
        time.sleep(3.0)
    finally:
        stop_launch(process)
    info = cli_output('demo-info', str(bag), log=out / 'demo_info.log')
    if 'demonstration: succeeded' not in info:
        raise RuntimeError(f'collect: demo-info does not say the demonstration succeeded:\n'
                           f'{info[-2000:]}')
    print(f'product: demonstration recorded in {time.perf_counter() - t0:.0f} s: {bag}',
          flush=True)
    return bag


def adapt_grm(out, bag, args):
    """README step 2: keyframes, then the compact GRM adapted one-shot on the demonstration."""
    grm = out / 'grm1'
    if (grm / 'model.safetensors').is_file() and not (out / 'grm1.partial').exists():
        return grm
    print('product: robodopamine keyframes propose + adapt', flush=True)
    t0 = time.perf_counter()
    cli_output('keyframes', 'propose', str(bag), '--force', log=out / 'adapt.log')
    steps = [] if args.adapt_steps is None else ['--steps', str(args.adapt_steps)]
    text = cli_output('adapt', str(bag), '-o', str(grm), *steps, log=out / 'adapt.log')
    start = [line for line in text.splitlines() if line.startswith('start: ')]
    print(f'product: GRM adapted in {time.perf_counter() - t0:.0f} s '
          f'({start[0] if start else "start not said"})', flush=True)
    return grm


def product_train(out, seed, bag, grm, args):
    """README step 3 for one seed: mode:=train through the launch until N episodes are done."""
    folder = out / f'seed{seed}'
    ckpt, snaps = folder / 'checkpoints', folder / 'snapshots'
    snaps.mkdir(parents=True, exist_ok=True)
    stats_file = folder / 'wall.json'
    stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {
        'wall_s': 0.0, 'episode_wall_s': [], 'offline_wall_s': None}
    done = episodes_done(ckpt / 'checkpoint.pt') if (ckpt / 'checkpoint.pt').is_file() else 0
    if done >= args.episodes:
        return {int(p.name[2:]): p for p in snaps.iterdir()}, stats
    print(f'product seed {seed}: mode:=train from episode {done} to {args.episodes} at '
          f'real-time factor {args.real_time_factor}', flush=True)
    params = product_params(folder / 'params_train.yaml', args)
    # the scripted operator's labels: their own randomness per seed
    import yaml
    document = yaml.safe_load(params.read_text())
    document['sim_operator_node'] = {'ros__parameters': {'seed': seed}}
    params.write_text(yaml.safe_dump(document))
    csv_path = folder / 'logs' / 'episodes.csv'
    rows = min(len(training_log(csv_path)), done)   # a resume drops the rows after `done`
    process = start_launch([
        'mode:=train', f'model_dir:={grm}', f'demos:={bag}', 'observation:=cameras',
        'success:=either', 'operator:=scripted', f'seed:={1 + 1000 * seed}',
        f'checkpoint_dir:={ckpt}', f'log_dir:={folder / "logs"}', f'params_file:={params}',
        f'real_time_factor:={args.real_time_factor}'], folder / 'launch.log',
        args.domain + 1 + seed)
    t0 = last = time.perf_counter()
    seen = (ckpt / 'checkpoint.pt').stat().st_mtime if (ckpt / 'checkpoint.pt').is_file() \
        else None
    try:
        while done < args.episodes:
            if process.poll() is not None:
                raise RuntimeError(f'the launch exited ({process.returncode}) at episode '
                                   f'{done}: see {folder / "launch.log"}')
            if time.perf_counter() - t0 > args.timeout:
                raise TimeoutError(f'the training launch is at episode {done} after '
                                   f'{args.timeout} s')
            time.sleep(2.0)  # polling files another process writes; not synchronization
            now = len(training_log(csv_path))
            if now > rows:
                if stats['offline_wall_s'] is None and rows == 0:
                    # imitation + offline RL, then the first online episode
                    stats['offline_wall_s'] = time.perf_counter() - t0
                else:
                    stats['episode_wall_s'] += [(time.perf_counter() - last) / (now - rows)] * (
                        now - rows)
                rows, last = now, time.perf_counter()
            if (ckpt / 'checkpoint.pt').is_file():
                mtime = (ckpt / 'checkpoint.pt').stat().st_mtime
                if mtime != seen:
                    seen, done = mtime, snapshot(ckpt, snaps)
                    print(f'product seed {seed}: at episode {done} '
                          f'({time.perf_counter() - t0:.0f} s)', flush=True)
    finally:
        stop_launch(process)
        stats['wall_s'] += time.perf_counter() - t0
        stats_file.write_text(json.dumps(stats))
    return {int(p.name[2:]): p for p in snaps.iterdir()}, stats


def product_eval(out, seed, grm, snapshot, args):
    """README step 4: mode:=eval on a checkpoint; the simulator's ground-truth success rate."""
    hold = args.eval_success_hold
    # the folder names the detector hold in force (the config's unless asked): a cached
    # evaluation is never reused under another rule
    folder = out / f'seed{seed}' / f'eval_ep{snapshot.name[2:]}_hold{hold or config_hold()}'
    cache = folder / 'eval.json'
    if cache.is_file() and json.loads(cache.read_text())['episodes'] == args.eval_episodes:
        return json.loads(cache.read_text())
    if folder.exists():
        shutil.rmtree(folder)
    (folder / 'checkpoint').mkdir(parents=True)
    shutil.copy(snapshot / 'checkpoint.pt', folder / 'checkpoint' / 'checkpoint.pt')
    print(f'product seed {seed}: mode:=eval on {snapshot.name}, {args.eval_episodes} episodes',
          flush=True)
    params = product_params(folder / 'params_eval.yaml', args, success_hold=hold,
                            eval_episodes=args.eval_episodes)
    process = start_launch([
        'mode:=eval', f'model_dir:={grm}', 'observation:=cameras',
        f'checkpoint_dir:={folder / "checkpoint"}', f'log_dir:={folder / "logs"}',
        f'params_file:={params}', f'real_time_factor:={args.real_time_factor}'],
        folder / 'launch.log', args.domain + 1 + seed)
    t0 = time.perf_counter()
    try:
        process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f'mode:=eval did not end in {args.timeout} s: see {folder}')
    finally:
        stop_launch(process)
    logs = sorted((folder / 'logs').glob('eval_*/episodes.csv'))
    rows = training_log(logs[-1]) if logs else []
    if len(rows) < args.eval_episodes:
        raise RuntimeError(f'mode:=eval logged {len(rows)} of {args.eval_episodes} episodes: '
                           f'see {folder / "launch.log"}')
    truth = [float(r['ground_truth']) for r in rows if r.get('ground_truth') not in ('', None)]
    result = {'episodes': len(rows), 'wall_s': time.perf_counter() - t0,
              'ground_truth': float(np.mean(truth)) if truth else None, 'judged': len(truth),
              'detector': float(np.mean([flag(r['success']) for r in rows]))}
    cache.write_text(json.dumps(result))
    return result


def flag(text):
    """A CSV cell of a boolean column (True / 1 / 1.0) as a bool."""
    return str(text).strip() in ('True', 'true', '1', '1.0')


def evaluate_camera_snapshots(snapshots, episodes, grm, args):
    """The curve: evaluate_checkpoint of each copy on bench_rl.py's fixed layouts."""
    from robodopamine_ros.rl.sim_training import TrainConfig

    config = TrainConfig(reward='sparse', observation='cameras', image_encoder='grm',
                         grm_dir=str(grm), image_size=tuple(args.camera_size))
    return evaluate_snapshots(snapshots, episodes, config)


def rosfree_product(output, episodes, variant):
    """
    Return bench_rl.py's finished ROS-free runs of a variant: {seed: {episode: success}}.

    From the run folders, then the summaries kept in bench/runs/bench_rl/.
    """
    if output is None:
        return {}
    from bench_rl import slug

    curves = {}
    # the run folders, then the summaries bench_rl.py keeps in the repository (bench/runs/)
    kept = REPO / 'bench' / 'runs' / 'bench_rl' / slug(variant)
    paths = [(int(p.parent.name[4:]), p) for p in sorted(
        (Path(output) / slug(variant)).glob('seed*/summary.json'))] + \
        [(int(p.stem[4:]), p) for p in sorted(kept.glob('seed*.json'))]
    for seed, path in paths:
        summary = json.loads(path.read_text())
        if seed not in curves and summary['config']['episodes'] == episodes:
            curves[seed] = {int(e): float(r) for e, r, _ in summary['eval']}
    return curves


def run_product(args, out):
    """The README's path through ros2 launch, per seed; figures beside the ROS-free ones."""
    if args.results:
        results.RESULTS = Path(args.results).resolve()
    bag = collect_demo(out, args)
    grm = adapt_grm(out, bag, args)
    seeds = [args.only_seed] if args.only_seed is not None else range(args.seeds)
    rows = []
    for seed in seeds:
        snapshots, stats = product_train(out, seed, bag, grm, args)
        last = min(k for k in snapshots if k >= args.episodes)   # N, unless not a multiple
        final = product_eval(out, seed, grm, snapshots[last], args)
        curve = {} if args.no_curve else evaluate_camera_snapshots(snapshots, args.episodes,
                                                                   grm, args)
        episodes = [r for r in training_log(out / f'seed{seed}' / 'logs' / 'episodes.csv')
                    if float(r['episode']) <= last]
        rows.append({'seed': seed, 'eval': final, 'curve': curve, 'stats': stats,
                     'train_success': float(np.mean([flag(r['success']) for r in episodes]))
                     if episodes else None, 'steps': sum(int(float(r['steps']))
                                                         for r in episodes)})
        print(f'product seed {seed}: mode:=eval ground truth {final["ground_truth"]} '
              f'(detector {final["detector"]:.2f}); curve {curve}', flush=True)
    (out / 'rows.json').write_text(json.dumps(rows, indent=1, default=float))
    if args.only_seed is not None:
        return
    trained = sorted({config_hold(out / f'seed{r["seed"]}' / 'params_train.yaml')
                      for r in rows})
    variant = ROSFREE_PRODUCT.get(trained[0], ROSFREE_PRODUCT[3])
    # the keyframes the GRM was adapted on and the detector rule of the training, in the name:
    # runs under other ones never share rows
    from robodopamine_ros.data.keyframes import KEYFRAME_FILE

    keyframes = json.loads((out / 'demo1' / KEYFRAME_FILE).read_text())
    n, name = args.episodes, (f'{PRODUCT}, {len(keyframes)} keyframe segments, trained with '
                              f'the detector holding {"/".join(map(str, trained))} ticks, '
                              f'{len(rows)} seeds x {args.episodes} episodes')
    free = rosfree_product(args.rosfree_output, n, variant)
    free_finals = [c[n] for c in free.values() if n in c]
    truths = [r['eval']['ground_truth'] for r in rows]
    beside = (f'ROS-free ({variant}, bench_rl.py, 50 layouts): per seed '
              f'{rates(free_finals)}' if free_finals
              else f'ROS-free run of {n} episodes not finished')
    if free_finals:
        low, high = min(free_finals), max(free_finals)
        inside = 'yes' if low <= np.median(truths) <= high else 'no'
        beside += f'; within the ROS-free seed spread [{low:.2f}, {high:.2f}]: {inside}'
    detector = rates([r['eval']['detector'] for r in rows])
    held = f' (eval with the detector holding {args.eval_success_hold} ticks)' \
        if args.eval_success_hold else ''
    record('rl through ROS', f"{name}: mode:=eval success by the simulator's ground truth at "
           f'episode {n}{held} (median of seeds)', round(float(np.median(truths)), 3), '',
           f'per seed {rates(truths)}; {args.eval_episodes} eval layouts; the detector\'s '
           f'verdict {detector}; {beside}')
    if not args.no_curve:
        curve_text = '; '.join(f'seed {r["seed"]}: ' + '/'.join(
            f'{r["curve"][k]:.2f}' for k in sorted(r['curve'])) for r in rows)
        finals = [r['curve'].get(n, float('nan')) for r in rows]
        free_text = '; '.join(f'seed {s}: ' + '/'.join(f'{c[k]:.2f}' for k in sorted(c))
                              for s, c in free.items())
        record('rl through ROS', f'{name}: deterministic success at episode {n}, '
               'evaluate_checkpoint of the checkpoints (median of seeds)',
               round(float(np.median(finals)), 3), '',
               f'per seed {rates(finals)}; curve at episodes 10, 20, ..., {n} (20 layouts; '
               f'50 at multiples of 50 and at {n}): {curve_text}; ROS-free curves at 0, 10, '
               f'..., {n}: {free_text or "none finished"}')
    record('rl through ROS', f'{name}: training-episode success (detector + operator labels), '
           'mean over seeds', round(float(np.mean([r['train_success'] for r in rows])), 3), '',
           'with exploration noise')
    per_episode = [w for r in rows for w in r['stats']['episode_wall_s']]
    steps_per_s = sum(r['steps'] for r in rows) / max(sum(r['stats']['wall_s'] for r in rows),
                                                      1e-9)
    offline_s = np.mean([r['stats']['offline_wall_s'] or 0.0 for r in rows])
    eval_s = np.mean([r['eval']['wall_s'] for r in rows]) / args.eval_episodes
    record('rl through ROS', f'{name}: wall time per online episode through the graph',
           round(float(np.mean(per_episode)), 1), 's',
           f'real-time factor {args.real_time_factor}; {steps_per_s:.2f} control steps/s over '
           f'the training launches; imitation + offline stage {offline_s:.0f} s; mode:=eval '
           f'{eval_s:.1f} s per episode')


def rates(values):
    """'0.50, 0.62, ...' (two decimals)."""
    return ', '.join(f'{v:.2f}' for v in values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--setting', choices=('upper-bound', 'product'), default='upper-bound',
                        help="upper-bound (object poses, 10 demos, ROS-free offline stage) or "
                             "product (the README's path: 1 demo, cameras, operator)")
    parser.add_argument('--grm-dir', help='upper-bound: compact GRM folder (robodopamine adapt)')
    parser.add_argument('--output', default=None,
                        help='.work/ros_rl (upper-bound), .work/ros_rl_product (product)')
    parser.add_argument('--seeds', type=int, default=None, help='2 (upper-bound), 3 (product)')
    parser.add_argument('--only-seed', type=int, default=None,
                        help='run this seed only (two processes can share the seeds)')
    parser.add_argument('--no-ros', action='store_true',
                        help='only the offline stage and the ROS-free run (figures not written)')
    parser.add_argument('--episodes', type=int, default=None,
                        help='online episodes: 60 (upper-bound), 150 (product)')
    parser.add_argument('--real-time-factor', type=float, default=2.0)
    parser.add_argument('--timeout', type=float, default=None,
                        help='s per launch: 3600 (upper-bound), 4 h (product)')
    product = parser.add_argument_group('product setting')
    product.add_argument('--rosfree-output', default=None,
                         help="bench_rl.py's output, for the ROS-free figures beside ours")
    product.add_argument('--eval-episodes', type=int, default=50,
                         help='mode:=eval episodes at the last episode (50)')
    product.add_argument('--no-curve', action='store_true',
                         help='skip evaluate_checkpoint of the checkpoints (the curve)')
    product.add_argument('--camera-size', type=int, nargs=2, default=(64, 48),
                         metavar=('W', 'H'), help="the simulated cameras' size (64 48)")
    product.add_argument('--checkpoint-every', type=int, default=10)
    product.add_argument('--eval-success-hold', type=int, default=None,
                         help="mode:=eval with grm_node's success_hold at this many ticks "
                              "(default: the config's, as in training)")
    product.add_argument('--adapt-steps', type=int, default=None,
                         help="robodopamine adapt --steps (default: adapt's, 300)")
    product.add_argument('--pretrain-updates', type=int, default=None,
                         help="rl_agent_node's (default: config/sim_insertion.yaml's)")
    product.add_argument('--offline-updates', type=int, default=None,
                         help="rl_agent_node's (default: config/sim_insertion.yaml's)")
    product.add_argument('--domain', type=int, default=200,
                         help='ROS_DOMAIN_ID of the collect launch; seed s uses domain + 1 + s')
    product.add_argument('--results', default=None,
                         help='write the figures to this file instead of bench/RESULTS.md '
                              '(a smoke run)')
    args = parser.parse_args()
    product_setting = args.setting == 'product'
    for name, upper, ours in (('output', '.work/ros_rl', '.work/ros_rl_product'),
                              ('seeds', 2, 3), ('episodes', 60, 150),
                              ('timeout', 3600.0, 4 * 3600.0)):
        if getattr(args, name) is None:
            setattr(args, name, ours if product_setting else upper)
    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if product_setting:
        run_product(args, out)
        return
    if not args.grm_dir:
        parser.error('--setting upper-bound needs --grm-dir')
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
