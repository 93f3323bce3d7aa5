# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Which recorded camera messages form synchronized triplets (ROS-free, stamps only).

Input: per camera, the header stamp and the bag's receive stamp of every message, in the bag's
order (receive order). Output: a TripletPlan, i.e. the message index of each camera in each
triplet, the triplet's stamp and what was done to get there. No image is touched, so a reader
plans on stamps and then decodes only the chosen messages.

Rules, in order:

1. Clock. Header stamps are used unless a camera's header stamps are unusable: all zero, all
   equal, or half of them zero or equal to the one before (drivers whose clock is not set). Then
   every camera is synchronized by the bag's receive time (one clock for all), with a warning.
   ``stamps='header'`` or ``'receive'`` forces the choice.
2. Monotonic stretches. A stamp more than 0.1 s behind the newest one of its camera either
   starts a new stretch (a clock step back, a looped recording: the next messages, up to three,
   are still behind that newest stamp, or none follow) or is a late message (one of the next
   three is not), dropped and counted. Stamps less than 0.1 s behind are reordered (so a step
   back under 0.1 s interleaves a few frames). Equal stamps within a stretch keep the first
   message.
3. Stretch k of each camera is synchronized with stretch k of the others (sync.synchronize,
   approximate time within ``slop``); triplets never mix stretches.
4. The frame stamps of the result: the front camera's header stamps when those were used and
   form one stretch; otherwise its receive stamps (made non-decreasing), so an episode's
   timeline always increases. ``TripletPlan.clock`` says which; the other recorded streams must
   be read on the same clock.

The robot's recorded streams (``joint_states``, the hand pose, the objects' poses, the actions)
are read on the frames' clock by ``robot_stream_stamps``: their header stamps, unless those are
unusable by rule 1 (zero, frozen) or do not overlap the frames at all (another clock). Then the
stream is read by the bag's receive time, shifted onto the frames' clock by the front camera's
median header minus receive time, with a warning naming the topic; a stream that overlaps the
frames in neither is refused. Every demonstration step would otherwise get one sample: the
state in effect at every frame would be the stream's first or last.

When nothing synchronizes, ``NoTripletsError`` gives the cameras' observed spread and the
``--slop`` (or ``--stamps receive``, for clocks seconds apart) that would synchronize them.
"""

from dataclasses import dataclass, field
import math

import numpy as np

from robodopamine_ros.data.sync import synchronize

TOLERANCE_NS = 100_000_000          # 0.1 s: further behind is a step back or a late message
LOOKAHEAD = 3                       # messages that must stay behind for a step back
STAMP_CHOICES = ('auto', 'header', 'receive')


class NoTripletsError(ValueError):
    """No camera triplet synchronizes; the message names the cameras and suggests a fix."""


@dataclass
class CameraStamps:
    """The stamps of one camera's messages, in the bag's (receive) order."""

    topic: str
    header: np.ndarray    # (N,) int64 ns, header.stamp
    receive: np.ndarray   # (N,) int64 ns, when the recorder received it

    def __post_init__(self):
        self.header = np.asarray(self.header, dtype=np.int64).reshape(-1)
        self.receive = np.asarray(self.receive, dtype=np.int64).reshape(-1)
        if len(self.header) != len(self.receive):
            raise ValueError(f'{self.topic}: {len(self.header)} header stamps but '
                             f'{len(self.receive)} receive stamps')

    def __len__(self):
        return len(self.header)


@dataclass
class TripletPlan:
    """The synchronized triplets of a recording and how they were found."""

    indices: np.ndarray          # (T, num cameras) message index of each camera per triplet
    stamps: np.ndarray           # (T,) int64 ns on `clock`, non-decreasing
    clock: str                   # 'header' or 'receive': the clock of `stamps`
    synchronized_by: str         # 'header' or 'receive': the stamps matched within the slop
    stretches: list              # per stretch: {'messages': [per camera], 'triplets': n}
    dropped: list                # per camera: messages in no triplet
    worst_skew_ns: int
    warnings: list = field(default_factory=list)

    def __len__(self):
        return len(self.stamps)

    def sync_dict(self):
        """Statistics for Episode.sync (JSON-friendly)."""
        return {'emitted': len(self), 'dropped': list(self.dropped),
                'worst_skew_ms': self.worst_skew_ns / 1e6, 'clock': self.clock,
                'synchronized_by': self.synchronized_by,
                'stretches': [dict(s) for s in self.stretches]}


def plan_triplets(cameras, slop, stamps='auto', where='cameras'):
    """
    Plan the synchronized triplets of several cameras (see the module rules).

    cameras: sequence of CameraStamps, the first one is the reference (front) camera. slop:
    largest stamp spread within a triplet, seconds (> 0). stamps: 'auto', 'header' or
    'receive'. where: prefix of error messages (the bag's path). Raises NoTripletsError when
    nothing synchronizes, ValueError for unusable input.
    """
    if stamps not in STAMP_CHOICES:
        raise ValueError(f'stamps must be one of {STAMP_CHOICES}, got {stamps!r}')
    if not slop > 0:
        raise ValueError(f'slop must be > 0 seconds, got {slop!r}')
    warnings = []
    empty = [c.topic for c in cameras if not len(c)]
    if empty:
        raise ValueError(f'{where}: camera topics without messages: {", ".join(empty)}')
    by = _choose_clock(cameras, stamps, where, warnings)
    gaps = []
    per_camera = [_split_stretches(c, getattr(c, by), by, warnings, gaps) for c in cameras]
    warnings.extend(_gap_warnings(gaps))
    counts = [len(s) for s in per_camera]
    if len(set(counts)) > 1:
        warnings.append('the cameras step back a different number of times ('
                        + ', '.join(f'{c.topic}: {n - 1}' for c, n in zip(cameras, counts))
                        + '): stretches are paired in order, and a pair from different '
                        'clocks does not synchronize')
    rows, stretches, skew = [], [], 0
    for k in range(max(counts)):
        streams = [s[k] if k < len(s) else [] for s in per_camera]
        sets = []
        if all(streams):
            sets, stats = synchronize(streams, slop)
            skew = max(skew, stats.worst_skew_ns)
        rows.extend(tuple(index for _, index in triplet) for triplet in sets)
        stretches.append({'messages': [len(s) for s in streams], 'triplets': len(sets)})
    if len(stretches) > 1:
        warnings.append(f'{by} stamps step back: {len(stretches)} monotonic stretches '
                        'synchronized separately ('
                        + ', '.join(f'{s["triplets"]} triplets' for s in stretches) + ')')
    if not rows:
        raise NoTripletsError(f'{where}: no synchronized triplets within a slop of {slop} s '
                              f'(cameras {", ".join(c.topic for c in cameras)}, synchronized '
                              f'by {by} stamps); {_hint(per_camera, slop, by)}')
    indices = np.array(rows, dtype=np.int64)
    clock = 'header' if by == 'header' and len(stretches) == 1 else 'receive'
    frame_stamps = getattr(cameras[0], clock)[indices[:, 0]]
    if clock == 'receive':
        frame_stamps = np.maximum.accumulate(frame_stamps)
    dropped = [len(c) - len(rows) for c in cameras]
    for camera, lost in zip(cameras, dropped):
        if lost:
            text = f'{camera.topic}: {lost} of {len(camera)} frames not synchronized ' \
                   f'(slop {slop} s), dropped'
            if lost > len(camera) // 2:
                text += f'; {_hint(per_camera, slop, by)}'
            warnings.append(text)
    if clock != by:
        warnings.append("frame stamps are the bag's receive times (the header stamps step "
                        'back); the other recorded streams are read on the same clock')
    return TripletPlan(indices=indices, stamps=frame_stamps.astype(np.int64), clock=clock,
                       synchronized_by=by, stretches=stretches, dropped=dropped,
                       worst_skew_ns=int(skew), warnings=warnings)


def header_stamps_problem(header):
    """
    Return why stamps cannot be used ('all zero', ...), or None when they can.

    Unusable: at least half of the messages carry a zero stamp or the same stamp as the message
    before (a clock that is not set, or frozen). Stamps repeating later, as in a looped
    recording, are usable (monotonic stretches).
    """
    header = np.asarray(header, dtype=np.int64)
    if not len(header):
        return None
    zero = header == 0
    repeated = np.r_[False, (header[1:] == header[:-1]) & ~zero[1:]]
    bad = int(np.sum(zero | repeated))
    if bad < len(header) / 2:
        return None
    if zero.all():
        return 'all zero'
    if np.all(header == header[0]):
        return f'all equal ({int(header[0])} ns)'
    return f'{bad} of {len(header)} zero or equal to the one before'


def _span(stamps, origin):
    """Return 'a..b s' of stamps (ns) relative to origin (ns)."""
    first, last = int(stamps.min()) - origin, int(stamps.max()) - origin
    return f'{first / 1e9:+.3f}..{last / 1e9:+.3f} s'


def _overlaps(stamps, frames):
    return len(stamps) < 2 or (stamps.min() <= frames.max() and stamps.max() >= frames.min())


def robot_stream_stamps(topic, header, receive, frames, clock, offset_ns=0):
    """
    Return the stamps (ns, on the frames' clock) of one recorded robot stream (module's rule).

    header, receive: the stream's header and receive stamps (N,); frames: the episode's frame
    stamps (T,) on `clock` ('header' or 'receive', TripletPlan.clock); offset_ns: the frames'
    clock minus the receive clock (the front camera's median; 0 on the receive clock). Returns
    (stamps (N,) int64, the clock read: 'header' or 'receive', a warning naming the topic or
    None). Raises ValueError naming the topic and both stamp ranges when neither clock overlaps
    the frames.
    """
    header = np.asarray(header, dtype=np.int64).reshape(-1)
    receive = np.asarray(receive, dtype=np.int64).reshape(-1)
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    origin = int(frames.min())
    shifted = receive + int(offset_ns)
    if clock == 'receive':
        problem = 'the frames are on the receive clock'
    else:
        problem = header_stamps_problem(header) if len(header) > 1 or not len(header) \
            else ('zero' if header[0] == 0 else None)
        if problem is None and _overlaps(header, frames):
            return header, 'header', None
        if problem is None:
            problem = f'{_span(header, origin)} of the first frame, the frames ' \
                      f'{_span(frames, origin)}: another clock'
    if not _overlaps(shifted, frames):
        raise ValueError(f'{topic}: no usable stamps: the receive times are '
                         f'{_span(shifted, origin)} of the first frame, the frames '
                         f'{_span(frames, origin)}' + ('' if clock == 'receive' else
                                                       f'; header stamps {problem}'))
    if clock == 'receive':
        return shifted, 'receive', None
    return shifted, 'receive', (f"{topic}: header stamps unusable ({problem}): read by the bag's "
                                f"receive time, shifted by the front camera's "
                                f'{offset_ns / 1e9:.3f} s header minus receive time')


def _choose_clock(cameras, stamps, where, warnings):
    if stamps == 'receive':
        warnings.append("synchronizing by the bag's receive time (stamps: receive)")
    elif stamps == 'header':
        return 'header'
    else:
        bad = [(c.topic, problem) for c in cameras
               if (problem := header_stamps_problem(c.header)) is not None]
        if not bad:
            return 'header'
        warnings.append('header stamps unusable ('
                        + '; '.join(f'{topic}: {problem}' for topic, problem in bad)
                        + "): synchronizing all cameras by the bag's receive time (when "
                        'the recorder received each message)')
    bad = [(c.topic, problem) for c in cameras
           if (problem := header_stamps_problem(c.receive)) is not None]
    if bad:
        raise ValueError(f'{where}: no usable stamps: receive times are '
                         + '; '.join(f'{topic}: {problem}' for topic, problem in bad))
    return 'receive'


def _split_stretches(camera, stamps, by, warnings, gaps):
    """
    Split one camera's messages into monotonic stretches (rule 2 of the module).

    Returns a list of stretches, each a list of (stamp, message index) sorted by stamp with
    duplicates removed; appends warnings for reordered, late and duplicate messages, and its
    gaps to `gaps` as (topic, start ns, end ns).
    """
    tolerance = TOLERANCE_NS
    stretches, current = [], []
    top = None
    late = reordered = 0
    steps = []
    for i, stamp in enumerate(stamps.tolist()):
        if top is not None and stamp < top - tolerance:
            ahead = stamps[i + 1:i + 1 + LOOKAHEAD]
            if np.all(ahead < top):  # also at the end: nothing says it is late
                steps.append((i, top, stamp))
                stretches.append(current)
                current, top = [], None
            else:
                late += 1
                continue
        if top is not None and stamp < top:
            reordered += 1
        current.append((stamp, i))
        top = stamp if top is None else max(top, stamp)
    stretches.append(current)
    duplicates = 0
    out = []
    for stretch in stretches:
        stretch.sort()
        unique = [item for k, item in enumerate(stretch)
                  if k == 0 or item[0] != stretch[k - 1][0]]
        duplicates += len(stretch) - len(unique)
        out.append(unique)
        gaps.extend(_gaps(camera.topic, [s for s, _ in unique]))
    topic = camera.topic
    if reordered:
        warnings.append(f'{topic}: {reordered} messages with out-of-order {by} stamps '
                        '(reordered)')
    if late:
        warnings.append(f'{topic}: {late} messages more than {tolerance / 1e9:.3g} s behind '
                        f'the newest {by} stamp (late, or a stray zero stamp), dropped')
    if duplicates and by == 'header':
        warnings.append(f'{topic}: {duplicates} messages with a duplicate header stamp '
                        'dropped')
    elif duplicates:
        warnings.append(f'{topic}: {duplicates} messages with a duplicate receive time '
                        'dropped')
    for index, before, after in steps:
        warnings.append(f'{topic}: {by} stamps step back {(before - after) / 1e9:.3f} s at '
                        f'message {index} (clock step or looped recording)')
    return out


def _gaps(topic, stamps):
    """Return a camera's gaps, (topic, start ns, end ns): over 5 periods and over 0.5 s."""
    if len(stamps) <= 2:
        return []
    stamps = np.asarray(stamps, dtype=np.int64)
    period = float(np.median(np.diff(stamps)))
    return [(topic, int(stamps[g]), int(stamps[g + 1]))
            for g in np.nonzero(np.diff(stamps) > max(5 * period, 0.5e9))[0]]


def _gap_warnings(gaps):
    """
    One warning per gap: gaps of several cameras that overlap in time are one gap.

    A recording that stalled (all cameras silent for a second) is one line naming the cameras,
    not one line per camera.
    """
    groups = []
    for topic, start, end in sorted(gaps, key=lambda gap: gap[1]):
        if groups and start < groups[-1]['end'] and topic not in groups[-1]['topics']:
            group = groups[-1]
            group['topics'].append(topic)
            group['durations'].append(end - start)
            group['end'] = max(group['end'], end)
        else:
            groups.append({'topics': [topic], 'start': start, 'end': end,
                           'durations': [end - start]})
    order = {topic: k for k, (topic, _, _) in reversed(list(enumerate(gaps)))}  # cameras'
    out = []
    for group in groups:
        group['topics'].sort(key=order.get)
        shortest, longest = (f'{d / 1e9:.2f}' for d in (min(group['durations']),
                                                        max(group['durations'])))
        span = shortest if shortest == longest else f'{shortest}-{longest}'
        out.append(f'{", ".join(group["topics"])}: no frames for {span} s after stamp '
                   f'{group["start"]} ns')
    return out


def observed_spread_ns(per_camera):
    """
    Return the median spread (max - min stamp) of the closest triplets, in ns, or None.

    For each stamp of the camera with the fewest messages in a stretch, the nearest stamp of
    every other camera; the spread of those, over all stretches.
    """
    spreads = []
    for k in range(min(len(s) for s in per_camera)):
        streams = [np.array([stamp for stamp, _ in s[k]], dtype=np.int64) for s in per_camera]
        if not all(len(s) for s in streams):
            continue
        pivot = min(range(len(streams)), key=lambda c: len(streams[c]))
        chosen = [_nearest(stream, streams[pivot]) for stream in streams]
        stacked = np.stack(chosen)
        spreads.extend((stacked.max(axis=0) - stacked.min(axis=0)).tolist())
    return int(np.median(spreads)) if spreads else None


def _nearest(sorted_stamps, targets):
    right = np.clip(np.searchsorted(sorted_stamps, targets), 0, len(sorted_stamps) - 1)
    left = np.clip(right - 1, 0, len(sorted_stamps) - 1)
    pick_left = np.abs(sorted_stamps[left] - targets) <= np.abs(sorted_stamps[right] - targets)
    return np.where(pick_left, sorted_stamps[left], sorted_stamps[right])


def suggested_slop(spread_ns):
    """Return the --slop (seconds) covering a spread with a 10 % margin, rounded up to 5 ms."""
    return math.ceil(spread_ns * 1.1 / 5e6) * 5 / 1000


def _hint(per_camera, slop, by):
    spread = observed_spread_ns(per_camera)
    if spread is None:
        return 'no stretch has messages of every camera'
    if spread >= 1e9:
        text = f"the cameras' {by} stamps are {spread / 1e9:.1f} s apart (different clocks?)"
        return text + ("; pass --stamps receive to synchronize by the bag's receive time"
                       if by == 'header' else '')
    suggestion = suggested_slop(spread)
    if suggestion <= slop:
        return f'the cameras are about {spread / 1e6:.1f} ms apart (median spread of the ' \
               'closest triplets)'
    return f'the cameras are about {spread / 1e6:.1f} ms apart (median spread of the closest ' \
           f'triplets): try --slop {suggestion:g}'
