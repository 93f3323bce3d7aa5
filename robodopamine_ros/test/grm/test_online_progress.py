# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import numpy as np
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.online import OnlineProgress
from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM

MS = 1_000_000


def frame(value):
    return np.full((12, 16, 3), value, np.uint8)


def feed(online, stamp_ns, value, views=VIEWS):
    for view in views:
        online.add_image(view, stamp_ns, frame(value))


def test_newest_triplet_only_scored_once_and_dropouts_idle():
    online = OnlineProgress(PixelBaselineGRM(size=(8, 6)), 'task', frame(0), frame(200))
    assert online.start_episode() is False          # nothing received yet
    assert online.tick() is None
    feed(online, 0, 0)
    feed(online, 33 * MS, 10)                        # completes the triplet at stamp 0
    assert online.start_episode() is True and online.episode_id == 1
    for k in range(2, 6):
        feed(online, 33 * k * MS, 20 * k)            # several triplets between two ticks
    stamp, tick, episode_id, stalled = online.tick()
    assert episode_id == 1 and stalled is False      # 0.17 s in: too early to be stuck
    assert stamp == 33 * 5 * MS                     # the newest complete triplet, not a queue
    assert online.stats.skipped_triplets >= 1
    assert online.tick() is None                     # not scored twice
    feed(online, 33 * 6 * MS, 130, views=('front', 'right_wrist'))  # left wrist is silent
    feed(online, 33 * 7 * MS, 140, views=('front', 'right_wrist'))
    assert online.tick() is None and online.stats.idle_ticks == 3  # before start, twice, dropout
    values, silent = online.diagnostics(timeout_s=0.0)
    assert values['triplets'] >= 5 and set(silent) == set(VIEWS)
    assert online.capture_goal() is True
    assert online.estimator.goal[0] is online.newest_views()[1][0]


def test_an_episode_whose_progress_stands_still_for_the_window_is_flagged_stalled():
    from robodopamine_ros.reward.stall import StallConfig

    online = OnlineProgress(PixelBaselineGRM(size=(8, 6)), 'task', frame(0), frame(200),
                            stall=StallConfig(window=1.0, min_gain=0.05))
    feed(online, 0, 50)
    assert online.start_episode() is True
    flags = []
    for k in range(1, 16):   # the same views every 0.1 s of camera time: no progress
        feed(online, 100 * k * MS, 50)
        flags.append(online.tick()[3])
    # the start views are progress 0, the first tick reads the still views higher (a gain):
    # stalled from the window after that tick on, t = 1.1 s
    assert flags[:10] == [False] * 10 and all(flags[10:])
    values, _ = online.diagnostics()
    assert values['stalled'] is True and values['stalls'] == 1
    feed(online, 1600 * MS, 50)
    assert online.start_episode() is True and online.tick() is None
    feed(online, 1700 * MS, 50)
    assert online.tick()[3] is False   # a new episode starts its window anew


def test_a_model_folder_swapped_between_episodes_is_loaded_once_and_named(tmp_path):
    from robodopamine_ros.grm.compact import CompactGRM
    from robodopamine_ros.reward.contract import grm_content_hash

    folder = tmp_path / 'grm'
    references = [np.full((48, 64, 3), v, np.uint8) for v in (0, 200)]
    CompactGRM.create(task='insert the peg').save(folder, references)
    online = OnlineProgress.from_settings('compact', str(folder))
    first, old = online.model, grm_content_hash(folder)
    assert online.reload_if_swapped() is None                 # nothing changed
    CompactGRM.create(task='insert the peg').save(folder, references)   # a refresh's swap
    new = grm_content_hash(folder)
    assert new != old
    assert online.reload_if_swapped() == (
        True, f'GRM swapped between episodes: {old[:23]} -> {new[:23]}')
    assert online.model is not first and online.terms['grm'] == new
    assert online.reload_if_swapped() is None                 # loaded once
    # a model it cannot take (another image size): named, and the current one stays
    CompactGRM.create(task='insert the peg', image_size=[32, 24]).save(
        folder, [r[:24, :32] for r in references])
    taken, line = online.reload_if_swapped()
    assert not taken and 'was not taken' in line and '[32, 24]' in line
    assert online.terms['grm'] == new and online.reload_if_swapped() is None
