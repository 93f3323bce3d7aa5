# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node on this CPU: control-loop jitter while the learner trains, deadman latency.

Processes, as on a robot: sim_robot_node (64x48 cameras, 30 Hz), grm_node (an untrained compact
GRM: same compute as an adapted one), shaping_node, rl_agent_node (mode train, ConRFT, 10 Hz,
learner thread running) and teleop_node, each the installed executable. This process listens:
the period between consecutive command stamps (the agent's tick times) gives the jitter; for
the deadman it publishes a Joy message with the deadman pressed and times the first command
the agent publishes from the teleop action (the sim robot executes it on receipt).

Run (after scripts/test.sh has built the workspace):
  bash -c 'source scripts/env.sh && use_workspace && \
    $ROS_VENV/bin/python bench/bench_agent_node.py --seconds 60'
"""

import argparse
import os
from pathlib import Path
import subprocess
import tempfile
import threading
import time

import numpy as np
from results import record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--seconds', type=float, default=60.0)
    parser.add_argument('--presses', type=int, default=10)
    args = parser.parse_args()

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from robodopamine_interfaces.msg import ActionStamped
    from robodopamine_ros.grm.compact import CompactGRM
    from sensor_msgs.msg import Joy

    prefix = Path(os.environ['AMENT_PREFIX_PATH'].split(':')[0]) / 'lib' / 'robodopamine_ros'
    tmp = Path(tempfile.mkdtemp(prefix='bench_agent_'))
    refs = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 200, np.uint8)]
    CompactGRM.create(task='insert the peg').save(tmp / 'grm', refs)
    env = dict(os.environ, OMP_NUM_THREADS='1', ROS_LOCALHOST_ONLY='1')
    commands = {
        'sim_robot_node': ['-p', 'image_width:=64', '-p', 'image_height:=48'],
        'grm_node': ['-p', f'model_dir:={tmp}/grm'],
        'shaping_node': ['-p', 'gamma:=0.98'],
        'rl_agent_node': ['-p', 'mode:=train', '-p', 'max_steps:=100', '-p',
                          f'checkpoint_dir:={tmp}/ckpt', '-p', 'checkpoint_every:=1000'],
        'teleop_node': ['-p', 'timeout_s:=0.5'],
    }
    procs = [subprocess.Popen([str(prefix / name), '--ros-args'] + extra, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, extra in commands.items()]
    rclpy.init()
    node = rclpy.create_node('bench_agent_listener')
    received, event = [], threading.Event()

    def on_command(msg):
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        received.append((time.time(), stamp, msg.source))
        event.set()

    node.create_subscription(ActionStamped, 'command', on_command, 100)
    joy = node.create_publisher(Joy, 'joy', 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        deadline = time.time() + 90
        while not any(s == 'policy' for _, _, s in received):
            assert time.time() < deadline, 'the agent never acted (graph did not come up)'
            time.sleep(0.2)
        time.sleep(5.0)  # warm-up
        start = len(received)
        time.sleep(args.seconds)
        window = received[start:]
        latencies = []
        for _ in range(args.presses):
            released = Joy(axes=[0.0] * 6, buttons=[0] * 5)
            joy.publish(released)
            time.sleep(1.0)
            count = len(received)
            pressed_at = time.time()
            joy.publish(Joy(axes=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0], buttons=[0, 0, 0, 0, 1]))
            while not any(s == 'teleop' for _, _, s in received[count:]):
                joy.publish(Joy(axes=[0.0, 0.5, 0.0, 0.0, 0.0, 0.0], buttons=[0, 0, 0, 0, 1]))
                if time.time() - pressed_at > 5:
                    break
                time.sleep(0.01)
            first = next((stamp for _, stamp, s in received[count:] if s == 'teleop'), None)
            if first is not None:
                latencies.append(first - pressed_at)
            joy.publish(released)
    finally:
        for proc in procs:
            proc.send_signal(2)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        executor.shutdown()
        rclpy.try_shutdown()
    stamps = np.array([stamp for _, stamp, _ in window])
    periods = np.diff(stamps) * 1000
    note = (f'10 Hz, learner thread training (ConRFT), sim + grm_node + shaping_node + '
            f'teleop_node in other processes, {args.seconds:g} s, {os.cpu_count()} cores')
    print(f'{len(periods)} periods: p50 {np.percentile(periods, 50):.1f} ms, p99 '
          f'{np.percentile(periods, 99):.1f} ms, max {periods.max():.1f}; deadman -> first '
          f'teleop command: {np.round(np.array(latencies) * 1000, 1)} ms')
    record('rl_agent_node', 'control period p50', np.percentile(periods, 50), 'ms', note)
    record('rl_agent_node', 'control period p99', np.percentile(periods, 99), 'ms', note)
    record('rl_agent_node', 'deadman press -> first teleop command p50',
           1000 * np.percentile(latencies, 50), 'ms',
           f'{len(latencies)} presses; includes the set_intervention service call; ' + note)


if __name__ == '__main__':
    main()
