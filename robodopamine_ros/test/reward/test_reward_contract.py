# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The reward contract: its hash of a model, its digest, its reading, and the refusal to mix."""

import json
import shutil

import numpy as np
import pytest
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.reward.contract import check_one_contract, compose, ContractError, \
    grm_content_hash, grm_terms, RewardContract
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.logs import CONTRACTS_FILE, read_contracts, read_log, TrainingLog

REFS = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 200, np.uint8)]


@pytest.fixture
def model(tmp_path):
    folder = tmp_path / 'grm'
    CompactGRM.create(task='insert the peg').save(folder, REFS)
    return folder


def contract(model, gamma=0.99, references=REFS, **terms):
    values = grm_terms(model, 'compact', 'insert the peg', references=references,
                       progress=ProgressConfig())
    values.update(terms)
    return compose(values, ShapingConfig(gamma=gamma), 'either', grm_every=1)


def test_the_content_hash_follows_the_weights_not_the_folder_or_its_reports(model, tmp_path):
    copy = tmp_path / 'copy'
    shutil.copytree(model, copy)
    (copy / 'report.md').write_text('adapted again, same weights')
    assert grm_content_hash(copy) == grm_content_hash(model)
    assert grm_content_hash(model).startswith('sha256:')
    weights = bytearray((copy / 'model.safetensors').read_bytes())
    weights[-1] ^= 1   # one bit of one weight
    (copy / 'model.safetensors').write_bytes(bytes(weights))
    assert grm_content_hash(copy) != grm_content_hash(model)
    assert grm_content_hash('pixel-baseline') == 'builtin:pixel-baseline'
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty: no config.json'):
        grm_content_hash(tmp_path / 'empty')


def test_a_contract_reads_back_to_the_same_digest_and_names_what_changed(model):
    first = contract(model)
    again = RewardContract.from_json(first.to_json())
    assert again == first and again.digest == first.digest and len(first.digest) == 16
    assert first.shaping['gamma'] == 0.99 and first.shaping['success'] == 'either'
    assert first.progress['success_delta'] == ProgressConfig().success_delta
    assert len(first.references) == 2 and first.views['front'] == 'front'
    other = contract(model, gamma=0.98, references=REFS[:1])
    assert other.digest != first.digest
    assert first.differences(other) == ['references', 'shaping']


@pytest.mark.parametrize('change, expected', [
    ({'colour': 'red'}, r": unknown fields \['colour'\]"),
    ({'views': {'top': '/cam'}}, '.views: expected a mapping of slots'),
    ({'grm_every': -1}, '.grm_every: expected a number > 0'),
    ({'shaping': {'gamma': float('nan')}}, '.shaping.gamma: expected a number'),
    ({'version': 7}, '.version: 7; this package reads version 1'),
    ({'references': 'abc'}, '.references: expected a list'),
])
def test_a_malformed_contract_is_refused_naming_the_field(model, change, expected):
    values = dict(contract(model).to_dict(), **change)
    with pytest.raises(ContractError, match=r'^bag\.mcap' + expected):
        RewardContract.from_dict(values, 'bag.mcap')
    with pytest.raises(ContractError, match='x.json: not JSON'):
        RewardContract.from_json('{', 'x.json')


def test_episodes_of_two_contracts_are_refused_unless_mixed(model):
    a, b = contract(model), contract(model, gamma=0.95)
    assert check_one_contract([('ep1', a), ('ep2', a), ('demo', None)]) == a
    assert check_one_contract([('demo', None)]) is None
    with pytest.raises(ContractError) as error:
        check_one_contract([('ep1', a), ('ep2', b), ('ep3', a)])
    text = str(error.value)
    assert '2 different reward contracts' in text and '--mix-contracts' in text
    assert f'{a.digest} (the first): ep1, ep3' in text
    assert f'{b.digest} (shaping differ from the first): ep2' in text
    assert check_one_contract([('ep1', a), ('ep2', b)], mix=True) == a


def test_the_training_log_names_each_rows_contract(model, tmp_path):
    log = TrainingLog(tmp_path / 'logs', tensorboard=False)
    log.episode({'episode': 1, 'success': False})
    first, second = contract(model), contract(model, gamma=0.9)
    log.set_contract(first)
    log.episode({'episode': 2, 'success': True})
    log.set_contract(second)   # e.g. a refreshed GRM from the next episode on
    log.episode({'episode': 3, 'success': True})
    log.close()
    rows = read_log(tmp_path / 'logs')
    assert [r['reward_contract'] for r in rows] == ['', first.digest, second.digest]
    assert read_contracts(tmp_path / 'logs') == {first.digest: first, second.digest: second}
    # a contract edited in the file is not the one its digest names
    path = tmp_path / 'logs' / CONTRACTS_FILE
    entries = json.loads(path.read_text())
    entries[first.digest]['shaping']['gamma'] = 0.5
    path.write_text(json.dumps(entries))
    with pytest.raises(ContractError, match=f'entry {first.digest} is the contract'):
        read_contracts(tmp_path / 'logs')


def test_the_agent_keeps_grm_nodes_half_with_its_shaping_and_warns_when_it_changes(model):
    from robodopamine_ros.reward.contract import ContractKeeper, publish_terms

    terms = grm_terms(model, 'compact', 'insert the peg', references=REFS,
                      progress=ProgressConfig())
    saved = contract(model, gamma=0.9).to_dict()   # the resumed checkpoint's
    keeper = ContractKeeper(ShapingConfig(), 'either', control_period=0.1, saved=saved)
    for bad, expected in (('{', 'not JSON'), ('{"terms": {}}', 'expected {"terms"'),
                          (publish_terms(terms, 0.0), r'rate: expected a GRM rate > 0'),
                          (publish_terms(dict(terms, views=[1]), 10.0), r'terms.views')):
        with pytest.raises(ContractError, match=expected):
            keeper.update(bad)
    assert keeper.current is None   # a refused message changes nothing
    first, lines = keeper.update(publish_terms(terms, 5.0))   # a 5 Hz GRM, a 10 Hz loop
    assert first.grm_every == 2.0 and first.shaping['success'] == 'either'
    assert [level for level, _ in lines] == ['info', 'warn']
    assert 'resumed checkpoint: reward_contract' in lines[1][1] and 'shaping' in lines[1][1]
    assert keeper.update(publish_terms(terms, 5.0)) == (None, [])   # grm_node's again
    second, lines = keeper.update(publish_terms(dict(terms, task='other'), 5.0))
    assert second.task == 'other' and 'differ in task' in lines[-1][1]


@pytest.mark.parametrize('text, expected', [
    ('{"terms": {"grm": "a", "backend": "b"}, "rate": 5e-324}', 'rate: expected a GRM rate'),
    ('{"terms": {"grm": "a", "backend": "b", "grm_every": ' + '9' * 400 + '}, "rate": 10}',
     'grm_every: expected a number > 0'),
    ('{"terms": {"grm": "a", "backend": "b", "progress": {"alpha": ' + '9' * 400 + '}}, '
     '"rate": 10}', 'progress.alpha: expected a number'),
    ('[' * 100000, 'not JSON'),
])
def test_a_hostile_grm_contract_message_is_refused_as_a_contract_error(text, expected):
    from robodopamine_ros.reward.contract import ContractKeeper

    keeper = ContractKeeper(ShapingConfig(), 'either', control_period=0.1)
    with pytest.raises(ContractError, match=expected):
        keeper.update(text)


def test_a_damaged_contracts_file_is_kept_and_the_rows_still_name_the_contract(model, tmp_path):
    log = TrainingLog(tmp_path / 'logs', tensorboard=False)
    (tmp_path / 'logs' / CONTRACTS_FILE).write_text('{ damaged')
    with pytest.raises(ContractError, match='not JSON'):
        log.set_contract(contract(model))
    log.episode({'episode': 1})
    log.close()
    assert read_log(tmp_path / 'logs')[0]['reward_contract'] == contract(model).digest
    assert (tmp_path / 'logs' / CONTRACTS_FILE).read_text() == '{ damaged'
