# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""What grm_node keeps of an episode, and who said how it ended."""

import numpy as np
import pytest
from robodopamine_ros.data.online_episodes import read_online_episode, write_online_episode
from robodopamine_ros.grm.episode_keeper import EpisodeKeeper
from robodopamine_ros.reward.progress import ProgressEstimate

MS = 1_000_000


def estimate(progress, success=False):
    return ProgressEstimate(0, progress, progress, progress, progress, 0.0, 1.0, success)


def views(value):
    return tuple(np.full((12, 16, 3), value + k, np.uint8) for k in range(3))


def run(keeper, episode_id, curve, fired_at=None, takeover=None):
    keeper.start(episode_id, 0, views(0), estimate(0.0))
    for k, p in enumerate(curve, start=1):
        keeper.tick(episode_id, 100 * k * MS, views(k), estimate(p, fired_at is not None and
                                                                 k >= fired_at))
        keeper.action(100 * k * MS, [0.1, 0, 0, 1], takeover is not None and
                      takeover[0] <= k < takeover[1])


@pytest.mark.parametrize('fired, success, operator, how', [
    (True, True, True, 'confirmed'), (True, False, True, 'rejected'),
    (False, True, True, 'operator'), (False, False, True, 'unmarked'),
    (True, True, False, 'detector'), (False, False, False, 'time-limit')])
def test_who_said_how_the_episode_ended(fired, success, operator, how):
    keeper = EpisodeKeeper(operator, grm='sha256:abc')
    run(keeper, 3, [0.2, 0.5, 0.97, 0.98], fired_at=3 if fired else None)
    outcome, stamps, frames, fields, actions = keeper.finish(3, success)
    assert (outcome.how, outcome.success, outcome.detector_success) == (how, success, fired)
    assert outcome.grm == 'sha256:abc' and outcome.labelled == operator
    assert len(stamps) == len(frames) == len(fields) == 5 and frames.shape[1] == 3


def test_a_kept_episode_becomes_a_bag_with_its_takeovers(tmp_path):
    keeper = EpisodeKeeper(True)
    run(keeper, 7, [0.1, 0.2, 0.2, 0.2, 0.3, 0.6], takeover=(4, 6))
    kept = keeper.finish(7, False)
    assert kept[0].takeovers == 1
    episode = read_online_episode(write_online_episode(tmp_path, *kept), (16, 12))
    assert episode.takeovers.tolist() == [False] * 4 + [True] + [False] * 2
    assert np.allclose(episode.progress, [0.0, 0.1, 0.2, 0.2, 0.2, 0.3, 0.6])


def test_another_episodes_summary_or_ticks_and_a_long_episode_are_handled():
    lines = []
    keeper = EpisodeKeeper(True, max_ticks=3, log=lines.append)
    run(keeper, 2, [0.1, 0.2, 0.3, 0.4])
    keeper.tick(9, 0, views(0), estimate(0.9))      # another episode's tick: not kept
    assert len(keeper.ticks) == 3 and keeper.dropped == 2
    assert keeper.finish(5, True) is None           # a summary of another episode
    assert keeper.finish(2, True) is None           # and the kept one was forgotten with it
    run(keeper, 4, [0.1, 0.2, 0.3])
    assert len(keeper.finish(4, False)[1]) == 3
    assert lines == ['episode 4: 4 ticks, the bag keeps the first 3 (max_ticks)']
