# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
metadata.yaml's custom_data: written by both bag writers, read back by bag_custom_data.

rosbag2 stores a map of strings with a bag; Rosetta's recorder puts its contract there
(``rosetta.contract_yaml``), recorder_node does too.
"""

import pytest
from robodopamine_ros.data.bag_location import bag_custom_data, BagError
from robodopamine_ros.data.bag_writer import EpisodeBagWriter, write_episode
from robodopamine_ros.data.interfaces import typestore
from robodopamine_ros.data.recording import LiveBagWriter

STORE = typestore()
STRING = 'std_msgs/msg/String'
# text that YAML would read as something else, a multi-line document, a unicode line
VALUES = {'rosetta.contract_yaml': 'robot_type: fr3\nfps: 30\nobservations:\n  a: [1, 2]\n',
          'flag': 'true', 'number': '1', 'empty': '', 'null-looking': 'null', 'text': 'pég ✓'}


def text(value):
    return bytes(STORE.serialize_cdr(STORE.types[STRING](data=value), STRING))


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_live_bag_writer_round_trip(tmp_path, storage):
    writer = LiveBagWriter(tmp_path / 'rec', storage=storage,
                           custom_data={'rosetta.contract_yaml': VALUES['rosetta.contract_yaml']})
    writer.custom_data.update({k: v for k, v in VALUES.items()
                               if k != 'rosetta.contract_yaml'})   # set until close()
    writer.write_raw('/a', STRING, text('x'), 1)
    writer.flush()
    assert bag_custom_data(tmp_path / 'rec') == {}      # killed now: no metadata.yaml
    writer.close()
    assert bag_custom_data(tmp_path / 'rec', storage) == VALUES


def test_episode_bag_writer_round_trip(tmp_path, make_episode):
    with EpisodeBagWriter(tmp_path / 'bag', storage='mcap', custom_data=VALUES) as writer:
        views = make_episode(num_frames=1).views
        writer.write_triplet(1, {view: frames[0] for view, frames in views.items()})
    assert bag_custom_data(tmp_path / 'bag') == VALUES
    assert bag_custom_data(tmp_path / 'bag' / 'bag.mcap') == VALUES   # the data file


def test_no_custom_data(tmp_path, make_episode):
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=3))
    assert bag_custom_data(bag) == {}
    with pytest.raises(FileNotFoundError):
        bag_custom_data(tmp_path / 'none')


def test_bad_custom_data(tmp_path, make_episode):
    with pytest.raises(ValueError, match="custom_data 'n': keys and values are text"):
        LiveBagWriter(tmp_path / 'rec', custom_data={'n': 1})
    with pytest.raises(ValueError, match="custom_data 'n': keys and values are text"):
        EpisodeBagWriter(tmp_path / 'bag', custom_data={'n': None})
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=3))
    metadata = bag / 'metadata.yaml'
    assert 'custom_data: null' in metadata.read_text()
    metadata.write_text(metadata.read_text().replace('custom_data: null',
                                                     'custom_data: [a, b]'))
    with pytest.raises(BagError, match='metadata.yaml: custom_data is not a mapping of text'):
        bag_custom_data(bag)
