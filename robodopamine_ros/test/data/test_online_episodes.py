# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot's own episodes as bags with their outcome, read back for a GRM refresh."""

import numpy as np
import pytest
from robodopamine_ros.data.bag_location import BagError
from robodopamine_ros.data.online_episodes import (episode_folder, EpisodeOutcome,
                                                   online_episode_paths, outcome_how,
                                                   read_online_episode, read_outcome,
                                                   write_online_episode)

PERIOD = 200_000_000   # a GRM tick every 0.2 s


def ticks(num=6, size=(16, 12), seed=0):
    rng = np.random.default_rng(seed)
    width, height = size
    views = rng.integers(0, 256, size=(num, 3, height, width, 3), dtype=np.uint8)
    stamps = np.arange(num, dtype=np.int64) * PERIOD
    progress = [{'stamp_ns': int(s), 'episode_id': 7, 'tick': k, 'progress': 0.15 * k,
                 'progress_incremental': 0.1, 'progress_forward': 0.1, 'progress_backward': 0.2,
                 'hop': 0.05, 'confidence': 1.0, 'success': False, 'inference_latency': 0.0}
                for k, s in enumerate(stamps)]
    # control steps at 10 Hz: the policy, then a takeover from 0.5 s to 0.7 s, then the policy
    actions = [(k * 100_000_000, [0.1, 0.0, 0.0, 1.0], 5 <= k < 8) for k in range(2 * num)]
    return stamps, views, progress, actions


def test_an_online_episode_round_trips_with_its_outcome_and_takeovers(tmp_path):
    outcome = EpisodeOutcome(7, False, 'rejected', detector_success=True, takeovers=1,
                             grm='sha256:abc', evaluation={'sim_success': False})
    stamps, views, progress, actions = ticks()
    path = write_online_episode(tmp_path, outcome, stamps, views, progress, actions)
    assert path == episode_folder(tmp_path, 7) and online_episode_paths(tmp_path) == [path]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]   # nothing half-written left
    assert read_outcome(path) == outcome and outcome.labelled
    episode = read_online_episode(path, (16, 12))
    assert np.array_equal(episode.frames, views) and np.array_equal(episode.stamps, stamps)
    assert np.allclose(episode.progress, [0.15 * k for k in range(6)], atol=1e-6)
    # the takeover begins at 0.5 s: the first GRM frame at or after it is the one at 0.6 s
    assert episode.takeovers.tolist() == [False, False, False, True, False, False]
    # written again (a resumed run replays the episode): replaced whole
    write_online_episode(tmp_path, EpisodeOutcome(7, True, 'operator'), stamps, views, progress)
    assert read_outcome(path).how == 'operator'


def test_views_of_another_aspect_ratio_are_refused_naming_the_bag(tmp_path):
    stamps, views, progress, _ = ticks()
    path = write_online_episode(tmp_path, EpisodeOutcome(3, True, 'operator'), stamps, views,
                                progress)
    assert read_online_episode(path, (32, 24)).frames.shape[2:4] == (24, 32)   # resized
    with pytest.raises(BagError, match=r'episode_000003: view front is 16 x 12, the GRM expects '
                                       r'64 x 64'):
        read_online_episode(path, (64, 64))


def test_a_bag_without_an_outcome_or_with_a_bad_one_is_refused(tmp_path, make_episode):
    from robodopamine_ros.data.bag_writer import write_episode

    plain = write_episode(tmp_path / 'plain', make_episode(), storage='mcap')
    with pytest.raises(BagError, match='plain: no robodopamine.outcome'):
        read_outcome(plain)
    with pytest.raises(ValueError, match=r'where: not an episode outcome \(outcome how'):
        EpisodeOutcome.from_json('{"episode_id": 1, "success": true, "how": "guess"}', 'where')
    with pytest.raises(ValueError, match='contradicts success'):
        EpisodeOutcome(1, True, 'rejected')
    with pytest.raises(ValueError, match=r'views must be \(T, 3, H, W, 3\) uint8'):
        write_online_episode(tmp_path, EpisodeOutcome(1, True, 'operator'), [0],
                             np.zeros((1, 2, 4, 4, 3), np.uint8), [{}])


@pytest.mark.parametrize('success, record, operator, how', [
    (True, {'detector_success': True}, True, 'confirmed'),
    (False, {'detector_success': True, 'rejected': True, 'labels': 1}, True, 'rejected'),
    (True, {'labels': 1}, True, 'operator'),
    (False, {}, True, 'unmarked'),
    (True, {'detector_success': True}, False, 'detector'),
    (False, {'detector_success': False}, False, 'time-limit'),
    (True, {}, False, 'simulator')])
def test_who_said_how_an_episode_ended(success, record, operator, how):
    assert outcome_how(success, record, operator) == how
    assert EpisodeOutcome(1, success, how).labelled == operator
