# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
recording.LiveBagWriter: a bag readable at every moment of its recording (recorder_node).

The file is read as a killed recorder leaves it: after any write (rosbags' own MCAP reader,
then the demonstrations reader of bare files), and cut at any byte, as a kill in the middle
of a write leaves it (the demonstrations reader repairs it up to its last complete chunk).
"""

from pathlib import Path
import shutil
import sqlite3
import tempfile

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.bag_location import locate, open_reader
from robodopamine_ros.data.interfaces import typestore
from robodopamine_ros.data.recording import LiveBagWriter, RecordingError

STORE = typestore()
STRING = 'std_msgs/msg/String'
IMAGE = 'sensor_msgs/msg/Image'
MS = 1_000_000


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def text(value):
    return bytes(STORE.serialize_cdr(STORE.types[STRING](data=value), STRING))


def image(k):
    types = STORE.types
    msg = types[IMAGE](
        header=types['std_msgs/msg/Header'](
            stamp=types['builtin_interfaces/msg/Time'](sec=k, nanosec=0), frame_id='cam'),
        height=240, width=320, encoding='rgb8', is_bigendian=0, step=960,
        data=np.full(240 * 320 * 3, k % 256, np.uint8))
    return bytes(STORE.serialize_cdr(msg, IMAGE))


def read_mcap(path):
    """Messages of an MCAP file with rosbags' reader (the library that wrote it)."""
    from rosbags.rosbag2.storage_mcap import McapReader

    reader = McapReader(path)
    reader.open()
    try:
        return [(c.topic, t, STORE.deserialize_cdr(raw, c.msgtype))
                for c, t, raw in reader.messages(reader.connections)]
    finally:
        reader.close()


def read_bare(folder):
    """Messages (topic, time) through the demonstrations reader of bare .mcap files."""
    location = locate(folder)
    with open_reader(location) as reader:
        messages = [(c.topic, t) for c, t, _ in reader.messages()]
    return messages, location.warnings


def test_every_flush_leaves_a_complete_mcap_file(tmp_path):
    clock = FakeClock()
    bag = tmp_path / 'rec'
    writer = LiveBagWriter(bag, flush_period=1.0, clock=clock)
    data = bag / 'rec.mcap'
    assert writer.data_file == data and read_mcap(data) == []   # valid from the start
    sent = []
    for k in range(30):                        # 3 s at 10 Hz, flushed each second
        clock.now = k / 10
        writer.write_raw('/chatter', STRING, text(f'm{k}'), 1000 * MS + k * 100 * MS)
        sent.append(f'm{k}')
        got = [m.data for _, _, m in read_mcap(data)]
        assert got == sent[:len(got)] and len(got) >= len(sent) - 11
    assert writer.flushes == 2
    writer.flush()
    assert [m.data for _, _, m in read_mcap(data)] == sent
    assert sorted(p.name for p in bag.iterdir()) == ['rec.mcap']   # no metadata.yaml yet
    writer.close()
    from rosbags.rosbag2 import Reader
    with Reader(bag) as reader:              # a normal rosbag2 after the clean close
        assert reader.message_count == 30 and len(reader.connections) == 1


def test_idle_flush_and_clock_stepping_back(tmp_path):
    clock = FakeClock()
    writer = LiveBagWriter(tmp_path / 'rec', flush_period=0.5, clock=clock)
    writer.write_raw('/a', STRING, text('x'), 5000 * MS)
    writer.write_raw('/a', STRING, text('y'), 4000 * MS)   # the wall clock stepped back 1 s
    writer.flush_if_due()
    assert writer.flushes == 0 and read_mcap(writer.data_file) == []
    clock.now = 0.5                                       # a timer, no new message
    writer.flush_if_due()
    assert [(t, m.data) for _, t, m in read_mcap(writer.data_file)] == \
        [(5000 * MS, 'x'), (5000 * MS, 'y')]               # times never go back
    with pytest.raises(RecordingError, match='/b: type pkg/msg/Unknown is not known'):
        writer.write_raw('/b', 'pkg/msg/Unknown', b'', 6000 * MS)
    writer.close()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='flush_period must be > 0 seconds, got 0'):
        LiveBagWriter(tmp_path / 'a', flush_period=0)
    with pytest.raises(ValueError, match='storage must be one of'):
        LiveBagWriter(tmp_path / 'a', storage='bag')
    (tmp_path / 'b').mkdir()
    with pytest.raises(FileExistsError, match='already exists'):
        LiveBagWriter(tmp_path / 'b')


def test_sqlite3_is_committed_at_each_flush(tmp_path):
    clock = FakeClock()
    writer = LiveBagWriter(tmp_path / 'rec', storage='sqlite3', flush_period=1.0, clock=clock)

    def rows():
        with sqlite3.connect(f'file:{writer.data_file}?mode=ro', uri=True) as connection:
            return connection.execute('select count(*) from messages').fetchone()[0]
    for k in range(5):
        writer.write_raw('/a', STRING, text(str(k)), k * MS)
    assert rows() == 0                         # not committed: a kill now loses them
    clock.now = 1.0
    writer.flush_if_due()
    assert rows() == 5
    writer.close()
    assert (tmp_path / 'rec' / 'metadata.yaml').is_file()


@pytest.fixture(scope='module')
def growing_bag(tmp_path_factory):
    """Record 3 image topics; return the file's bytes after each chunk write, with counts."""
    clock = FakeClock()
    bag = tmp_path_factory.mktemp('live') / 'rec'
    writer = LiveBagWriter(bag, flush_period=0.2, clock=clock)
    snapshots = []                               # (file bytes, messages written so far)
    for k in range(24):                          # 230 kB images: a chunk every few messages
        clock.now = k / 30
        size = writer.data_file.stat().st_size
        writer.write_raw(f'/cam{k % 3}', IMAGE, image(k), 1000 * MS + k * 33 * MS)
        if writer.data_file.stat().st_size != size:
            snapshots.append((writer.data_file.read_bytes(), k + 1))
    writer.close()
    return snapshots


def test_the_file_after_each_chunk_write_is_complete(growing_bag):
    assert len(growing_bag) >= 5
    for data, written in growing_bag:
        assert data.endswith(b'\x89MCAP0\r\n')
        count = len(read_mcap_bytes(data))
        assert written - 5 <= count <= written      # at most one chunk (1 MiB) waits


def read_mcap_bytes(data):
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / 'x.mcap').write_bytes(data)
        return read_mcap(folder / 'x.mcap')
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=25, deadline=None)
@given(which=st.integers(1, 100), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_a_kill_inside_a_write_loses_only_that_write(growing_bag, tmp_path_factory, which,
                                                     cut):
    """
    Cut the file anywhere between two consecutive complete states, as a kill mid-write does.

    The demonstrations reader repairs the copy and reads at least every message of the state
    before (the write under way is lost, nothing earlier).
    """
    (before, _), (after, _) = growing_bag[(which - 1) % (len(growing_bag) - 1):][:2]
    kept_before = len(read_mcap_bytes(before))
    tail = len(before) - 50                    # where the write cut the provisional end
    size = tail + int(cut * (len(after) - tail))
    folder = tmp_path_factory.mktemp('killed')
    (folder / 'killed.mcap').write_bytes(after[:size])
    messages, warnings = read_bare(folder)
    assert len(messages) >= kept_before
    assert any('no metadata.yaml' in w for w in warnings)
