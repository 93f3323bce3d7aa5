# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""`robodopamine evaluate` refuses episodes scored under different reward contracts."""

import json

from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_contract import CONTRACT_KEY, CONTRACT_TOPIC, STRING
from robodopamine_ros.data.bag_writer import EpisodeBagWriter
from robodopamine_ros.data.interfaces import typestore
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.contract import compose, RewardContract
from robodopamine_ros.reward.shaping import ShapingConfig

TERMS = {'grm': 'sha256:' + 'ab' * 32, 'backend': 'compact', 'task': 'insert the peg'}


def contract(gamma):
    return compose(TERMS, ShapingConfig(gamma=gamma), 'either')


def write_bag(path, episode, in_metadata=None, on_topic=(), storage='sqlite3'):
    """Write a scored episode: its contract in metadata.yaml and/or as the agent sends it."""
    custom = {CONTRACT_KEY: in_metadata.to_json()} if in_metadata else None
    with EpisodeBagWriter(path, storage=storage, custom_data=custom) as writer:
        for index, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][index] for v in VIEWS})
        store = typestore()
        for k, published in enumerate(on_topic):
            message = store.types[STRING](data=published.to_json())
            writer.write_raw(CONTRACT_TOPIC, STRING, store.serialize_cdr(message, STRING),
                             int(episode.stamps[0]) + k)
    return path


def evaluate(*args):
    return cli.main(['evaluate', '--model', 'pixel-baseline', '--every', '4', '--json', *args])


def test_episodes_of_two_contracts_are_refused_and_taken_when_mixed(make_episode, tmp_path,
                                                                    capsys):
    episode = make_episode(num_frames=8)
    a, b = contract(0.99), contract(0.95)
    first = write_bag(tmp_path / 'ep1', episode, in_metadata=a)
    # the topic's newest message is the one in force (a contract changed mid-recording)
    second = write_bag(tmp_path / 'ep2', episode, on_topic=(a, b), storage='mcap')
    same = write_bag(tmp_path / 'ep3', episode, on_topic=(a,))
    demo = write_bag(tmp_path / 'demo', episode)   # not scored: takes no part
    assert evaluate(str(first), str(second), str(demo)) == 1
    error = capsys.readouterr().err
    assert '2 different reward contracts' in error and '--mix-contracts' in error
    assert f'{b.digest} (shaping differ from the first): {second}' in error
    assert evaluate(str(first), str(second), '--mix-contracts') == 0
    assert evaluate(str(first), str(same), str(demo)) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary['recorded_reward_contract'] == a.digest


def test_a_recorded_contract_that_does_not_read_is_refused_naming_the_bag(
        make_episode, tmp_path, capsys):
    episode = make_episode(num_frames=8)
    broken = RewardContract.from_dict(dict(contract(0.99).to_dict()))
    path = write_bag(tmp_path / 'ep', episode, in_metadata=broken)
    metadata = path / 'metadata.yaml'
    metadata.write_text(metadata.read_text().replace('"grm_every":1.0', '"grm_every":-1'))
    assert evaluate(str(path)) == 1
    error = capsys.readouterr().err
    assert f'{path}/metadata.yaml custom_data {CONTRACT_KEY}.grm_every: expected a number' in \
        error
