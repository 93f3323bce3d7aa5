# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The GRM refresh inside a training run: keep every online episode, refresh every N episodes.

What ``train`` (rl/sim_training.py) does with ``grm_refresh_every > 0``:

- the run works on its own copy of the GRM (``<output>/grm``, copied from ``grm_dir`` once),
  so a refresh never touches the folder other runs read;
- after each online episode, its bag goes to ``<output>/episodes/episode_NNNNNN``
  (data/online_episodes.py): the images the GRM scored at its ticks, the published progress,
  the actions with their intervention flags, and the outcome (who said how it ended, the GRM
  that scored it; the simulator's flag apart, for evaluating only);
- every N episodes, grm/refresh.py re-trains the GRM on the demonstration plus the labelled
  episodes read back from those bags, and swaps it in when the held-out check allows; the run
  then scores its next episode with the new GRM. Each attempt is a row of
  ``<output>/grm_refreshes.csv``.

The replay buffer keeps each transition's own rewards, shaped with the potential of the GRM
that scored its episode (docs/method.md#refresh-on-the-robots-own-episodes says why), and the
training log names that GRM's reward contract on every episode's row.
"""

import csv
import io
import json
from pathlib import Path
import shutil

import numpy as np
from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.data.online_episodes import (EpisodeOutcome, outcome_how,
                                                   read_labelled_episodes, tick_fields,
                                                   write_online_episode)

LIVE_GRM = 'grm'
EPISODES = 'episodes'
REFRESH_LOG = 'grm_refreshes.csv'
REFRESH_COLUMNS = ('episode', 'accepted', 'train_episodes', 'heldout_episodes',
                   'corrected_frames', 'old_balanced_accuracy', 'new_balanced_accuracy',
                   'old_precision', 'old_recall', 'new_precision', 'new_recall', 'seconds',
                   'grm', 'reason')


def live_grm(output, grm_dir):
    """Return the run's own GRM folder, copied from grm_dir the first time (whole, renamed in)."""
    live = Path(output) / LIVE_GRM
    if not (live / 'config.json').is_file():
        tmp = live.with_name(f'.{LIVE_GRM}.copying')
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(grm_dir, tmp)
        shutil.rmtree(live, ignore_errors=True)
        tmp.rename(live)
    return live


def demo_of(grm_dir, demo=''):
    """
    Return the demonstration a GRM folder was adapted on (its config's training.demo), or demo.

    Raises FileNotFoundError naming the GRM folder when neither is there.
    """
    if demo:
        return Path(demo)
    config = json.loads((Path(grm_dir) / 'config.json').read_text())
    path = (config.get('training') or {}).get('demo')
    if not path or not Path(path).exists():
        raise FileNotFoundError(f'{grm_dir}: the demonstration it was adapted on ({path!r}) is '
                                'not there: a refresh trains on it (set grm_demo)')
    return Path(path)


def tick_record(progress, episode, control_period):
    """
    Return (stamps, views, progress fields, actions) of an episode scored by a GRMProgress.

    progress.ticks: (step, views, ProgressEstimate) per GRM tick; episode: rl.replay.Episode
    (its transitions' actions and intervention flags). Stamps: step x control_period, in ns.
    """
    period_ns = int(round(control_period * 1e9))
    stamps = [step * period_ns for step, _, _ in progress.ticks]
    views = [np.stack(triplet) for _, triplet, _ in progress.ticks]
    fields = [tick_fields(episode.episode_id, k, stamp, estimate)
              for k, (stamp, (_, _, estimate)) in enumerate(zip(stamps, progress.ticks))]
    actions = [(k * period_ns, t['action'], t['intervention'])
               for k, t in enumerate(episode.transitions)]
    return np.array(stamps, dtype=np.int64), np.stack(views), fields, actions


class RefreshLoop:
    """
    Record the run's online episodes and refresh its GRM every `config.every` episodes.

    config: grm.refresh.RefreshConfig; output: the run's folder; demo: the demonstration's
    path; operator: whether an operator labels outcomes (success 'operator' / 'either').
    """

    def __init__(self, output, config, demo, image_size, operator, control_period, log=print):
        self.output, self.config = Path(output), config
        self.demo_path, self.image_size = Path(demo), tuple(image_size)
        self.operator, self.control_period, self.log = operator, control_period, log
        self._demo = None

    @property
    def episodes(self):
        return self.output / EPISODES

    def record(self, progress, episode, info, grm):
        """Write an ended episode's bag (progress: the GRMProgress that scored it)."""
        how = outcome_how(info['success'], info, self.operator)
        outcome = EpisodeOutcome(int(episode.episode_id), bool(info['success']), how,
                                 bool(info.get('detector_success')),
                                 int(info.get('takeovers', 0)), grm,
                                 evaluation={'sim_success': bool(info.get('sim_success'))})
        stamps, views, fields, actions = tick_record(progress, episode, self.control_period)
        return write_online_episode(self.episodes, outcome, stamps, views, fields, actions)

    def after_episode(self, index, progress, episode, info, grm_dir):
        """Record episode `index`; refresh when due. Returns whether a new GRM was swapped in."""
        self.record(progress, episode, info, progress.terms['grm'])
        return self.due(index) and self.run(index, grm_dir).accepted

    def due(self, index):
        return bool(self.config.every) and index % self.config.every == 0

    def run(self, index, grm_dir):
        """Refresh the GRM in grm_dir now (after episode `index`); returns the RefreshResult."""
        from robodopamine_ros.data import demos
        from robodopamine_ros.grm.refresh import refresh_grm, RefreshResult
        from robodopamine_ros.reward.contract import grm_content_hash

        try:
            if self._demo is None:
                self._demo = demos.load_demo(self.demo_path, image_size=self.image_size)
            episodes = read_labelled_episodes(self.episodes, self.image_size,
                                              log=lambda line: self.log(f'GRM refresh: {line}'))
            result = refresh_grm(grm_dir, self._demo, episodes, self.config)
        except Exception as error:   # a failed refresh keeps the current GRM, and says why
            result = RefreshResult(False, f'refresh failed ({type(error).__name__}: {error}): '
                                          'kept the current GRM')
        self.log(f'GRM refresh after episode {index} ({result.train_episodes} labelled '
                 f'training episodes, {result.corrected_frames} corrected frames): '
                 f'{result.reason}')
        self._log_row(index, result, grm_content_hash(grm_dir))
        return result

    def truncate_after(self, episode):
        """Forget the refreshes after `episode` (a resumed run does them again)."""
        rows = read_refreshes(self.output)
        kept = [r for r in rows if int(r['episode']) <= episode]
        if len(kept) == len(rows):
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, REFRESH_COLUMNS)
        writer.writeheader()
        writer.writerows(kept)
        with atomic_path(self.output / REFRESH_LOG) as tmp:
            tmp.write_text(buffer.getvalue())

    def _log_row(self, index, result, grm):
        path = self.output / REFRESH_LOG
        text = path.read_text() if path.is_file() else ''
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if not text:
            writer.writerow(REFRESH_COLUMNS)
        old, new = result.old, result.new
        writer.writerow([index, result.accepted, result.train_episodes, result.heldout_episodes,
                         result.corrected_frames, old.get('balanced_accuracy', ''),
                         new.get('balanced_accuracy', ''), old.get('precision', ''),
                         old.get('recall', ''), new.get('precision', ''),
                         new.get('recall', ''), result.seconds, grm, result.reason])
        with atomic_path(path) as tmp:
            tmp.write_text(text + buffer.getvalue())


def refresh_loop(config, output, log=print):
    """
    Return (RefreshLoop or None, the GRM folder the run scores with) for a TrainConfig.

    With grm_refresh_every, the run scores with its own copy of the GRM (<output>/grm), which
    the refreshes replace; else with grm_dir.
    """
    if not config.grm_refresh_every:
        return None, config.grm_dir
    from robodopamine_ros.grm.refresh import RefreshConfig
    from robodopamine_ros.rl.sim_episodes import sim_safety

    grm_dir = live_grm(output, config.grm_dir)
    refresh = RefreshConfig(every=config.grm_refresh_every, seed=config.seed,
                            success_hold_s=config.success_hold_s,
                            success_min_agreement=config.success_min_agreement)
    size = json.loads((Path(grm_dir) / 'config.json').read_text())['image_size']
    loop = RefreshLoop(output, refresh, demo_of(config.grm_dir, config.grm_demo), size,
                       config.operator, sim_safety().control_period, log)
    return loop, grm_dir


def read_refreshes(output):
    """Return the rows of a run's grm_refreshes.csv (dicts of text), [] when there is none."""
    path = Path(output) / REFRESH_LOG
    if not path.is_file():
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))
