# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The robot's own episodes, kept for the reward model: one bag per episode with what is known.

While a policy learns, every online episode is written as a rosbag2 folder of the recorder's
kind (mcap, the three camera views, the GRM's ProgressStamped of every tick, the commanded
actions with their intervention flag, so a takeover is in the bag), and what is known of its
outcome goes into metadata.yaml's custom_data under ``OUTCOME_KEY`` (JSON, ``EpisodeOutcome``).
A real arm's episodes and the simulated ones are the same files; the simulator's ground truth,
when there is one, is stored apart (``EpisodeOutcome.evaluation``) and read by benchmarks only,
never by the refresh (grm/refresh.py).

Who said how an episode ended (``EpisodeOutcome.how``):

| how | outcome | meaning |
|---|---|---|
| ``operator`` | as pressed | the operator pressed success or failure |
| ``confirmed`` | success | the detector's success, which the operator let stand |
| ``rejected`` | failure | the detector's success, which the operator rejected |
| ``unmarked`` | failure | the time limit, and the operator, watching, marked no success |
| ``detector`` | success | the detector's success, nobody watching |
| ``time-limit`` | failure | the time limit, nobody watching |
| ``simulator`` | as flagged | the simulator's flag ended it (privileged) |

The first four are a person's judgement (``LABELLED``): with success 'either' the operator
has every episode's label window to press (rl/outcomes.py), so letting an outcome stand is an
answer. The last three are not: the detector's own verdict, or a privileged flag.

A bag is written into a hidden sibling folder and renamed into place, so a reader (a refresh
running beside the learner) never finds half an episode.
"""

from dataclasses import asdict, dataclass, field
import json
import os
from pathlib import Path
import shutil

import numpy as np
from robodopamine_ros.data.bag_location import bag_custom_data, BagError
from robodopamine_ros.data.topics import VIEWS

OUTCOME_KEY = 'robodopamine.outcome'
HOW = ('operator', 'confirmed', 'rejected', 'unmarked', 'detector', 'time-limit', 'simulator')
LABELLED = ('operator', 'confirmed', 'rejected', 'unmarked')
EPISODE_PREFIX = 'episode_'


@dataclass
class EpisodeOutcome:
    """What is known of how one online episode ended (module docstring)."""

    episode_id: int
    success: bool                 # the outcome the learner stored
    how: str                      # who said so: one of HOW
    detector_success: bool = False  # whether the GRM's detector fired
    takeovers: int = 0
    grm: str = ''                 # content hash of the GRM that scored the episode
    robot: str = ''
    evaluation: dict = field(default_factory=dict)   # ground truth, for evaluating only

    def __post_init__(self):
        if self.how not in HOW:
            raise ValueError(f'outcome how must be one of {HOW}, got {self.how!r}')
        if isinstance(self.episode_id, bool) or not isinstance(self.episode_id, int):
            raise ValueError(f'outcome episode_id must be an integer, got {self.episode_id!r}')
        if not isinstance(self.success, bool) or not isinstance(self.detector_success, bool):
            raise ValueError('outcome success and detector_success must be true or false')
        if self.how in ('confirmed', 'detector') and not self.success or \
                self.how in ('rejected', 'unmarked', 'time-limit') and self.success:
            raise ValueError(f'outcome how {self.how!r} contradicts success {self.success}')

    @property
    def labelled(self):
        """Whether a person judged the outcome (LABELLED)."""
        return self.how in LABELLED

    def to_json(self):
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text, where='outcome'):
        """Read an outcome; ValueError names `where` and the field that is wrong."""
        try:
            values = json.loads(text)
            if not isinstance(values, dict):
                raise ValueError('not a JSON object')
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise ValueError(f'{where}: not an episode outcome ({error})') from error


def outcome_how(success, record, operator):
    """
    Return EpisodeOutcome.how from an episode's end (rl/outcomes.py, OutcomeJudge.record).

    success: the stored outcome; record: {'detector_success', 'labels', 'rejected', ...};
    operator: whether an operator watched (success 'operator' or 'either').
    """
    if not operator:
        return 'detector' if success and record.get('detector_success') else \
            'simulator' if success else 'time-limit'
    if record.get('rejected'):
        return 'rejected'
    if record.get('labels'):
        return 'operator'
    return 'confirmed' if success else 'unmarked'


def tick_fields(episode_id, tick, stamp_ns, estimate):
    """Return a ProgressStamped's fields (a dict, as bags read them) from a ProgressEstimate."""
    return {'stamp_ns': int(stamp_ns), 'episode_id': max(0, int(episode_id)), 'tick': int(tick),
            'progress': estimate.progress, 'progress_incremental': estimate.incremental,
            'progress_forward': estimate.forward, 'progress_backward': estimate.backward,
            'hop': estimate.hop, 'confidence': estimate.confidence,
            'success': bool(estimate.success), 'inference_latency': 0.0, 'stalled': False}


def episode_folder(folder, episode_id):
    """Return the bag folder of one episode under `folder` (episode_000042)."""
    return Path(folder) / f'{EPISODE_PREFIX}{int(episode_id):06d}'


def write_online_episode(folder, outcome, stamps, views, progress, actions=()):
    """
    Write one online episode as a bag under `folder`; returns its path.

    stamps: (T,) int ns of the GRM ticks; views: (T, 3, H, W, 3) uint8 in VIEWS order (the
    images the GRM scored); progress: T dicts of ProgressStamped fields (stamp_ns included);
    actions: (stamp_ns, values, intervention) per control step. An existing bag of the same
    episode is replaced whole.
    """
    from robodopamine_ros.data.bag_writer import EpisodeBagWriter

    views = np.asarray(views)
    if views.ndim != 5 or views.shape[1] != len(VIEWS) or views.dtype != np.uint8:
        raise ValueError(f'episode {outcome.episode_id}: views must be (T, 3, H, W, 3) uint8, '
                         f'got {views.dtype} {views.shape}')
    if len(views) != len(stamps) or len(progress) != len(stamps):
        raise ValueError(f'episode {outcome.episode_id}: {len(stamps)} stamps, {len(views)} '
                         f'view triplets, {len(progress)} progress messages')
    final = episode_folder(folder, outcome.episode_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f'.{final.name}.writing')
    shutil.rmtree(tmp, ignore_errors=True)
    with EpisodeBagWriter(tmp, storage='mcap', image_format='png',
                          custom_data={OUTCOME_KEY: outcome.to_json()}) as writer:
        for index, stamp in enumerate(stamps):
            writer.write_triplet(int(stamp), dict(zip(VIEWS, views[index])))
            writer.write_progress(progress[index])
        for stamp, values, intervention in actions:
            writer.write_action(int(stamp), values, bool(intervention),
                                'teleop' if intervention else 'policy')
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def read_outcome(path):
    """Return the EpisodeOutcome stored with a bag; BagError names the bag when it has none."""
    data = bag_custom_data(path)
    if OUTCOME_KEY not in data:
        raise BagError(f'{path}: no {OUTCOME_KEY} in metadata.yaml custom_data (not an '
                       'online episode, or its recording did not finish)')
    return EpisodeOutcome.from_json(data[OUTCOME_KEY], f'{path}: {OUTCOME_KEY}')


def online_episode_paths(folder):
    """Return the finished episode bags under `folder`, in episode order."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and
                  p.name.startswith(EPISODE_PREFIX))


@dataclass
class OnlineEpisode:
    """One online episode read back for a refresh: frames, the GRM's progress, takeovers."""

    path: Path
    outcome: EpisodeOutcome
    stamps: np.ndarray        # (T,) int ns
    frames: np.ndarray        # (T, 3, H, W, 3) uint8, VIEWS order
    progress: np.ndarray      # (T,) the progress the GRM that scored it published
    takeovers: np.ndarray     # (T,) bool: a takeover (intervention) begins at this frame

    @property
    def num_frames(self):
        return len(self.stamps)


def read_online_episode(path, image_size, outcome=None):
    """
    Read an online episode's bag at the GRM's image size (width, height).

    Views recorded at another aspect ratio than image_size are refused (resizing would distort
    them), naming the bag, the view and both sizes; a view of the same aspect ratio is resized.
    Raises BagError for a bag without an outcome or without progress on a frame.
    """
    from robodopamine_ros.data.bags import read_episode, ReadOptions

    path = Path(path)
    outcome = outcome or read_outcome(path)   # outcome: when the caller read it already
    episode = read_episode(path, ReadOptions(storage='mcap'), image_size=tuple(image_size))
    width, height = image_size
    for view, (w, h) in (episode.sync or {}).get('camera_sizes', {}).items():
        if abs(w / h - width / height) > 0.01 * width / height:
            raise BagError(f'{path}: view {view} is {w} x {h}, the GRM expects {width} x '
                           f'{height} (another aspect ratio): not used to refresh it')
    by_stamp = {int(p['stamp_ns']): float(p['progress']) for p in episode.progress}
    missing = [int(s) for s in episode.stamps if int(s) not in by_stamp]
    if missing:
        raise BagError(f'{path}: no progress message at {len(missing)} of '
                       f'{len(episode.stamps)} frames (first at {missing[0]} ns)')
    starts = np.zeros(len(episode.stamps), dtype=bool)
    flags = episode.streams.get('intervention')
    if flags is not None and len(flags):
        on = flags.values[:, 0].astype(bool)
        begin = flags.stamps[on & ~np.concatenate([[False], on[:-1]])]
        index = np.searchsorted(episode.stamps, begin, side='left')
        starts[index[index < len(starts)]] = True
    return OnlineEpisode(path, outcome, episode.stamps,
                         np.stack([episode.views[v] for v in VIEWS], axis=1),
                         np.array([by_stamp[int(s)] for s in episode.stamps], dtype=np.float32),
                         starts)


def read_labelled_episodes(folder, image_size, log=print):
    """
    Read the labelled episodes' bags under `folder` (OnlineEpisode, in episode order).

    A bag that cannot be used (no outcome, views of another aspect ratio, a frame without
    progress) is named in the log and skipped; an episode nobody labelled is not read.
    """
    out = []
    for path in online_episode_paths(folder):
        try:
            outcome = read_outcome(path)
            if outcome.labelled:
                out.append(read_online_episode(path, image_size, outcome))
        except (BagError, ValueError) as error:
            log(f'skipped {path.name}: {error}')
    return out
