# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Where one-shot adaptation starts (`--init auto`).

The shipped pre-trained GRM when it knows the demo's images, random weights when it does not:
the shipped model against the real shared demo and a simulated demo it was never trained on.
"""

import numpy as np
import pytest
from robodopamine_ros.data import demos
from robodopamine_ros.grm.adapt_compact import CompactTrainConfig, start_check
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.grm.pretrain import choose_start, initial_model, KNOWN_IMAGES_RATIO, \
    start_reason, start_text
import torch


@pytest.fixture(scope='module')
def sim_demo():
    pytest.importorskip('metaworld', reason='the simulator is the [sim] extra (metaworld, mujoco)')
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import expert_demonstration

    torch.set_num_threads(1)
    sim = PegInsertionSim(image_size=(64, 48), max_steps=200)
    try:
        return expert_demonstration(sim, seed=1)[0]
    finally:
        sim.close()


@pytest.fixture(scope='module')
def real_demo(example_episode):
    return demos.load_demo(example_episode, image_size=(64, 48))


def test_the_pretrained_start_knows_simulated_images_and_not_real_ones(sim_demo, real_demo):
    shipped = initial_model('pretrained', (64, 48))
    error, floor = start_check(shipped, sim_demo)
    assert 0.3 < floor < 0.7 and error < KNOWN_IMAGES_RATIO * floor  # measured 0.257 vs 0.459
    assert start_check(shipped, sim_demo) == (error, floor)  # the same pairs every time
    real_error, real_floor = start_check(shipped, real_demo)
    assert real_error > real_floor                          # measured 0.617 vs 0.535
    # the floor is the error of a model that predicts no progress: a perfect model is at 0
    scratch_error, scratch_floor = start_check(initial_model('scratch', (64, 48)), real_demo)
    assert scratch_floor == real_floor and abs(scratch_error - real_floor) < 0.1 * real_floor


def test_auto_keeps_the_pretrained_start_only_where_it_knows_the_images(sim_demo, real_demo):
    config, logged = CompactTrainConfig(), []
    model, start = choose_start('auto', sim_demo, config, log=logged.append)
    assert start['asked'] == 'auto' and start['init'] == 'pretrained' and not logged
    assert start['hop_error'] < KNOWN_IMAGES_RATIO * start['no_progress_error']
    shipped = initial_model('pretrained', (64, 48))
    assert all(torch.equal(a, b)
               for a, b in zip(model.net.parameters(), shipped.net.parameters()))

    model, start = choose_start('auto', real_demo, config, log=logged.append)
    assert start['init'] == 'scratch' and start['checked'] == 'pretrained'
    assert start['hop_error'] > start['no_progress_error'] and 'not under 0.8' in start['reason']
    assert 'knows little of these images' in logged[-1] and 'random weights' in logged[-1]
    assert start_text(start).startswith('random weights (`--init auto`); pretrained')
    seeded = initial_model('scratch', (64, 48), seed=config.seed)
    assert all(torch.equal(a, b)
               for a, b in zip(model.net.parameters(), seeded.net.parameters()))

    model, start = choose_start('pretrained', real_demo, config, log=logged.append)
    assert start['init'] == 'pretrained' and logged[-1].startswith('warning:')
    assert '--init auto' in logged[-1]
    count = len(logged)
    _, start = choose_start('scratch', real_demo, config, log=logged.append)
    assert start == {'asked': 'scratch', 'init': 'scratch'} and len(logged) == count


def test_a_model_folder_that_knows_little_is_kept_with_a_warning(real_demo, tmp_path):
    initial_model('pretrained', (64, 48)).save(tmp_path / 'mine')
    logged = []
    _, start = choose_start(str(tmp_path / 'mine'), real_demo, CompactTrainConfig(),
                            log=logged.append)
    assert start['init'] == start['checked'] == str(tmp_path / 'mine')
    assert logged[-1].startswith(f'warning: {tmp_path / "mine"} knows little')
    assert 'kept as asked; --init scratch' in logged[-1]


def test_a_start_that_cannot_be_checked_is_kept_and_said(real_demo):
    logged = []   # only frame 0 held out: no pair to check on
    _, start = choose_start('auto', real_demo, CompactTrainConfig(holdout=10 ** 6),
                            log=logged.append)
    assert start['init'] == 'pretrained' and start['hop_error'] is None
    assert 'too few held-out frames' in logged[-1]


def test_a_shipped_model_of_another_image_size_means_random_weights_for_auto(sim_demo):
    logged = []
    config = CompactTrainConfig(image_size=(32, 24))
    model, start = choose_start('auto', sim_demo, config, log=logged.append)
    assert start['init'] == 'scratch' and model.config['image_size'] == [32, 24]
    assert '[64, 48] images' in logged[0] and '[32, 24]' in start['reason']
    with pytest.raises(ValueError, match=r'takes \[64, 48\] images.*\[32, 24\]'):
        choose_start('pretrained', sim_demo, config)
    with pytest.raises(ValueError, match=r'episode images are \(64, 48\), the model expects '
                                         r'\(32, 24\)'):
        start_check(CompactGRM.create(image_size=[32, 24]), sim_demo)


def test_random_starting_weights_follow_the_seed_and_leave_the_callers_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = initial_model('scratch', (64, 48), seed=4)
    assert torch.equal(torch.rand(3), expected)
    again, other = initial_model('scratch', (64, 48), seed=4), initial_model('scratch', (64, 48),
                                                                             seed=5)
    weights = [np.concatenate([p.detach().numpy().ravel() for p in m.net.parameters()])
               for m in (first, again, other)]
    assert np.array_equal(weights[0], weights[1]) and not np.array_equal(weights[0], weights[2])


def test_the_start_and_why_in_one_line_for_each_choice():
    known = {'asked': 'auto', 'init': 'pretrained', 'checked': 'pretrained', 'hop_error': 0.257,
             'no_progress_error': 0.459}
    assert start_reason(known) == ("--init auto: it knows the demo's images (hop error 0.257 "
                                   f'under {KNOWN_IMAGES_RATIO} x 0.459, that of predicting no '
                                   'progress)')
    unknown = dict(known, init='scratch', hop_error=0.617, no_progress_error=0.535,
                   reason='hop error 0.617 not under 0.8 x 0.535 (predicting no progress)')
    assert start_reason(unknown) == '--init auto: ' + unknown['reason']
    unchecked = dict(known, hop_error=None, no_progress_error=None)
    assert 'too few held-out frames' in start_reason(unchecked)
    assert start_reason({'asked': 'scratch', 'init': 'scratch'}) == \
        'asked for (--init scratch)'
