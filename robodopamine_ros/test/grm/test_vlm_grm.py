# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The VLM GRM backend with a tiny random Qwen2.5-VL built offline and loaded from a folder."""

import json
import math

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.grm.adapt_compact import CompactTrainConfig
from robodopamine_ros.grm.adapt_vlm import answer_mask, fine_tune_vlm, save_vlm, VLMTrainConfig
from robodopamine_ros.grm.base import GRMQuery, ProgressEstimator
from robodopamine_ros.grm.distill import distill_compact
from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
from robodopamine_ros.grm.vlm import (format_score, ImageOnlyQwenVLProcessor, parse_score,
                                      PromptTemplate, VLMGRM)
from robodopamine_ros.grm.vlm_random import build_random_vlm
from test_compact_grm import sliding_episode
import torch

torch.set_num_threads(1)


@pytest.mark.parametrize('text, expected', [
    ('<score>+12.5%</score>', 0.125),
    ('<score>-3%</score>', -0.03),
    ('<score> 40 % </score>', 0.4),
    ('<score>.5%</score>', 0.005),
    ('thinking... <score>+1.0%</score> no wait <score>+80.0%</score>', 0.8),
    ('<score>+250%</score>', 1.0),
    ('<score>-100.0%</score> trailing', -1.0),
    ('<score>0.0%</score>', 0.0),
])
def test_parser_reads_scores(text, expected):
    assert parse_score(text) == pytest.approx(expected)


@pytest.mark.parametrize('text', [
    '<score>+12.5555555555555555555555',          # runaway digits, no closing tag
    '<score>+12.5%</sco',                          # cut by the token cap
    '+12.5%',                                      # no tags
    '<score></score>',
    '<score>+12.5.3%</score>',
    '<score>twelve</score>',
    '<score>nan</score>',
    '<score>inf%</score>',
    '<score>+1e400%</score>',
    '<score>12 13%</score>',
    '',
])
def test_parser_failures_are_no_answer_never_zero(text):
    assert parse_score(text) is None


def test_format_then_parse():
    for hop in (-1.0, -0.333, 0.0, 0.05, 1.0):
        assert parse_score(format_score(hop)) == pytest.approx(hop, abs=5e-4)


def test_template_checks(tmp_path):
    template = PromptTemplate()
    text = template.render('insert the peg', '<IMG>')
    assert text.count('<IMG>') == 8 and 'insert the peg' in text
    assert text.index('START') < text.index('END') < text.index('BEFORE') < text.index('AFTER')
    bad = tmp_path / 'bad.txt'
    bad.write_text('{task} {image1} {image2} {image3}')
    with pytest.raises(ValueError, match=r'needs \{image4\} exactly once'):
        PromptTemplate(bad)
    with pytest.raises(FileNotFoundError, match='prompt template not found'):
        PromptTemplate(tmp_path / 'none.txt')


@pytest.fixture(scope='module')
def tiny_folder(tmp_path_factory):
    return build_random_vlm(tmp_path_factory.mktemp('vlm') / 'tiny-qwen2.5-vl')


@pytest.fixture(scope='module')
def episode():
    return sliding_episode(num_frames=60, seed=2)


def queries_of(episode, pairs):
    refs = (episode.views['front'][0], episode.views['front'][-1])
    return [GRMQuery('slide the block', *refs, episode.triplet(a), episode.triplet(b))
            for a, b in pairs]


def test_loading_path_and_full_query_to_hop(tiny_folder, episode):
    grm = VLMGRM.load(tiny_folder)
    hops = grm.hops(queries_of(episode, [(0, 30), (30, 0), (10, 50)]))
    assert hops.shape == (3,) and len(grm.last_texts) == 3
    # a random model writes no parsable score: no answer, never a zero hop
    for text, hop in zip(grm.last_texts, hops):
        assert (parse_score(text) is None) == math.isnan(hop)


def test_image_only_processor_expands_image_tokens(tiny_folder, episode):
    processor = ImageOnlyQwenVLProcessor.from_pretrained(tiny_folder)
    block = ImageOnlyQwenVLProcessor.VISION_BLOCK
    images = [episode.views['front'][0], np.zeros((480, 640, 3), np.uint8)]
    batch = processor([f'a {block} b {block}'], images)
    grid = batch['image_grid_thw']
    # SPEC pixel bounds: 64 x 48 is scaled up to >= 12544 px, 640 x 480 down to <= 76800 px
    pixels = (grid[:, 1] * grid[:, 2] * 14 * 14).tolist()
    assert pixels[0] >= 12544 and pixels[1] <= 76800
    expected = int((grid.prod(dim=1) // 4).sum())
    assert int((batch['input_ids'] == processor.image_token_id).sum()) == expected
    with pytest.raises(ValueError, match='image placeholders'):
        processor([f'a {block}'], images)


def test_missing_or_wrong_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match='no config.json'):
        VLMGRM.load(tmp_path)
    (tmp_path / 'config.json').write_text(json.dumps({'model_type': 'bert'}))
    with pytest.raises(ValueError):
        VLMGRM.load(tmp_path)


def test_fine_tuning_learns_the_score_format(tiny_folder, episode, tmp_path):
    grm = VLMGRM.load(tiny_folder)
    losses = fine_tune_vlm(grm, episode, VLMTrainConfig(steps=100, batch=4, lr=3e-3,
                                                        lora_rank=0, samples=200))
    assert np.mean(losses[-5:]) < 0.3 * np.mean(losses[:5])
    saved = save_vlm(grm, tmp_path / 'tuned')
    assert (saved / 'prompt_template.txt').is_file()
    tuned = VLMGRM.load(saved)
    hops = tuned.hops(queries_of(episode, [(0, 30), (30, 10)]))
    # it now writes parsable score lines: the whole query -> text -> hop path works
    assert all(parse_score(t) is not None for t in tuned.last_texts), tuned.last_texts
    assert np.isfinite(hops).all()
    # and a ProgressEstimator can run on it
    estimator = ProgressEstimator(tuned, 'slide the block', episode.views['front'][0],
                                  episode.views['front'][-1])
    estimator.start(episode.triplet(0))
    tick = estimator.tick(episode.triplet(20))
    assert 0.0 <= tick.estimate.progress <= 1.0


def test_lora_fine_tuning_runs_and_merges(tiny_folder, episode):
    grm = VLMGRM.load(tiny_folder)
    losses = fine_tune_vlm(grm, episode, VLMTrainConfig(steps=8, batch=2, lr=1e-2,
                                                        lora_rank=4, samples=50))
    assert losses[-1] < losses[0]
    assert not any('lora' in name for name, _ in grm.model.named_parameters())


def test_answer_mask_keeps_only_answer_tokens():
    ids = torch.tensor([[0, 0, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6]])
    labels = answer_mask(ids, [2, 3])
    assert labels.tolist() == [[-100, -100, -100, -100, 7, 8], [-100, -100, -100, 4, 5, 6]]


def test_distillation_from_a_teacher(episode):
    student, losses, answered = distill_compact(PixelBaselineGRM(), episode,
                                                CompactTrainConfig(steps=40), samples=80)
    assert answered >= 12 and losses[-1] < losses[0]  # every label pair answered
    assert np.isfinite(student.hops(queries_of(episode, [(0, 59)]))).all()


def test_cli_adapt_vlm_distill_and_evaluate(tiny_folder, episode, tmp_path, capsys):
    bag = write_episode(tmp_path / 'demo', episode)
    assert cli.main(['adapt', str(bag), '--backend', 'vlm', '--base', str(tiny_folder),
                     '-o', str(tmp_path / 'vlm'), '--steps', '3', '--batch', '2',
                     '--lora-rank', '4', '--threads', '1']) == 0
    assert 'wrote' in capsys.readouterr().out
    assert cli.main(['adapt', str(bag), '--backend', 'vlm', '-o', str(tmp_path / 'x')]) == 1
    assert '--backend vlm needs --base' in capsys.readouterr().err
    assert cli.main(['adapt', str(bag), '--distill-from', 'pixel-baseline', '-o',
                     str(tmp_path / 'student'), '--steps', '10']) == 0
    assert 'distilled from pixel-baseline' in capsys.readouterr().out
    assert cli.main(['evaluate', '--model', str(tmp_path / 'vlm'), str(bag), '--every', '20',
                     '--json']) == 0
    result = json.loads(capsys.readouterr().out)['episodes'][0]
    assert 0.0 <= result['no_answer_rate'] <= 1.0 and 'voc_fused' in result


def test_qwen3_vl_family_loads_answers_and_trains(tmp_path, episode):
    folder = build_random_vlm(tmp_path / 'tiny-qwen3-vl', family='qwen3')
    grm = VLMGRM.load(folder)
    assert type(grm.model).__name__ == 'Qwen3VLForConditionalGeneration'
    assert grm.processor.image_processor.patch_size == 16
    hops = grm.hops(queries_of(episode, [(0, 30), (30, 0), (10, 50)]))
    assert hops.shape == (3,)
    losses = fine_tune_vlm(grm, episode, VLMTrainConfig(steps=12, batch=2, lr=3e-3,
                                                        lora_rank=0, samples=50))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
