# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Live progress from camera streams: what grm_node does, without ROS.

Camera images come in (any thread) with their stamps; an approximate-time synchronizer groups
them into (front, left wrist, right wrist) triplets and only the NEWEST triplet is kept: a tick
(another thread, at the GRM rate) scores it once and drops it, so stale views are never queued
or scored twice. No new triplet since the last tick (a camera dropped out) means no estimate.

Camera clocks may jump (a simulator reset, a bag played in a loop, a restarted camera driver):
sync.LiveSynchronizer resets synchronization when stamps jump back by more than
``jump_threshold`` seconds, and re-bases a camera whose clock stays that far from the others'
(diagnostics count the resets and name the last reason). A new episode starts with an empty
synchronizer. Staleness (silent cameras, resets) is measured on a monotonic clock.
"""

from dataclasses import dataclass, field
from pathlib import Path
import threading
import time

from robodopamine_ros.data.sync import LiveSynchronizer
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.view_slots import ViewSlots
from robodopamine_ros.grm.base import ProgressEstimator
from robodopamine_ros.reward.contract import grm_terms, reference_hashes
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.stall import StallDetector


def folder_version(folder):
    """
    Return what identifies one version of a model folder: its inode and its files' stats.

    A swap (grm/model_folder.py) puts a new folder, a new inode, at the path; the files' sizes
    and modification times catch a folder rewritten in place. None when it cannot be read.
    """
    try:
        folder = Path(folder)
        stat = folder.stat()
        files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                       for p in folder.iterdir() if p.is_file())
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, tuple(files))


@dataclass
class OnlineStats:
    """Counters for diagnostics."""

    images: dict = field(default_factory=lambda: dict.fromkeys(VIEWS, 0))
    last_image_ns: dict = field(default_factory=lambda: dict.fromkeys(VIEWS))  # monotonic clock
    triplets: int = 0
    skipped_triplets: int = 0     # replaced by a newer one before a tick took them
    ticks: int = 0
    idle_ticks: int = 0           # ticks without a new triplet
    latency_s: float = 0.0        # model time of the last tick
    answered_by: str = ''         # a served GRM: who answered the last tick (model@server)
    stalls: int = 0               # ticks on which an episode became stalled (reward/stall.py)


class OnlineProgress:
    """
    Synchronize, keep the newest triplet, score it at tick time.

    slop: s, largest stamp spread inside a triplet. jump_threshold: s, camera stamps going back
    by more than this reset synchronization, and a camera whose clock stays this far from the
    others' for this long is synchronized by arrival time (ValueError unless > slop). clock:
    monotonic time in ns (arrival times and staleness), replaceable in tests. synchronizer: the
    approximate-time synchronizer under sync.LiveSynchronizer (None: sync's own; grm_node
    passes message_filters' where it is importable). stall: a reward.stall.StallConfig (None:
    its defaults). slots: a data.view_slots.ViewSlots (None: all three views): only the
    slots a camera fills are synchronized, the empty ones are filled by its rule.
    """

    def __init__(self, model, task, reference_start, reference_end, goal_views=None,
                 config=ProgressConfig(), slop=0.02, queue_size=10, jump_threshold=1.0,
                 clock=time.monotonic_ns, synchronizer=None, stall=None, slots=None):
        self.model, self.task, self.config = model, task, config
        self.reference_start, self.reference_end = reference_start, reference_end
        self.goal_views = goal_views
        self._clock = clock
        self._lock = threading.Lock()           # images and the newest triplet
        self._episode_lock = threading.Lock()   # the estimator: ticks vs start/goal
        self.slots = slots or ViewSlots()
        self.cameras = self.slots.present   # the views a camera fills, synchronized
        self._sync = LiveSynchronizer(len(self.cameras), slop, queue_size, jump_threshold,
                                      names=self.cameras, on_reset=self._on_sync_reset,
                                      **({'synchronizer': synchronizer} if synchronizer
                                         else {}))
        self._sync.registerCallback(self._on_triplet)
        self._newest = None          # (stamp_ns, views) not yet scored
        self._last_seen = None       # (stamp_ns, views), scored or not: for start and goal
        self.stats = OnlineStats()
        self.estimator = None
        self.episode_id = 0
        self.terms = None   # the reward contract's GRM half (from_settings)
        self._source = None  # the model folder and its version (from_settings)
        self.scored = None   # (stamp_ns, views) of the last tick or episode start
        self.stall = StallDetector(stall)   # on the ticks' camera stamps, in seconds
        self._stall_restart = False

    @classmethod
    def from_settings(cls, backend, model_dir='', task='', goal_image='', device='cpu',
                      config=ProgressConfig(), slop=0.02, jump_threshold=1.0,
                      synchronizer=None, stall=None, slots=None, server=None):
        """
        Build from grm_node's settings.

        backend 'pixel-baseline' needs no folder; 'openai' asks a served Qwen-VL GRM
        (grm/served.py; server: its ServedGRM keyword arguments, base_url, model, api_key_env,
        timeout_s), with model_dir optional (its saved prompt template and task); otherwise
        model_dir is a compact or VLM model folder. References are the model's saved START/END
        images; goal_image (a file) is the goal of the backward query, and the only reference
        when the model has none (a VLM, served or not). An empty task means the task stored
        with the model. slots: which camera (topic) fills each view (data.view_slots.ViewSlots;
        None: all three, named by the views), also recorded in the reward contract's GRM half
        (``terms``: reward/contract.py; a served GRM's identity there is
        ``openai:<model>@<base_url>``, what can be known of a model on another machine).
        """
        from robodopamine_ros.grm.loading import load_grm, read_rgb, saved_template, stored_task

        if backend not in ('pixel-baseline', 'openai') and not model_dir:
            raise ValueError(f'backend {backend!r} needs the model_dir parameter')
        if backend == 'openai':
            from robodopamine_ros.grm.served import ServedGRM
            from robodopamine_ros.grm.vlm import PromptTemplate
            if not task:
                raise ValueError('backend openai needs the task parameter (the instruction '
                                 'the served GRM is asked about)')
            template = saved_template(model_dir) if model_dir else None
            model = ServedGRM(template=template and PromptTemplate(template), **(server or {}))
            references = None
        else:
            model, references = load_grm('pixel-baseline' if backend == 'pixel-baseline'
                                         else model_dir, device=device)
        goal_front = read_rgb(goal_image, 'goal_image') if goal_image else None
        if references is None and goal_front is None:
            raise ValueError('no reference images: the model folder has none and goal_image '
                             'is empty')
        start_ref, end_ref = references or (goal_front, goal_front)
        goal = (goal_front,) * 3 if goal_front is not None else None
        task = task or stored_task(model)
        online = cls(model, task, start_ref, end_ref, goal, config, slop=slop,
                     jump_threshold=jump_threshold, synchronizer=synchronizer, stall=stall,
                     slots=slots)
        spec = 'pixel-baseline' if backend == 'pixel-baseline' else model_dir
        template = saved_template(model_dir) if model.name in ('vlm', 'openai') and model_dir \
            else None
        online.terms = grm_terms(spec, model.name, task, template=template,
                                 references=(start_ref, end_ref, goal_front),
                                 views=online.slots.cameras, fill=online.slots.fill,
                                 progress=config, content_hash=(
                                     f'openai:{model.model}@{model.base_url}'
                                     if backend == 'openai' else None))
        if backend not in ('pixel-baseline', 'openai'):
            online._source = {'folder': Path(model_dir), 'device': device,
                              'version': folder_version(model_dir), 'task_given': bool(task),
                              'goal': goal_front}
        return online

    def reload_if_swapped(self):
        """
        Load the model folder again when it was replaced since it was loaded.

        Called between episodes (grm_node's ``~/start_episode``): a GRM refresh
        (grm/refresh.py) swaps a new model into the folder in one rename, and the next
        episode is scored by it. Returns None when the folder is the one loaded (or the
        backend has none); else (taken, a sentence for the log): the swap with both content
        hashes, or why the new folder was not taken (the current model stays: a model of
        another image size or backend, a folder that does not load).
        """
        from robodopamine_ros.grm.loading import load_grm, stored_task

        source = self._source
        if source is None:
            return None
        version = folder_version(source['folder'])
        if version == source['version'] or version is None:
            return None
        source['version'] = version
        old = self.terms['grm']
        try:
            model, references = load_grm(str(source['folder']), device=source['device'])
            size, running = (getattr(m, 'config', {}).get('image_size') for m in (model,
                                                                                  self.model))
            if model.name != self.model.name or size != running:
                raise ValueError(f'{model.name} model of image size {size}, the running one '
                                 f'is a {self.model.name} model of {running}')
            task = self.task if source['task_given'] else stored_task(model) or self.task
            references = references or (self.reference_start, self.reference_end)
            terms = grm_terms(str(source['folder']), model.name, task,
                              references=(*references, source['goal']),
                              views=self.slots.cameras, fill=self.slots.fill,
                              progress=self.config)
        except (OSError, ValueError) as error:
            return False, (f'the GRM folder {source["folder"]} changed but was not taken '
                           f'({error}): still scoring with {old[:23]}')
        with self._episode_lock:
            self.model, self.terms, self.task = model, terms, task
            self.reference_start, self.reference_end = references
        return True, f'GRM swapped between episodes: {old[:23]} -> {terms["grm"][:23]}'

    @property
    def sync_stats(self):
        return self._sync.stats

    def add_image(self, view, stamp_ns, image):
        """Feed one camera image with its header stamp in ns (thread-safe)."""
        with self._lock:
            arrival = self._clock()
            self.stats.images[view] += 1
            self.stats.last_image_ns[view] = arrival
            self._sync.add(self.cameras.index(view), stamp_ns, image, arrival)

    def _on_sync_reset(self, reason):
        self._newest = None  # a triplet from before a clock jump is not scored
        self._stall_restart = True   # nor does the stall window span the jump (next tick)

    def _on_triplet(self, *items):
        if self._newest is not None:
            self.stats.skipped_triplets += 1
        self._newest = (items[0][0], self.slots.complete(
            dict(zip(self.cameras, (image for _, image in items)))))
        self._last_seen = self._newest
        self.stats.triplets += 1

    def newest_views(self):
        with self._lock:
            return self._last_seen

    def start_episode(self, episode_id=None):
        """Begin an episode at the newest synchronized views; False if there are none yet."""
        seen = self.newest_views()
        if seen is None:
            return False
        with self._episode_lock:
            self.episode_id = episode_id if episode_id else self.episode_id + 1
            self.estimator = ProgressEstimator(self.model, self.task, self.reference_start,
                                               self.reference_end, self.goal_views,
                                               self.config)
            self.estimator.start(seen[1])
            self.scored = seen     # the start views: the episode's tick 0
            self.stall.restart()
            self.stall.update(seen[0] / 1e9, 0.0)   # t_0: the start views, progress 0
            with self._lock:
                self._newest = None  # the start views are s_0, not a tick
                self._sync.clear()   # nothing queued before the episode pairs after it
        return True

    def capture_goal(self):
        """Use the newest views as the goal of the backward-anchored query."""
        seen = self.newest_views()
        if seen is None:
            return False
        with self._episode_lock:
            self.goal_views = seen[1]
            if self.estimator is not None:
                self.estimator.goal = seen[1]
            if self.terms is not None:   # the reward contract names the goal in use
                self.terms = dict(self.terms, references=reference_hashes(
                    (self.reference_start, self.reference_end, *seen[1])))
        return True

    def tick(self):
        """
        Score the newest triplet once. Returns (stamp_ns, Tick, episode id, stalled) or None.

        None when no episode runs or no new synchronized triplet arrived since the last tick.
        stalled: the stall rule (reward/stall.py) on the ticks' camera stamps.
        """
        with self._episode_lock:
            with self._lock:
                newest, self._newest = self._newest, None
            self.stats.ticks += 1
            if self.estimator is None or newest is None:
                self.stats.idle_ticks += 1
                return None
            stamp, views = newest
            self.scored = newest   # (stamp_ns, views) of this tick: what an episode bag keeps
            result = self.estimator.tick(views, frame=stamp)
            self.stats.latency_s = result.latency_s
            self.stats.answered_by = result.source or self.stats.answered_by
            if self._stall_restart:   # the camera clocks jumped: a window on one clock
                self.stall.restart()
                self._stall_restart = False
            was = self.stall.stalled
            # an episode whose success was detected is done, not stuck (it waits for its end)
            stalled = self.stall.update(stamp / 1e9, result.estimate.progress) and \
                not result.estimate.success
            self.stats.stalls += stalled and not was
            return stamp, result, self.episode_id, stalled

    def silent_cameras(self, timeout_s=1.0):
        """Return the views that sent no image in the last timeout_s seconds (or never)."""
        now = self._clock()
        return [v for v in self.cameras if self.stats.last_image_ns[v] is None
                or (now - self.stats.last_image_ns[v]) / 1e9 > timeout_s]

    def stall_warnings(self):
        """Return the line about a stalled episode worth a warning ([] while it moves)."""
        if not self.stall.stalled:
            return []
        config = self.stall.config
        return [f'progress stalled: it rose by less than {config.min_gain:g} in '
                f'{config.window:g} s of episode {self.episode_id}: the robot may be stuck']

    def clock_warnings(self, recent_s=10.0):
        """
        Return lines about camera clocks worth a warning.

        The last synchronizer reset when it happened less than recent_s seconds ago, and each
        camera synchronized by arrival time because its clock is apart from the others'.
        """
        with self._lock:
            live = self._sync
            lines = [f'{view} synchronized by arrival time (clock {offset / 1e9:+.3f} s off)'
                     for view, offset in zip(self.cameras, live.offsets_ns) if offset]
            if live.last_reset_ns is not None \
                    and (self._clock() - live.last_reset_ns) / 1e9 < recent_s:
                lines.insert(0, f'synchronizer reset: {live.last_reset}')
        return lines

    def diagnostics(self, timeout_s=1.0):
        """
        Return (values for a diagnostics message, silent camera views).

        values include sync_resets (synchronizer resets on camera clock jumps since start),
        last_sync_reset (its reason, '' if none), last_sync_reset_age_s (s, -1 if none) and
        <view>_clock_offset_s (s added to a camera's stamps; 0 unless its clock is apart).
        """
        stats, sync, live = self.stats, self._sync.stats, self._sync
        values = {'ticks': stats.ticks, 'idle_ticks': stats.idle_ticks,
                  'triplets': stats.triplets, 'skipped_triplets': stats.skipped_triplets,
                  'latency_ms': round(1000 * stats.latency_s, 2),
                  **({'answered_by': stats.answered_by, 'no_answers': self.model.failures,
                      'last_no_answer': self.model.last_error}
                     if self.model.name == 'openai' else {}),
                  'worst_skew_ms': sync.worst_skew_ns / 1e6, 'episode_id': self.episode_id,
                  'stalled': self.stall.stalled, 'stalls': stats.stalls,
                  'filled_views': ', '.join(f'{v} ({self.slots.fill})' for v in
                                            self.slots.missing),
                  'sync_resets': live.resets, 'last_sync_reset': live.last_reset,
                  'last_sync_reset_age_s': -1.0 if live.last_reset_ns is None else
                  round((self._clock() - live.last_reset_ns) / 1e9, 3)}
        for k, view in enumerate(self.cameras):   # the views a camera fills
            values[f'{view}_images'] = stats.images[view]
            values[f'{view}_unsynchronized'] = sync.dropped[k]
            values[f'{view}_clock_offset_s'] = live.offsets_ns[k] / 1e9
        return values, self.silent_cameras(timeout_s)
