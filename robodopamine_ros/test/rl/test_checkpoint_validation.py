# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A checkpoint is checked before a network is built (issue 29, items 14, 18 and 19).

Its config's types and sizes, its weights' finiteness, and the torch that reads it (>= 2.10);
each refusal is one ValueError naming the file, and never repeats torch's advice to load
with weights_only=False.
"""

import pickle

import pytest
from robodopamine_ros.rl import acting
from robodopamine_ros.rl.acting import (check_checkpoint_config, Learner, torch_version_problem)
from robodopamine_ros.rl.agents import AgentConfig
import torch

SHAPES = {'state': (4,)}


def saved(tmp_path, **changes):
    Learner(AgentConfig(hidden=(16, 16), batch_size=8), SHAPES, capacity=50).save(tmp_path)
    path = tmp_path / 'checkpoint.pt'
    if changes:
        state = torch.load(path, weights_only=True)
        state['config'].update(changes)
        torch.save(state, path)
    return path


@pytest.mark.parametrize('field,value,expected', [
    ('hidden', [200000, 200000], r'config field hidden must be integers in \[1, 8192\]'),
    ('hidden', [], 'config field hidden must list 1 to 8 layer sizes'),
    ('critics', 10 ** 6, 'config field critics must be integers'),
    ('batch_size', '256', "config field batch_size must be like 256, got '256'"),
    ('gamma', float('nan'), 'config field gamma must be like 0.99, got nan'),
    ('actor_layer_norm', 1, 'config field actor_layer_norm must be like True'),
    ('stage1_beta_eta', ['a', 1], 'config field stage1_beta_eta must be like'),
])
def test_a_config_out_of_range_is_refused_before_building(tmp_path, monkeypatch, field, value,
                                                          expected):
    path = saved(tmp_path, **{field: value})
    monkeypatch.setattr(acting, 'make_agent', lambda *a, **k: pytest.fail('built a network'))
    with pytest.raises(ValueError, match=f'^{path}: {expected}'):
        Learner.resume(tmp_path, SHAPES, capacity=50)


def test_unknown_config_fields_are_named(tmp_path):
    path = saved(tmp_path, widths=[3])
    with pytest.raises(ValueError, match=rf"^{path}: config fields \['widths'\] are not "):
        Learner.read(tmp_path)
    assert check_checkpoint_config(AgentConfig().as_dict(), 'x') is None


def test_nan_weights_are_refused_naming_the_file(tmp_path):
    path = saved(tmp_path)
    state = torch.load(path, weights_only=True)
    modules = [v for v in state['agent'].values() if isinstance(v, dict)]
    tensor = next(t for m in modules for t in m.values()
                  if isinstance(t, torch.Tensor) and t.is_floating_point())
    tensor.view(-1)[0] = float('nan')
    torch.save(state, path)
    with pytest.raises(ValueError, match=rf'^{path}: 1 weight tensors hold NaN or inf \(e.g. '
                                         r'agent\.'):
        Learner.read(tmp_path)


def test_an_old_torch_is_refused_with_the_reason(tmp_path, monkeypatch):
    saved(tmp_path)
    assert torch_version_problem('2.13.0+cpu') is None
    assert torch_version_problem('2.10.0') is None
    assert 'CVE-2025-32434' in torch_version_problem('1.13.1')
    monkeypatch.setattr(torch, '__version__', '2.9.1')
    with pytest.raises(ValueError, match=r'checkpoint.pt: not loaded: torch 2.9.1 is older '
                                         r'than 2.10: .*CVE-2026-24747'):
        Learner.read(tmp_path)


class Code:
    def __reduce__(self):
        return print, ('ran',)


def test_the_refusal_never_quotes_torchs_weights_only_false_advice(tmp_path):
    with open(tmp_path / 'checkpoint.pt', 'wb') as f:
        pickle.dump({'payload': Code()}, f)
    with pytest.raises(ValueError) as error:
        Learner.read(tmp_path)
    text = str(error.value)
    assert 'weights_only' not in text and 'never code' in text and '\n' not in text
