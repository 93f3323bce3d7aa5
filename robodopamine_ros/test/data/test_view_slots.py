# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""View slots: a rig's cameras mapped to the GRM's three slots, the empty ones filled by rule."""

import numpy as np
import pytest
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.view_slots import fill_episode, ViewSlots


def image(value, shape=(4, 6, 3)):
    return np.full(shape, value, np.uint8)


def test_three_wrist_cameras_fill_the_front_slot_by_the_stated_rule():
    rig = {'left_wrist': '/wrist_a/image', 'right_wrist': '/wrist_b/image'}
    images = {'left_wrist': image(10), 'right_wrist': image(20)}
    repeat = ViewSlots(rig, 'repeat:right_wrist')
    assert repeat.missing == ('front',) and repeat.present == ('left_wrist', 'right_wrist')
    front, left, right = repeat.complete(images)
    assert front is images['right_wrist'] and left is images['left_wrist']
    blank = ViewSlots(rig, 'blank').complete(images)
    assert not blank[0].any() and blank[0].shape == (4, 6, 3) and blank[2] is images['right_wrist']
    assert ViewSlots(rig, 'blank').as_dict() == {
        'views': {'front': '', **rig}, 'fill': 'blank'}
    assert ViewSlots().missing == () and ViewSlots().complete(
        {'front': image(1), 'left_wrist': image(2), 'right_wrist': image(3)})[0][0, 0, 0] == 1


@pytest.mark.parametrize('cameras, fill, expected', [
    ({'left_wrist': 'a'}, '', 'front, right_wrist has no camera: set the fill rule'),
    ({'top': 'a'}, 'blank', r"unknown slots \['top'\]"),
    ({'front': ''}, 'blank', 'no slot has a camera'),
    ({'front': 'a'}, 'repeat:left_wrist', 'repeats left_wrist, which has no camera either'),
    ({'front': 'a'}, 'mirror', 'fill must be one of'),
    ({'front': 3}, 'blank', 'front must name a camera'),
])
def test_an_unusable_mapping_is_refused_naming_the_slot(cameras, fill, expected):
    with pytest.raises(ValueError, match=expected):
        ViewSlots(cameras, fill)


def test_a_recorded_episode_is_seen_as_the_rig_sees_it(make_episode):
    episode = make_episode(num_frames=5)
    seen = fill_episode(episode, ViewSlots({'front': 'f', 'left_wrist': 'l'}, 'repeat:front'))
    assert np.array_equal(seen.views['right_wrist'], episode.views['front'])
    assert seen.views['left_wrist'] is episode.views['left_wrist']
    assert episode.views['right_wrist'] is not seen.views['right_wrist']   # a copy, not changed
    with pytest.raises(KeyError, match='left_wrist'):
        ViewSlots({'front': 'f', 'left_wrist': 'l'}, 'blank').complete({'front': image(1)})


def test_a_rig_is_the_three_topics_less_its_empty_views():
    topics = {'front': '/f', 'left_wrist': '/l', 'right_wrist': '/r'}
    slots = ViewSlots.without(topics, ['', 'front'], 'blank')
    assert slots.cameras == {'front': '', 'left_wrist': '/l', 'right_wrist': '/r'}
    assert ViewSlots.without(topics, ['']).missing == ()
    assert ViewSlots.without(topics, [''], 'blank').fill == ''   # no empty slot: no rule
    with pytest.raises(ValueError, match=r"empty_views: unknown views \['top'\]"):
        ViewSlots.without(topics, ['top'], 'blank')


def test_a_two_camera_rigs_bag_reads_with_the_empty_view_filled(make_episode, tmp_path):
    from robodopamine_ros.commands import cli
    from robodopamine_ros.data.bag_writer import EpisodeBagWriter
    from robodopamine_ros.data.bags import (MissingCameraError, read_episode, ReadOptions,
                                            TopicConfig)

    episode = make_episode(num_frames=6)
    with EpisodeBagWriter(tmp_path / 'rig', storage='mcap') as writer:   # no front camera
        for k, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][k]
                                              for v in ('left_wrist', 'right_wrist')})
    with pytest.raises(MissingCameraError, match='/cameras/front/image_raw not found'):
        read_episode(tmp_path / 'rig')
    cameras = {view: TopicConfig().camera(view) for view in ('front', 'left_wrist', 'right_wrist')}
    slots = ViewSlots.without(cameras, ['front'], 'repeat:left_wrist')
    back = read_episode(tmp_path / 'rig', ReadOptions(slots=slots))
    assert back.num_frames == 6 and set(back.sync['camera_sizes']) == {'left_wrist',
                                                                       'right_wrist'}
    assert np.array_equal(back.views['front'], back.views['left_wrist'])
    assert np.array_equal(back.views['right_wrist'], episode.views['right_wrist'])
    blank = read_episode(tmp_path / 'rig', ReadOptions(slots=ViewSlots.without(
        cameras, ['front'], 'blank')))
    assert not blank.views['front'].any()
    # every command that reads a demo takes the rig's views
    assert cli.main(['demo-info', str(tmp_path / 'rig'), '--empty-views', 'front',
                     '--fill', 'blank']) == 0
    assert cli.main(['demo-info', str(tmp_path / 'rig'), '--empty-views', 'top',
                     '--fill', 'blank']) == 1


def test_the_fill_note_names_the_empty_slots_and_the_rule():
    rig = ViewSlots.without({view: view for view in VIEWS}, ['front'], 'repeat:left_wrist')
    assert rig.fill_note() == ('no camera for front: filled by repeat:left_wrist '
                               '(docs/method.md#camera-rigs-and-view-slots)')
    assert ViewSlots().fill_note() == ''
