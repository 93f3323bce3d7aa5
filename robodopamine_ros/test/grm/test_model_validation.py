# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A compact GRM folder is checked before anything is built (issue 29, items 14 and 18).

config.json's types, sizes and ranges; the weight count in model.safetensors' header against the
config's; weights that hold NaN or inf. Each refusal is one ValueError naming the file and field.
"""

import json

import numpy as np
import pytest
from robodopamine_ros.grm.compact import (check_config, CompactGRM, CompactGRMNet,
                                          parameter_count)
import torch


def saved(tmp_path, **config):
    folder = tmp_path / 'grm'
    CompactGRM.create(image_size=[32, 24], **config).save(folder)
    return folder


def edit_config(folder, **changes):
    path = folder / 'config.json'
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize('config', [{}, {'image_size': [32, 24], 'width': 16, 'dim': 24,
                                         'head_hidden': 10}])
def test_parameter_count_is_what_the_network_holds(config):
    model = CompactGRM.create(**config)
    assert parameter_count(model.config) == sum(p.numel() for p in model.net.state_dict()
                                                .values())


@pytest.mark.parametrize('field,value,expected', [
    ('image_size', [100000, 100000], r'field image_size must be \[width, height\], integers'),
    ('image_size', [32], 'field image_size'),
    ('width', '32', "field width must be an integer in .*got '32'"),
    ('width', 12, 'field width must be a multiple of 8'),
    ('dim', float('nan'), 'field dim must be an integer .*got nan'),
    ('dim', True, 'field dim must be an integer'),
    ('head_hidden', 10 ** 9, 'field head_hidden must be an integer'),
    ('task', 7, 'field task must be a string'),
])
def test_wrong_sizes_and_types_are_refused_before_building(tmp_path, monkeypatch, field, value,
                                                           expected):
    folder = saved(tmp_path)
    path = edit_config(folder, **{field: value})

    def never(*args, **kwargs):
        raise AssertionError('a network was built before the config was checked')
    monkeypatch.setattr(CompactGRMNet, '__init__', never)
    with pytest.raises(ValueError, match=f'^{path}: {expected}'):
        CompactGRM.load(folder)


def test_a_network_too_large_for_the_weight_file_is_never_allocated(tmp_path, monkeypatch):
    folder = saved(tmp_path)
    edit_config(folder, image_size=[2048, 2048], width=256, dim=4096)
    with pytest.raises(ValueError, match='ask for a network of .* weights'):
        CompactGRM.load(folder)
    # within the caps, but more than the file holds: refused from the file's header
    edit_config(folder, image_size=[64, 48], width=32, dim=256)
    monkeypatch.setattr(CompactGRMNet, '__init__', lambda *a: pytest.fail('built'))
    with pytest.raises(ValueError, match=r'model.safetensors does not match .*config.json: the '
                                         r'file holds [\d,]+ weights, the config asks for'):
        CompactGRM.load(folder)


def test_check_config_accepts_the_defaults_and_names_missing_keys():
    model = CompactGRM.create()
    assert check_config(dict(model.config)) == model.config
    with pytest.raises(ValueError, match=r"x.json: missing keys \['dim'\]"):
        check_config({k: v for k, v in model.config.items() if k != 'dim'}, 'x.json')


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_non_finite_weights_are_refused_naming_the_file(tmp_path, value):
    model = CompactGRM.create(image_size=[32, 24])
    with torch.no_grad():
        model.net.head[0].weight[0, 0] = value
    folder = model.save(tmp_path / 'grm')
    with pytest.raises(ValueError, match=r'model.safetensors: 1 weight tensors hold NaN or inf '
                                         r'\(e.g. head.0.weight\)'):
        CompactGRM.load(folder)


def test_config_that_is_not_an_object_is_one_line(tmp_path):
    folder = saved(tmp_path)
    (folder / 'config.json').write_text('[' * 100000 + ']' * 100000)
    with pytest.raises(ValueError, match='config.json: '):
        CompactGRM.load(folder)
    (folder / 'config.json').write_text('"robodopamine-compact-grm"')
    with pytest.raises(ValueError, match='config.json: expected a JSON object, got str'):
        CompactGRM.load(folder)
    assert np.isfinite(parameter_count(CompactGRM.create().config))
