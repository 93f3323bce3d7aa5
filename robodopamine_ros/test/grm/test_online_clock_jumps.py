# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
OnlineProgress when camera stamps jump (field case 7).

Simulator resets, looped bags, a camera driver restarted on another clock. A simulated robot:
three cameras at 30 Hz whose images carry (camera, frame index) in their pixels, header stamps =
the camera's clock (wall time + the camera's clock offset + jitter), delivery after a random
transport delay (sometimes late enough to reorder), ticks at 10 Hz.
OnlineProgress runs on a fake monotonic clock that follows the simulated wall time.
"""

import re

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.sync import LiveSynchronizer
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.online import OnlineProgress
from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM

NS = 1_000_000_000
MS = 1_000_000
PERIOD_NS = NS // 30
TICK_NS = NS // 10


class FakeClock:
    def __init__(self):
        self.now_ns = 0

    def __call__(self):
        return self.now_ns


def image(camera, frame):
    pixels = np.zeros((6, 8, 3), np.uint8)
    pixels[0, 0, 0], pixels[0, 0, 1], pixels[0, 0, 2] = camera, frame % 256, frame // 256
    return pixels


def frame_of(views):
    """Frame index of each view of a triplet (they must all be the same instant)."""
    return [int(v[0, 0, 1]) + 256 * int(v[0, 0, 2]) for v in views]


def make_online(clock, jump_threshold=1.0):
    return OnlineProgress(PixelBaselineGRM(size=(8, 6)), 'task', image(9, 0), image(9, 1),
                          slop=0.02, jump_threshold=jump_threshold, clock=clock)


def simulate(online, clock, duration_s, offset_ns, seed=0, jitter_ms=3.0, late_share=0.05):
    """
    Run the cameras and the ticks for duration_s of wall time.

    offset_ns(camera, wall_ns) -> that camera's clock minus wall time. Returns (ticks, pairs):
    ticks = [(wall_ns, frames of the scored triplet)], pairs = frames of every triplet seen.
    """
    rng = np.random.default_rng(seed)
    deliveries = []
    for k in range(int(duration_s * 30)):
        wall = k * PERIOD_NS
        for c in range(3):
            stamp = wall + offset_ns(c, wall) + int(rng.uniform(-jitter_ms, jitter_ms) * MS)
            delay = rng.uniform(1, 6) if rng.random() > late_share else rng.uniform(30, 45)
            deliveries.append((wall + int(delay * MS), c, stamp, k))
    deliveries.sort()
    ticks, pairs, last_seen = [], [], None
    next_tick = TICK_NS
    for arrival, c, stamp, k in deliveries + [(int(duration_s * NS), None, None, None)]:
        while next_tick <= arrival:
            clock.now_ns = next_tick
            if online.estimator is None:
                online.start_episode()
            result = online.tick()
            if result is not None:
                ticks.append((next_tick, frame_of(online.newest_views()[1])))
            next_tick += TICK_NS
        if c is None:
            break
        clock.now_ns = arrival
        online.add_image(VIEWS[c], stamp, image(c, k))
        seen = online.newest_views()
        if seen is not None and seen is not last_seen:
            last_seen = seen
            pairs.append(frame_of(seen[1]))
    return ticks, pairs


def resume_delay_s(ticks, switch_frame):
    """Seconds from the switch until the first tick that scored views all taken after it."""
    for wall, frames in ticks:
        if min(frames) >= switch_frame:
            return (wall - switch_frame * PERIOD_NS) / NS
    return float('inf')


def test_field_case_7_stamps_jump_back_three_seconds():
    """Before: 0 ticks in the 3 s after the jump, where about 30 were due."""
    clock = FakeClock()
    online = make_online(clock)

    def offset(camera, wall):
        return 0 if wall < 2 * NS else -3 * NS       # every camera at once, 3 s back
    ticks, pairs = simulate(online, clock, 5.0, offset)
    after = [t for t in ticks if t[0] > 2 * NS]
    assert len(after) >= 27, f'{len(after)} ticks in the 3 s after the jump, 30 due'
    assert resume_delay_s(ticks, 60) < 0.3
    assert all(len(set(p)) == 1 for p in pairs), 'a triplet mixed instants'
    values, _ = online.diagnostics()
    assert values['sync_resets'] == 1
    reason = re.fullmatch(r'\w+ stamps jumped back ([0-9.]+) s', values['last_sync_reset'])
    assert reason and float(reason[1]) == pytest.approx(3.0, abs=0.05), values
    assert 0 <= values['last_sync_reset_age_s'] < 3.1


def test_diagnostics_warn_for_ten_seconds_after_a_reset():
    clock = FakeClock()
    online = make_online(clock)
    simulate(online, clock, 3.0, lambda c, w: 0 if w < NS else -5 * NS)
    assert online.clock_warnings()[0].startswith('synchronizer reset: ')
    clock.now_ns += 10 * NS
    assert online.clock_warnings() == []
    assert online.diagnostics()[0]['sync_resets'] == 1


@pytest.mark.parametrize('jump_s', [+3600.0, -42.0])
def test_one_camera_on_a_new_clock_is_synchronized_by_arrival(jump_s):
    """A restarted wrist camera comes back on its own clock, ahead or behind the others."""
    clock = FakeClock()
    online = make_online(clock)

    def offset(camera, wall):
        return int(jump_s * NS) if camera == 1 and wall >= 2 * NS else 0
    ticks, pairs = simulate(online, clock, 6.0, offset)
    delay = resume_delay_s(ticks, 60)
    assert delay < 2.2, f'scoring resumed {delay:.2f} s after the camera changed clock'
    assert len([t for t in ticks if t[0] > 4 * NS]) >= 18    # then at the full 10 Hz
    assert all(len(set(p)) == 1 for p in pairs), 'a triplet mixed instants'
    values, _ = online.diagnostics()
    assert values['left_wrist_clock_offset_s'] == pytest.approx(-jump_s, abs=0.01)
    assert values['front_clock_offset_s'] == values['right_wrist_clock_offset_s'] == 0
    warnings = online.clock_warnings(recent_s=0.0)
    assert warnings == [f'left_wrist synchronized by arrival time (clock '
                        f'{values["left_wrist_clock_offset_s"]:+.3f} s off)']


def test_camera_back_on_the_common_clock_uses_its_stamps_again():
    clock = FakeClock()
    online = make_online(clock)

    def offset(camera, wall):
        return 100 * NS if camera == 2 and 1 * NS <= wall < 4 * NS else 0
    ticks, pairs = simulate(online, clock, 7.0, offset)
    assert resume_delay_s(ticks, 120) < 2.2
    assert online.diagnostics()[0]['right_wrist_clock_offset_s'] == 0
    assert 'agrees with front' in online.diagnostics()[0]['last_sync_reset']
    assert all(len(set(p)) == 1 for p in pairs)


def feed_streams(live, seconds, delay_ns, clock_ns=lambda s, t: 0):
    """
    Three 30 Hz streams into a LiveSynchronizer; returns (sets' stamps, last arrival).

    Stamp k of every stream is taken at wall time k / 30 s on the stream's clock (wall +
    clock_ns(stream, t)); delay_ns(stream, t) is its transport delay, None: lost. A stream's
    items arrive in order (one publisher, one subscription): a delay that ends drains a backlog.
    """
    sets, events, previous = [], [], [0, 0, 0]
    live.registerCallback(lambda *items: sets.append([stamp for stamp, _ in items]))
    for k in range(int(seconds * 30)):
        wall = k * PERIOD_NS
        for stream in range(3):
            delay = delay_ns(stream, wall / NS)
            if delay is not None:
                previous[stream] = max(wall + delay, previous[stream] + MS // 10)
                events.append((previous[stream], stream, wall + clock_ns(stream, wall / NS)))
    for arrival, stream, stamp in sorted(events):
        live.add(stream, stamp, None, arrival)
    return sets, events and max(e[0] for e in events)


def test_starved_receiver_does_not_leave_every_camera_shifted():
    """
    The trace of the README path's stall (rl_agent_node, real-time factor 1, 2 cores).

    CPU starvation delays the front camera 1.43 s for 3 s (re-based by arrival), then the right
    wrist is silent while the front drains its backlog and comes back on time, then the right
    wrist is late for 1 s. Before the fix each camera was in turn re-based onto the
    previously shifted one, all three ended 1.43 s ahead of their own (and the receiver's)
    clock and every triplet was refused as from the future, for good.
    """
    live = LiveSynchronizer(3, 0.02, 10, 1.0, names=['front', 'left', 'right'])

    def delay(stream, t):
        if stream == 0 and 3 <= t < 6:
            return int(1.43 * NS)
        if stream == 2 and 6 <= t < 8:
            return None
        return int(1.43 * NS) if stream == 2 and 8 <= t < 9 else 2 * MS
    sets, last_arrival = feed_streams(live, 20, delay)
    assert live.offsets_ns == [0, 0, 0]
    assert abs(sets[-1][0] - last_arrival) < 10 * MS    # the stamps are the cameras' own again
    assert live.resets == 2 and 'agrees with left' in live.last_reset


def test_the_last_stream_on_its_own_stamps_is_never_shifted_away():
    """All three cameras move, one by one, to a clock 1.5 s behind: their own stamps agree."""
    live = LiveSynchronizer(3, 0.02, 10, 1.0, names=['front', 'left', 'right'])
    start = {0: 3, 2: 6, 1: 9}   # the front, then the right, then the left wrist

    def clock(stream, t):
        return -int(1.5 * NS) if t >= start[stream] else 0
    sets, last_arrival = feed_streams(live, 14, lambda s, t: 2 * MS, clock)
    assert live.offsets_ns == [0, 0, 0]
    assert 'every stream was shifted' in live.last_reset
    assert sets[-1][0] - last_arrival == pytest.approx(-1.5 * NS, abs=10 * MS)
    assert all(max(stamps) - min(stamps) <= 20 * MS for stamps in sets)


def test_start_episode_starts_with_an_empty_synchronizer():
    clock = FakeClock()
    online = make_online(clock)
    for k in range(10):                         # cameras up to stamp 2.0 s ...
        for c in range(3):
            online.add_image(VIEWS[c], 2 * NS - (9 - k) * PERIOD_NS, image(c, k))
    online.add_image('front', 2 * NS + PERIOD_NS, image(0, 10))   # ... one more queued
    assert online.start_episode() is True
    # a reset sends them 0.4 s back: below the jump threshold, still taken at once
    for c in range(3):
        online.add_image(VIEWS[c], int(1.6 * NS), image(c, 50))
    stamp, _, _, _ = online.tick()
    assert stamp == int(1.6 * NS) and frame_of(online.newest_views()[1]) == [50] * 3
    assert online.diagnostics()[0]['sync_resets'] == 0   # a new episode is not a clock fault


def test_jump_threshold_must_exceed_the_slop():
    with pytest.raises(ValueError, match='jump_threshold must be a number of seconds > slop'):
        make_online(FakeClock(), jump_threshold=0.02)
    with pytest.raises(ValueError, match='jump_threshold'):
        LiveSynchronizer(3, 0.02, jump_threshold=float('nan'))


def test_small_reordering_is_jitter_not_a_reset():
    live = LiveSynchronizer(2, 0.02, jump_threshold=1.0)
    for stream, stamp in [(0, 0), (1, 0), (0, 100 * MS), (0, 60 * MS), (1, 100 * MS)]:
        live.add(stream, stamp, None, arrival_ns=stamp + MS)
    assert live.resets == 0 and live.stats.dropped == [1, 0] and live.stats.emitted == 2


# ------------------------------------------------------------------------------------------
# property: whatever the jumps, jitter and reordering, scoring resumes within 1 s

JUMP_BACK_S = st.one_of(st.floats(0.05, 0.7), st.floats(1.2, 1000.0))
EVENT = st.one_of(
    st.tuples(st.just('all'), JUMP_BACK_S.map(lambda s: -s), st.integers(0, 30)),
    st.tuples(st.just('one'), st.one_of(st.floats(-1000.0, -1.2), st.floats(1.2, 1e5)),
              st.integers(0, 2)))


@settings(max_examples=40, deadline=None)
@given(events=st.lists(EVENT, min_size=1, max_size=3), jitter_ms=st.floats(0.0, 4.0),
       late_share=st.floats(0.0, 0.1), seed=st.integers(0, 2**16))
def test_ticks_resume_after_every_jump(events, jitter_ms, late_share, seed):
    """
    Events every 3 s: all cameras jump back (restarting up to 30 ms apart), or one camera.

    After each, a triplet of views all taken after the event is scored within 1 s (all
    cameras; jumps back below the 1 s threshold included) or within the threshold plus 1 s (one
    camera on a new clock: it must stay apart for the threshold before it is re-based). A
    triplet holds one instant, except across a jump back so small that the stamps themselves
    pair frames that far apart (then at most the jump apart).
    """
    switch_frames = [90 * (i + 1) for i in range(len(events))]   # 3 s apart

    def offset(camera, wall):
        total = 0
        for (kind, amount, who), frame in zip(events, switch_frames):
            if kind == 'all':
                start = frame * PERIOD_NS + (camera * who * MS) // 3   # restarts 0-30 ms apart
            else:
                start = frame * PERIOD_NS if camera == who else None
            if start is not None and wall >= start:
                total += int(amount * NS)
        return total

    clock = FakeClock()
    online = make_online(clock)
    ticks, pairs = simulate(online, clock, 3.0 * (len(events) + 1), offset, seed=seed,
                            jitter_ms=jitter_ms, late_share=late_share)
    for frames in pairs:   # a triplet is one instant, except across a small jump back
        spread_s = (max(frames) - min(frames)) * PERIOD_NS / NS
        assert spread_s == 0 or any(
            kind == 'all' and min(frames) <= frame + 1 and max(frames) >= frame
            and spread_s <= -amount + 0.02 + 2 * jitter_ms / 1000 + 1e-6
            for (kind, amount, _), frame in zip(events, switch_frames)), \
            f'triplet of frames {frames}'
    for (kind, amount, _), frame in zip(events, switch_frames):
        delay = resume_delay_s(ticks, frame + 1)
        bound = 1.0 if kind == 'all' else 2.2
        assert delay <= bound, f'{kind} {amount:+.3f} s: scoring resumed after {delay:.2f} s'
