# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A recording survives its recorder being killed (SIGKILL), as after a crash or a power cut.

The installed recorder_node runs as its own process; this process publishes three cameras
(30 Hz) and joint states, kills the recorder with SIGKILL after a few seconds, and reads the
bag it left: everything received up to about one flush period before the kill is there.
"""

from pathlib import Path
import signal
import sqlite3
import subprocess

from ament_index_python.packages import get_package_prefix
from camera_rig import CameraRig
import rclpy
from robodopamine_ros.nodes.grm_node import CAMERA_TOPICS

NS = 1_000_000_000
FLUSH_PERIOD_S = 1.0
TOPICS = [f'/rd_crash/{t}' for t in CAMERA_TOPICS.values()] + ['/rd_crash/joint_states']


def start_recorder(bag, storage):
    exe = Path(get_package_prefix('robodopamine_ros')) / 'lib' / 'robodopamine_ros' \
        / 'recorder_node'
    topics = '[' + ','.join(TOPICS) + ']'
    return subprocess.Popen(
        [str(exe), '--ros-args', '-p', f'bag:={bag}', '-p', f'storage:={storage}',
         '-p', f'flush_period:={FLUSH_PERIOD_S}', '-p', f'topics:={topics}'],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def record_then_kill(tmp_path, background, ros_context, storage, seconds=4.0):
    """Record `seconds` of the robot, SIGKILL the recorder; return (bag, robot, kill stamp)."""
    bag = tmp_path / 'killed'
    node = rclpy.create_node('rd_test_crash_robot', context=ros_context)
    robot = CameraRig(node, TOPICS[:3], TOPICS[3])
    recorder = start_recorder(bag, storage)
    background.add_node(node)
    try:
        background.wait_until(robot.subscribed, timeout=30.0, what='recorder subscriptions')
        first = len(robot.published_ns)
        background.wait_until(lambda: len(robot.published_ns) >= first + 30 * seconds,
                              timeout=seconds + 10, what=f'{seconds} s of publishing')
        kill_ns = node.get_clock().now().nanoseconds
        recorder.send_signal(signal.SIGKILL)
        assert recorder.wait(timeout=30) == -signal.SIGKILL
        return bag, robot.published_ns[first:], kill_ns
    finally:
        if recorder.poll() is None:
            recorder.kill()
        output = recorder.communicate()[0]
        print(output[-2000:])
        background.shutdown()
        node.destroy_node()


def check_survivors(stamps_by_topic, published, kill_ns, storage):
    """Everything published until a flush period (+ delivery) before the kill was kept."""
    due = [s for s in published if s <= kill_ns - int((FLUSH_PERIOD_S + 0.3) * NS)]
    assert len(due) >= 60
    for topic in TOPICS:
        kept = set(stamps_by_topic.get(topic, ()))
        missing = [s for s in due if s not in kept]
        assert len(missing) <= 2, f'{topic}: {len(missing)} of {len(due)} due messages lost'
    newest = max(max(stamps) for stamps in stamps_by_topic.values())
    print(f'{storage}: kill -9 after {(kill_ns - published[0]) / NS:.1f} s of recording; the '
          f'newest message kept was published {(kill_ns - newest) / NS:.2f} s before the kill; '
          f'{sum(map(len, stamps_by_topic.values()))} messages kept')
    return (kill_ns - newest) / NS


def test_mcap_recording_survives_kill_9(tmp_path, background, ros_context):
    from rosbags.rosbag2.storage_mcap import McapReader
    from robodopamine_ros.data.interfaces import typestore

    bag, published, kill_ns = record_then_kill(tmp_path, background, ros_context, 'mcap')
    data = bag / f'{bag.name}.mcap'
    assert sorted(p.name for p in bag.iterdir()) == [data.name]   # no metadata.yaml
    store = typestore()
    reader = McapReader(data)          # the MCAP reader of rosbags, which wrote it
    reader.open()
    try:
        stamps = {}
        for connection, _, raw in reader.messages(reader.connections):
            msg = store.deserialize_cdr(raw, connection.msgtype)
            stamp = msg.header.stamp.sec * NS + msg.header.stamp.nanosec
            stamps.setdefault(connection.topic, []).append(stamp)
    finally:
        reader.close()
    assert set(stamps) == set(TOPICS)
    lag_s = check_survivors(stamps, published, kill_ns, 'mcap')
    assert lag_s < FLUSH_PERIOD_S + 0.5

    # the demonstrations reader takes the bare file too (with a warning): the same triplets
    from robodopamine_ros.data import bags
    options = bags.ReadOptions(topics=bags.TopicConfig(
        front=TOPICS[0], left_wrist=TOPICS[1], right_wrist=TOPICS[2], joint_states=TOPICS[3]))
    episode = bags.read_episode(bag, options=options)
    assert len(episode.stamps) >= len(stamps[TOPICS[0]]) - 2
    assert any('no metadata.yaml' in w for w in episode.warnings), episode.warnings


def test_sqlite3_recording_survives_kill_9(tmp_path, background, ros_context):
    bag, published, kill_ns = record_then_kill(tmp_path, background, ros_context, 'sqlite3')
    data = bag / f'{bag.name}.db3'
    assert data.is_file() and not (bag / 'metadata.yaml').exists()
    connection = sqlite3.connect(f'file:{data}?mode=ro', uri=True)
    try:
        topics = dict(connection.execute('select id, name from topics'))
        rows = connection.execute('select topic_id, timestamp from messages').fetchall()
    finally:
        connection.close()
    assert set(topics.values()) == set(TOPICS)
    # receive times (the row timestamps) stand in for the stamps: within delivery of them
    received = {}
    for topic_id, timestamp in rows:
        received.setdefault(topics[topic_id], []).append(timestamp)
    due = [s for s in published if s <= kill_ns - int((FLUSH_PERIOD_S + 0.3) * NS)]
    for topic, stamps in received.items():
        assert len(stamps) >= len(due) - 2, f'{topic}: {len(stamps)} kept, {len(due)} due'
    newest = max(max(s) for s in received.values())
    print(f'sqlite3: newest row received {(kill_ns - newest) / NS:.2f} s before the kill')
    assert (kill_ns - newest) / NS < FLUSH_PERIOD_S + 0.5


def test_recorder_refuses_a_bad_flush_period(tmp_path):
    exe = Path(get_package_prefix('robodopamine_ros')) / 'lib' / 'robodopamine_ros' \
        / 'recorder_node'
    result = subprocess.run([str(exe), '--ros-args', '-p', f'bag:={tmp_path / "b"}', '-p',
                             'flush_period:=0.0'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert 'cannot start: flush_period must be > 0 seconds, got 0.0' in \
        result.stderr + result.stdout
    assert not (tmp_path / 'b').exists()
