# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The same camera-synchronization behaviour with message_filters and with robodopamine_ros.data.sync.

grm_node synchronizes with message_filters.ApproximateTimeSynchronizer where it is importable,
else with the ROS-free synchronizer; both sit under sync.LiveSynchronizer (stamp jumps, camera
clocks apart). Every test runs against both: slop, queue size, out-of-order stamps, stamp
jumps. Arrival times are given explicitly (no clock, no sleeps).
"""

import os
import random

import pytest
from robodopamine_ros.data.sync import ApproximateTimeSynchronizer, LiveSynchronizer
from robodopamine_ros.nodes import message_filters_sync
from robodopamine_ros.nodes.message_filters_sync import MessageFiltersSynchronizer

MS = 1_000_000
PERIOD = 33 * MS       # 30 Hz cameras
SLOP = 0.02


def require_message_filters():
    if not message_filters_sync.AVAILABLE:
        message = 'message_filters is not importable'
        if os.environ.get('RD_REQUIRE_ROS') == '1':
            pytest.fail(message + ' (required: RD_REQUIRE_ROS=1)')
        pytest.skip(message)


@pytest.fixture(params=['message_filters', 'robodopamine_ros.data.sync'])
def backend(request):
    if request.param == 'message_filters':
        require_message_filters()
        return MessageFiltersSynchronizer
    return ApproximateTimeSynchronizer


class Feed:
    """A LiveSynchronizer over the backend; collects the sets as (frame per stream, stamps)."""

    def __init__(self, backend, queue_size=10, jump_threshold=1.0, slop=SLOP):
        self.live = LiveSynchronizer(3, slop, queue_size, jump_threshold,
                                     names=['front', 'left', 'right'], synchronizer=backend)
        self.sets = []
        self.live.registerCallback(lambda *items: self.sets.append(items))
        self.arrival = 10**12

    def add(self, stream, stamp_ns, frame, delay_ns=2 * MS):
        self.live.add(stream, stamp_ns, frame, stamp_ns + delay_ns)

    def frames(self):
        return [tuple(frame for _, frame in items) for items in self.sets]


def triplets(first, count, jitter_ms=0, seed=0):
    """Yield (stream, stamp_ns, frame) for count frames, streams in shuffled order per frame."""
    rng = random.Random(seed)
    for frame in range(first, first + count):
        order = [0, 1, 2]
        rng.shuffle(order)
        for stream in order:
            jitter = rng.randint(-jitter_ms, jitter_ms) * MS // 2 if jitter_ms else 0
            yield stream, 10**12 + frame * PERIOD + jitter, frame


def test_jittered_cameras_in_any_arrival_order_form_every_triplet(backend):
    feed = Feed(backend)
    for stream, stamp, frame in triplets(0, 60, jitter_ms=10):
        feed.add(stream, stamp, frame)
    frames = feed.frames()
    assert len(frames) >= 59                                   # the last may still wait
    assert all(f[0] == f[1] == f[2] for f in frames)           # never frames mixed up
    assert [f[0] for f in frames] == sorted({f[0] for f in frames})
    assert feed.live.resets == 0 and feed.live.stats.emitted == len(frames)


@pytest.mark.parametrize('offset_ms, expect_sets', [(4, True), (PERIOD // MS // 2, False)])
def test_no_set_spans_more_than_the_slop(backend, offset_ms, expect_sets):
    slop = 0.01   # below half the camera period: a camera half a period off never pairs
    feed = Feed(backend, slop=slop)
    for stream, stamp, frame in triplets(0, 30):
        feed.add(stream, stamp + (offset_ms * MS if stream == 2 else 0), frame)
    assert len(feed.sets) >= (29 if expect_sets else 0)
    assert bool(feed.sets) == expect_sets
    for items in feed.sets:
        stamps = [stamp for stamp, _ in items]
        assert max(stamps) - min(stamps) <= slop * 1e9
    if not expect_sets:
        assert sum(feed.live.stats.dropped) > 0   # what could not synchronize is counted


@pytest.mark.parametrize('queue_size, expect_set', [(50, True), (10, False)])
def test_queue_size_bounds_how_long_an_item_waits_for_partners(backend, queue_size,
                                                               expect_set):
    feed = Feed(backend, queue_size=queue_size)
    for frame in range(40):                        # only the front camera for a while
        feed.add(0, 10**12 + frame * PERIOD, frame)
    for stream in (1, 2):                          # the wrists deliver frame 5 late
        feed.add(stream, 10**12 + 5 * PERIOD, 5, delay_ns=40 * PERIOD)
    assert feed.frames() == ([(5, 5, 5)] if expect_set else [])
    for stream in (1, 2):                          # and frame 39: it pairs in both cases
        feed.add(stream, 10**12 + 39 * PERIOD, 39)
    assert feed.frames()[-1] == (39, 39, 39)


def test_one_image_out_of_order_is_jitter_not_a_reset(backend):
    feed = Feed(backend)
    for stream, stamp, frame in triplets(0, 30):
        if stream == 0 and frame in (10, 11):      # front: frame 11 arrives before 10
            frame = 21 - frame
            stamp = 10**12 + frame * PERIOD
        feed.add(stream, stamp, frame)
    frames = feed.frames()
    assert feed.live.resets == 0
    assert all(f[0] == f[1] == f[2] for f in frames)
    assert len(frames) >= 28                       # at most the reordered frame is lost
    assert frames[-1][0] >= 28                     # and synchronization went on after it


def test_a_jump_back_of_every_camera_resets_once_and_triplets_resume(backend):
    feed = Feed(backend)
    for stream, stamp, frame in triplets(0, 30):
        feed.add(stream, stamp, frame)
    before = len(feed.sets)
    for stream, stamp, frame in triplets(100, 30):            # a simulator reset: 5 s back
        feed.add(stream, stamp - 5 * 10**9 - 100 * PERIOD, frame)
    after = feed.frames()[before:]
    assert feed.live.resets == 1 and 'jumped back' in feed.live.last_reset
    assert len(after) >= 28 and all(f[0] == f[1] == f[2] >= 100 for f in after)


def test_message_filters_alone_stalls_after_a_jump_back():
    """Why LiveSynchronizer rebuilds it: full queues evict every item stamped before them."""
    require_message_filters()
    sync, sets = MessageFiltersSynchronizer(3, SLOP, 10), []
    sync.registerCallback(lambda *items: sets.append(items))
    for stream, stamp, _ in triplets(0, 30):
        sync.add(stream, stamp, None)
    stamps = [stamp for stream, stamp, _ in triplets(0, 30) if stream == 0]
    for stream, stamp, _ in triplets(100, 30):
        sync.add(stream, stamp - 5 * 10**9 - 100 * PERIOD, None)
    assert len(sets) >= 29 and max(s[0][0] for s in sets) == stamps[-1]  # nothing after


def test_a_camera_back_on_another_clock_is_rebased_and_synchronizes(backend):
    feed = Feed(backend, jump_threshold=1.0)
    for stream, stamp, frame in triplets(0, 30):
        feed.add(stream, stamp, frame)
    before = len(feed.sets)
    hour = 3600 * 10**9
    for stream, stamp, frame in triplets(30, 90):             # 3 s: right wrist an hour ahead
        arrival = stamp + 2 * MS
        feed.live.add(stream, stamp + (hour if stream == 2 else 0), frame, arrival)
    after = feed.frames()[before:]
    assert feed.live.offsets_ns[2] != 0 and feed.live.resets >= 1
    assert len(after) >= 30 and all(f[0] == f[1] == f[2] for f in after)
