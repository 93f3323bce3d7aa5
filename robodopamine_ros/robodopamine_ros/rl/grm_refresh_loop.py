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

On a robot, grm_node keeps the episodes (``episodes_dir``) and grm_refresh_node refreshes its
GRM from them: RefreshWatch counts the bags that appear and runs the refresh in a thread of
its own, beside the control loop.
"""

import csv
import io
import json
from pathlib import Path
import shutil
import threading

import numpy as np
from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.data.online_episodes import (EpisodeOutcome, online_episode_paths,
                                                   outcome_how, read_labelled_episodes,
                                                   tick_fields, write_online_episode)

LIVE_GRM = 'grm'
LIVE_SOURCE = 'grm_source.json'
EPISODES = 'episodes'
REFRESH_LOG = 'grm_refreshes.csv'
REFRESH_COLUMNS = ('episode', 'accepted', 'train_episodes', 'heldout_episodes',
                   'corrected_frames', 'old_balanced_accuracy', 'new_balanced_accuracy',
                   'old_precision', 'old_recall', 'new_precision', 'new_recall',
                   'train_old_balanced_accuracy', 'train_new_balanced_accuracy',
                   'train_old_recall', 'train_new_recall', 'seconds', 'grm', 'reason')


def live_grm(output, grm_dir):
    """
    Return the run's own GRM folder, copied from grm_dir the first time (whole, renamed in).

    The copy's source is recorded (<output>/grm_source.json: its path and content hash);
    raises ValueError naming both when <output> holds the copy of another GRM (a log folder
    reused with another model_dir would score with the wrong model).
    """
    from robodopamine_ros.reward.contract import grm_content_hash

    live, source = Path(output) / LIVE_GRM, Path(output) / LIVE_SOURCE
    if not (Path(grm_dir) / 'config.json').is_file():
        raise FileNotFoundError(f'{grm_dir}: no config.json: not a GRM folder to copy')
    if (live / 'config.json').is_file():
        if source.is_file():
            recorded = json.loads(source.read_text())
            if recorded['grm'] != grm_content_hash(grm_dir):
                raise ValueError(f'{live} is the refreshed copy of {recorded["path"]} (GRM '
                                 f'{recorded["grm"]}), not of {grm_dir} '
                                 f'({grm_content_hash(grm_dir)}): use another log folder, '
                                 'or remove that copy to start over')
        return live
    tmp = live.with_name(f'.{LIVE_GRM}.copying')
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(grm_dir, tmp)
    shutil.rmtree(live, ignore_errors=True)
    with atomic_path(source) as path:
        path.write_text(json.dumps({'path': str(Path(grm_dir).resolve()),
                                    'grm': grm_content_hash(grm_dir)}))
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
                                'not there: a refresh trains on it (give its bag: grm_demo, '
                                '--demo, grm_refresh_node demo)')
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

    config: grm.refresh.RefreshConfig; output: the run's folder (its grm_refreshes.csv);
    demo: the demonstration's path; operator: whether an operator labels outcomes (success
    'operator' / 'either'); episodes: the folder of episode bags (default <output>/episodes).
    """

    def __init__(self, output, config, demo, image_size, operator, control_period, log=print,
                 episodes=None):
        self.output, self.config = Path(output), config
        self.demo_path, self.image_size = Path(demo), tuple(image_size)
        self.operator, self.control_period, self.log = operator, control_period, log
        self.episodes = Path(episodes) if episodes else self.output / EPISODES
        self._demo = None

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
        if len(kept) < len(rows):
            self._write_rows(kept)

    def _write_rows(self, rows):
        """Write grm_refreshes.csv whole (a log of an older column set gets empty cells)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, REFRESH_COLUMNS, restval='', extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
        with atomic_path(self.output / REFRESH_LOG) as tmp:
            tmp.write_text(buffer.getvalue())

    def _log_row(self, index, result, grm):
        rows = read_refreshes(self.output)
        old, new = result.old, result.new
        train_old, train_new = result.train_old, result.train_new
        rows.append(dict(zip(REFRESH_COLUMNS, [
            index, result.accepted, result.train_episodes, result.heldout_episodes,
            result.corrected_frames, old.get('balanced_accuracy', ''),
            new.get('balanced_accuracy', ''), old.get('precision', ''), old.get('recall', ''),
            new.get('precision', ''), new.get('recall', ''),
            train_old.get('balanced_accuracy', ''), train_new.get('balanced_accuracy', ''),
            train_old.get('recall', ''), train_new.get('recall', ''), result.seconds, grm,
            result.reason])))
        self._write_rows(rows)


class RefreshWatch:
    """
    Refresh grm_dir every ``loop.config.every`` episode bags that appear in ``loop.episodes``.

    For a folder another process fills (grm_node's ``episodes_dir``): ``poll()`` counts the
    bags and, when due, runs ``loop.run`` in a thread of its own, one at a time, so whoever
    polls (grm_refresh_node's timer) is never blocked. Due: the bag count reached the next
    multiple of ``every`` after the last refresh's count (grm_refreshes.csv: a restarted watch
    goes on from there); bags that came during a refresh count towards the next.
    """

    def __init__(self, loop, grm_dir):
        if not loop.config.every:
            raise ValueError('a refresh watch needs every >= 1 (episodes between refreshes)')
        self.loop, self.grm_dir = loop, Path(grm_dir)
        done = [int(row['episode']) for row in read_refreshes(loop.output)]
        self.next_due = self._after(max(done, default=0))
        self.episodes = 0     # bags counted at the last poll
        self.last = None      # the last finished refresh's grm.refresh.RefreshResult
        self._thread = None

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def poll(self):
        """Count the bags; start a refresh when due. Returns the count it started at, or None."""
        if self.running:
            return None
        self.episodes = len(online_episode_paths(self.loop.episodes))
        if self.episodes < self.next_due:
            return None
        index = self.episodes
        self.next_due = self._after(index)
        self._thread = threading.Thread(target=self._run, args=(index,), daemon=True,
                                        name=f'grm_refresh_{index}')
        self._thread.start()
        return index

    def _after(self, count):
        """Return the next multiple of `every` after `count` bags."""
        return (count // self.loop.config.every + 1) * self.loop.config.every

    def _run(self, index):
        self.last = self.loop.run(index, self.grm_dir)

    def join(self, timeout=None):
        """Wait for a running refresh; returns whether none is running any more."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running


def watch_episodes(grm_dir, episodes, config, output='', demo='', log=print):
    """
    Return a RefreshWatch of the compact GRM in grm_dir over the episode bags in `episodes`.

    config: grm.refresh.RefreshConfig (every >= 1); output: where grm_refreshes.csv goes
    (default: the episodes folder's parent); demo: the demonstration (default: the one the GRM
    was adapted on). Raises FileNotFoundError / ValueError naming grm_dir when it is not a
    compact GRM folder or its demonstration is not there.
    """
    from robodopamine_ros.grm.compact import CONFIG_FILE, FORMAT

    path = Path(grm_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{grm_dir}: no {CONFIG_FILE}: a refresh needs a compact GRM '
                                'folder (written by `robodopamine adapt`)')
    settings = json.loads(path.read_text())
    if settings.get('format') != FORMAT:
        raise ValueError(f'{path}: format {settings.get("format")!r}: only a compact GRM '
                         f'({FORMAT!r}) is refreshed')
    loop = RefreshLoop(output or Path(episodes).parent, config, demo_of(grm_dir, demo),
                       settings['image_size'], True, None, log, episodes=episodes)
    return RefreshWatch(loop, grm_dir)


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
