# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.sync import ApproximateTimeSynchronizer, synchronize

MS = 1_000_000
PERIOD = 33 * MS


def camera(n, jitter_ms, seed, drop=(), offset_ms=0.0):
    rng = np.random.default_rng(seed)
    stamps = (np.arange(n) * PERIOD + offset_ms * MS
              + rng.uniform(-jitter_ms, jitter_ms, n) * MS).astype(np.int64)
    return [(int(s), (seed, k)) for k, s in enumerate(stamps) if k not in drop]


def test_jitter_and_drops_give_the_exact_expected_pairing():
    front = camera(100, 3, seed=0, drop={10})
    left = camera(100, 3, seed=1, drop={20, 21}, offset_ms=4)
    right = camera(100, 3, seed=2, drop={50})
    sets, stats = synchronize([front, left, right], slop=0.015)
    indices = [tuple(item[1][1] for item in s) for s in sets]
    expected = [(k, k, k) for k in range(100) if k not in {10, 20, 21, 50}]
    assert indices == expected
    # each camera's frames whose partners were missing are dropped and counted
    assert stats.dropped == [3, 2, 3]
    assert stats.emitted == 96
    assert stats.worst_skew_ns <= 15 * MS


def test_never_pairs_beyond_the_slop():
    front = [(0, 'f0'), (100 * MS, 'f1')]
    wrist = [(30 * MS, 'w0'), (101 * MS, 'w1')]
    sets, stats = synchronize([front, wrist], slop=0.02)
    assert [(a[1], b[1]) for a, b in sets] == [('f1', 'w1')]
    assert stats.dropped == [1, 1]


def test_online_callback_matches_offline():
    streams = [camera(40, 4, seed=s, drop={5 * s + 3}) for s in range(3)]
    offline, _ = synchronize(streams, slop=0.012)
    sync = ApproximateTimeSynchronizer(3, slop=0.012, queue_size=10)
    received = []
    sync.registerCallback(lambda *items: received.append(items))
    arrival = sorted((stamp, s, item) for s, stream in enumerate(streams)
                     for stamp, item in stream)
    for stamp, s, item in arrival:
        sync.add(s, stamp, item)
    sync.flush()
    assert received == offline


def test_online_waits_for_the_closest_match_then_emits():
    sync = ApproximateTimeSynchronizer(2, slop=0.02)
    assert sync.add(0, 100 * MS, 'f') == []
    assert sync.add(1, 90 * MS, 'w-early') == []   # a closer one may still come
    done = sync.add(1, 99 * MS, 'w-close')          # 99 is before the pivot too: wait
    assert done == []
    done = sync.add(1, 130 * MS, 'w-late')          # now 99 is final
    assert [(a[1], b[1]) for a, b in done] == [('f', 'w-close')]


def test_stale_and_overflowing_items_are_dropped():
    sync = ApproximateTimeSynchronizer(2, slop=0.01, queue_size=3)
    for k in range(5):
        sync.add(0, k * PERIOD, k)
    assert sync.stats.dropped == [2, 0]
    sync.add(0, 0, 'old')  # not newer than the last item of its stream
    assert sync.stats.dropped == [3, 0]
    with pytest.raises(ValueError, match='slop'):
        ApproximateTimeSynchronizer(2, slop=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2000), max_size=40), min_size=2, max_size=3),
       st.integers(1, 60))
def test_sets_respect_the_slop_and_use_items_once(raw_streams, slop_ms):
    streams = [[(t * MS, (s, t)) for t in sorted(set(stream))]
               for s, stream in enumerate(raw_streams)]
    sets, stats = synchronize(streams, slop=slop_ms / 1000)
    used = set()
    previous = -1
    for items in sets:
        stamps = [stamp for stamp, _ in items]
        assert max(stamps) - min(stamps) <= slop_ms * MS
        for _stamp, item in items:
            assert item not in used
            used.add(item)
        assert min(stamps) > previous
        previous = max(stamps)
    total = sum(len(s) for s in streams)
    assert len(used) + sum(stats.dropped) == total
