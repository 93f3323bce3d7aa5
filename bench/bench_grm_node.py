# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
grm_node on this CPU: camera stamp -> ProgressStamped latency, sustained rate, CPU share.

Three processes, as on a robot: a camera process publishes the three views of the shared real
demo at 640x480, 30 Hz (rgb8, one stamp per triplet, the wall clock at capture); the
installed grm_node executable (compact GRM, rate 10 Hz, mean fusion) scores the newest
triplet; this process listens to /progress and measures, per message, receive time minus
the scored triplet's stamp. The CPU share of grm_node is its user+system time over the
measuring window divided by the window. The compact GRM is freshly built (untrained): its
compute per tick equals an adapted one's.

Run (after scripts/test.sh has built the workspace):
  bash -c 'source scripts/env.sh && use_workspace && \
    $ROS_VENV/bin/python bench/bench_grm_node.py --seconds 30'
"""

import argparse
import array
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from results import record

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT.parent / 'shared' / 'data' / 'robo_dopamine_example' / 'episode_001'
SIZE = (640, 480)


def cameras(rate, frames):
    """Publish the demo's first `frames` triplets in a loop at `rate` Hz (own process)."""
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from robodopamine_ros.data.reference_layout import iter_frames
    from sensor_msgs.msg import Image

    triplets = [views for _, views in iter_frames(DEMO, size=SIZE, stop=frames)]
    rclpy.init()
    node = rclpy.create_node('bench_cameras')
    publishers = {v: node.create_publisher(Image, f'cameras/{v}/image_raw',
                                           qos_profile_sensor_data) for v in triplets[0]}
    messages = []
    for views in triplets:
        msgs = {}
        for view, rgb in views.items():
            msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding='rgb8',
                        step=3 * rgb.shape[1], data=array.array('B', rgb.tobytes()))
            msg.header.frame_id = f'{view}_camera_optical_frame'
            msgs[view] = msg
        messages.append(msgs)
    print('cameras ready', flush=True)
    period, k = 1.0 / rate, 0
    next_time = time.monotonic()
    try:
        while rclpy.ok():
            stamp = node.get_clock().now().to_msg()
            for view, msg in messages[k % len(messages)].items():
                msg.header.stamp = stamp
                publishers[view].publish(msg)
            k += 1
            next_time += period
            time.sleep(max(0.0, next_time - time.monotonic()))
    except KeyboardInterrupt:
        pass


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--seconds', type=float, default=30.0)
    parser.add_argument('--rate', type=float, default=10.0, help='grm_node rate (Hz)')
    parser.add_argument('--camera-rate', type=float, default=30.0)
    parser.add_argument('--fastdds-profile', default='',
                        help='Fast DDS XML profile for all three processes, e.g. '
                        'robodopamine_ros/config/fastdds_shm_large_images.xml')
    parser.add_argument('--cameras', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cameras:
        return cameras(args.camera_rate, 30)

    from diagnostic_msgs.msg import DiagnosticArray
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from robodopamine_interfaces.msg import ProgressStamped
    from robodopamine_interfaces.srv import StartEpisode
    from robodopamine_ros.data.reference_layout import iter_frames
    from robodopamine_ros.grm.compact import CompactGRM

    prefix = Path(os.environ['AMENT_PREFIX_PATH'].split(':')[0])
    executable = prefix / 'lib' / 'robodopamine_ros' / 'grm_node'
    tmp = Path(tempfile.mkdtemp(prefix='bench_grm_node_'))
    first = next(iter_frames(DEMO, size=SIZE, stop=1))[1]['front']
    CompactGRM.create(task='insert the peg').save(tmp / 'grm', (first, first))
    env = dict(os.environ, OMP_NUM_THREADS='1', ROS_LOCALHOST_ONLY='1')
    if args.fastdds_profile:
        profile = str(Path(args.fastdds_profile).resolve(strict=True))
        os.environ['FASTRTPS_DEFAULT_PROFILES_FILE'] = env['FASTRTPS_DEFAULT_PROFILES_FILE'] = \
            profile
    camera_proc = subprocess.Popen([sys.executable, __file__, '--cameras', '--camera-rate',
                                    str(args.camera_rate)], env=env, stdout=subprocess.PIPE,
                                   text=True)
    assert camera_proc.stdout.readline().strip() == 'cameras ready'
    grm_proc = subprocess.Popen([str(executable), '--ros-args', '-p', f'model_dir:={tmp}/grm',
                                 '-p', f'rate:={args.rate}', '-p', 'device:=cpu'], env=env)
    rclpy.init()
    node = rclpy.create_node('bench_listener')
    received, ready = [], threading.Event()

    def on_progress(msg):
        now = time.time_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        received.append((now, (now - stamp) / 1e6, msg.inference_latency * 1e3, msg.tick))
        ready.set()

    node.create_subscription(ProgressStamped, 'progress', on_progress, 100)
    diagnostics = []
    node.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: diagnostics.append({v.key: v.value for v in msg.status[0].values}), 10)
    client = node.create_client(StartEpisode, 'grm_node/start_episode')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        assert client.wait_for_service(timeout_sec=60), 'grm_node did not come up'
        while True:  # the first triplet may not have arrived yet
            future = client.call_async(StartEpisode.Request())
            while not future.done():
                time.sleep(0.05)
            if future.result().success:
                break
            time.sleep(0.2)
        assert ready.wait(30), 'no progress published'
        time.sleep(3.0)  # warm-up: not measured
        received.clear()
        cpu0, t0 = cpu_seconds(grm_proc.pid), time.monotonic()
        before = diagnostics[-1]
        time.sleep(args.seconds)
        cpu1, t1 = cpu_seconds(grm_proc.pid), time.monotonic()
        window, after = list(received), diagnostics[-1]
    finally:
        for proc in (grm_proc, camera_proc):
            proc.send_signal(2)
        for proc in (grm_proc, camera_proc):
            proc.wait(timeout=20)
        executor.shutdown()
        rclpy.try_shutdown()
    window = [w for w in window if w[3] > 0]  # tick 0 is the start_episode message
    latency = np.array([w[1] for w in window])
    inference = np.array([w[2] for w in window])
    rate = len(window) / (t1 - t0)
    share = (cpu1 - cpu0) / (t1 - t0)
    delivered = {k: int(after[k]) - int(before[k]) for k in after
                 if k.endswith('_images') or k == 'triplets'}
    sent = args.camera_rate * (t1 - t0)
    print(f'images/triplets reaching grm_node in the window (about {sent:.0f} sent per camera; '
          f'diagnostics 1 s apart): {delivered}')
    delivery = delivered['triplets'] / sent
    print(f'{len(window)} progress messages in {t1 - t0:.1f} s: {rate:.2f} Hz; latency p50 '
          f'{np.percentile(latency, 50):.1f} ms, p99 {np.percentile(latency, 99):.1f} ms, max '
          f'{latency.max():.1f}; inference p50 {np.percentile(inference, 50):.1f} ms; '
          f'grm_node CPU {100 * share:.0f}% of one core (machine has {os.cpu_count()} cores)')
    note = (f'3 x {SIZE[0]}x{SIZE[1]} rgb8 at {args.camera_rate:g} Hz from another process, '
            f'compact GRM, rate {args.rate:g} Hz, {args.seconds:g} s window, '
            f'{os.cpu_count()} cores')
    bench = 'grm_node, ' + (f'Fast DDS profile {Path(args.fastdds_profile).name}'
                            if args.fastdds_profile else 'Fast DDS defaults')
    record(bench, 'camera stamp -> progress latency p50', np.percentile(latency, 50), 'ms', note)
    record(bench, 'camera stamp -> progress latency p99', np.percentile(latency, 99), 'ms', note)
    record(bench, 'sustained progress rate', rate, 'Hz', note)
    record(bench, 'model inference per tick p50 (3 queries)', np.percentile(inference, 50),
           'ms', note)
    record(bench, 'grm_node CPU share', 100 * share, '% of one core', note)
    record(bench, 'camera triplets delivered and synchronized', 100 * delivery, '% of sent',
           note)


if __name__ == '__main__':
    main()
