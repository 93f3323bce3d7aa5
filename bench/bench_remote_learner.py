# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
One learner fed by several arms over DDS: bytes on the wire, ingest, the weights' age (issue 32).

1. Bytes (``--only bytes``): ``pack_weights`` of the acting weights of each policy the product
   trains (state; cameras with the frozen GRM encoder, the default; the CNN; the fine-tuned GRM
   encoder; the encoder is the GRM the package ships), and ``pack_episode`` of a 200-step
   episode of each observation: what one PolicyWeights message and one SubmitEpisode request
   carry.
2. Ingest: learner_node runs as a process of its own (``ros2 run robodopamine_ros
   learner_node``: learning as fast as it can on the episodes it gets, batch 256, weights at
   most once a second, a checkpoint every 50 episodes), and 1, 2 and 4 simulated actors, each
   a process of its own, send 200-step episodes through SubmitEpisode as rl_agent_node's
   RemoteActor does (one in flight per actor; an episode packed with a new uid before each
   send) for ``--seconds``. The figure: transitions acknowledged per second, all actors
   together, over the window in which all of them were sending.
3. The weights' age at the actor: each actor keeps the newest PolicyWeights' version; at each
   acknowledgement, the learner's update count in the answer less that version (learner
   updates behind), p50 / p99 over all acknowledgements after the first weights.

The observations are random (the learner's speed does not depend on them); no simulator runs,
so the figures are the learner's and the middleware's, not a robot's episode rate. The machine
is this one: learner, actors and DDS share its cores.

Run (after scripts/test.sh built the workspace):
  bash -c 'source scripts/env.sh && use_workspace && $ROS_VENV/bin/python \\
    bench/bench_remote_learner.py [--actors 1 2 4] [--seconds 60] [--observation state]'
"""

import argparse
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from results import record

STEPS = 200
DOMAIN = 232   # apart from the tests' domains (100-199, 215-231); FastDDS ends at 232


def shipped_grm():
    import robodopamine_ros.grm as grm
    return Path(grm.__file__).parent / 'pretrained'


def policies():
    """Return {name: (observation shapes, AgentConfig kwargs, encoder net or None)}."""
    from robodopamine_ros.rl.agent_settings import RLAgentSettings
    from robodopamine_ros.data.topics import IMAGE_SIZE
    from robodopamine_ros.rl.observations import (FrozenViewEncoder, obs_shapes,
                                                  tuned_encoder_start)

    frozen = FrozenViewEncoder(shipped_grm())
    grm_config, net = tuned_encoder_start(shipped_grm())
    return {
        'state (robot: joints, hand pose)': (RLAgentSettings().state_shape(), {}, None),
        'cameras, frozen GRM encoder (the default)': (obs_shapes(
            'cameras', IMAGE_SIZE, joints=9, objects=0, image_features=frozen.size), {}, None),
        'cameras, CNN encoder': (obs_shapes('cameras', IMAGE_SIZE, joints=9, objects=0), {},
                                 None),
        'cameras, fine-tuned GRM encoder': (obs_shapes(
            'cameras', IMAGE_SIZE, joints=9, objects=0), {'grm_config': grm_config}, net),
    }


def random_episode(shapes, rng, episode_id=1, steps=STEPS):
    from robodopamine_ros.rl.replay import Episode

    def obs():
        return {k: rng.integers(0, 256, size=v, dtype=np.uint8) if k == 'images'
                else rng.normal(size=v).astype(np.float32) for k, v in shapes.items()}
    episode, now = Episode(episode_id), obs()
    for t in range(steps):
        following = obs()
        episode.add(now, rng.uniform(-1, 1, 4), following, 0.01, False, t == steps - 1)
        now = following
    return episode


def bytes_figures():
    import torch
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.agents import AgentConfig
    from robodopamine_ros.rl.wire import pack_episode, pack_weights, weights_spec

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for name, (shapes, config, net) in policies().items():
        learner = Learner(AgentConfig(**config), shapes, capacity=10)
        if net is not None:
            learner.agent.load_grm_encoder(net)
        spec = weights_spec('calql', 'cameras' if 'cameras' in name else 'robot', shapes, 4)
        weights = pack_weights(learner.actor_state(), 1, spec)
        parameters = sum(t.numel() for part in learner.actor_state().values()
                         for t in part.values())
        record('remote learner', f'bytes per weights message: {name}', len(weights), 'B',
               f'{parameters} parameters, float32 + safetensors header')
        if 'fine-tuned' in name:   # the same observation as the CNN's
            continue
        _, data = pack_episode(random_episode(shapes, rng), 'arm1')
        shape = ', '.join(f'{k} {tuple(v)}' for k, v in shapes.items())
        record('remote learner', f'bytes per episode ({STEPS} steps): {name}', len(data), 'B',
               f'observation {shape}; each step chained to the next (one observation per step)')


def actor_main(args):
    """One simulated actor: send episodes for args.seconds; print a JSON line of what it saw."""
    import array

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from robodopamine_interfaces.msg import PolicyWeights
    from robodopamine_interfaces.srv import SubmitEpisode
    from robodopamine_ros.nodes.conversions import LATCHED
    from robodopamine_ros.rl.wire import pack_episode

    shapes = json.loads(args.shapes)
    rclpy.init()
    node = rclpy.create_node(f'bench_actor_{args.actor}')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    held = {'version': None}
    node.create_subscription(PolicyWeights, '/learner_node/policy_weights',
                             lambda msg: held.update(version=msg.version), LATCHED)
    client = node.create_client(SubmitEpisode, '/learner_node/submit_episode')
    deadline = time.monotonic() + 120
    while not client.service_is_ready():
        if time.monotonic() > deadline:
            raise SystemExit(f'{args.actor}: learner_node/submit_episode did not come in 120 s')
        executor.spin_once(timeout_sec=0.1)
    rng = np.random.default_rng(abs(hash(args.actor)) % 2**32)
    episode = random_episode({k: tuple(v) for k, v in shapes.items()}, rng)
    acks, lags, began = [], [], time.time()
    while time.time() - began < args.seconds:
        uid, data = pack_episode(episode, args.actor)   # a new uid each time
        future = client.call_async(SubmitEpisode.Request(
            robot_id=args.actor, uid=uid, data=array.array('B', data)))
        executor.spin_until_future_complete(future, timeout_sec=60)
        answer = future.result()
        if answer is None or answer.status != 'stored':
            raise SystemExit(f'{args.actor}: no answer or not stored: {answer}')
        acks.append(time.time())
        if held['version'] is not None:
            lags.append(int(answer.learner_updates) - int(held['version']))
    print(json.dumps({'actor': args.actor, 'began': began, 'acks': acks, 'lags': lags,
                      'bytes': len(data)}), flush=True)
    node.destroy_node()
    rclpy.shutdown()


def ingest(actors, seconds, observation, shapes, grm_dir):
    """Run learner_node and `actors` actor processes; return the figures (a dict)."""
    env = dict(os.environ, ROS_DOMAIN_ID=str(DOMAIN), OMP_NUM_THREADS='1')
    with tempfile.TemporaryDirectory() as folder:
        learner_args = ['ros2', 'run', 'robodopamine_ros', 'learner_node', '--ros-args',
                        '-p', f'checkpoint_dir:={folder}', '-p', 'pretrain_updates:=0',
                        '-p', 'offline_updates:=0', '-p', 'checkpoint_every:=50',
                        '-p', 'observation:=' + ('robot' if observation == 'state'
                                                 else observation)]
        if observation == 'cameras':
            learner_args += ['-p', f'grm_dir:={grm_dir}']
        # a session of its own: `ros2 run` does not pass SIGINT on, Ctrl-C reaches the group
        learner = subprocess.Popen(learner_args, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            procs = [subprocess.Popen(
                [sys.executable, __file__, '--actor', f'arm{k + 1}', '--seconds', str(seconds),
                 '--shapes', json.dumps(shapes)], env=env, stdout=subprocess.PIPE, text=True)
                for k in range(actors)]
            results = []
            for proc in procs:
                out, _ = proc.communicate(timeout=seconds + 300)
                if proc.returncode:
                    raise RuntimeError(f'an actor failed ({proc.returncode}): {out[-2000:]}')
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            os.killpg(learner.pid, signal.SIGINT)
            try:
                log, _ = learner.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(learner.pid, signal.SIGKILL)
                log, _ = learner.communicate()
    start = max(r['acks'][0] for r in results)   # all sending (each after its first answer)
    end = min(r['acks'][-1] for r in results)
    acked = sum(sum(start < t <= end for t in r['acks']) for r in results)
    lags = np.concatenate([r['lags'] for r in results]) if any(r['lags'] for r in results) \
        else np.array([])
    return {'transitions_s': acked * STEPS / max(end - start, 1e-9), 'window_s': end - start,
            'episodes': sum(len(r['acks']) for r in results), 'lags': lags,
            'bytes': results[0]['bytes'], 'log': log}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--only', choices=('bytes', 'ingest'), default=None)
    parser.add_argument('--actors', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--seconds', type=float, default=60.0)
    parser.add_argument('--observation', choices=('state', 'cameras'), default='state')
    parser.add_argument('--actor', help=argparse.SUPPRESS)
    parser.add_argument('--shapes', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.actor:
        actor_main(args)
        return
    if args.only != 'ingest':
        bytes_figures()
    if args.only == 'bytes':
        return
    name = 'state (robot: joints, hand pose)' if args.observation == 'state' else \
        'cameras, frozen GRM encoder (the default)'
    shapes = {k: list(v) for k, v in policies()[name][0].items()}
    for actors in args.actors:
        f = ingest(actors, args.seconds, args.observation, shapes, shipped_grm())
        what = f'{actors} actor{"s" if actors > 1 else ""}, {args.observation} episodes'
        record('remote learner', f'transitions/s ingested over DDS: {what}',
               round(f['transitions_s']), '1/s',
               f'{f["episodes"]} episodes of {STEPS} steps ({f["bytes"]} B each) acknowledged '
               f'in {args.seconds:.0f} s per actor; window {f["window_s"]:.0f} s; learner '
               'learning meanwhile, batch 256, one machine')
        if len(f['lags']):
            record('remote learner', f"weights' age at the actor, learner updates behind "
                   f'(p50 / p99): {what}',
                   f'{np.percentile(f["lags"], 50):.0f} / {np.percentile(f["lags"], 99):.0f}',
                   '', f'{len(f["lags"])} acknowledgements; weights at most once a second')


if __name__ == '__main__':
    main()
