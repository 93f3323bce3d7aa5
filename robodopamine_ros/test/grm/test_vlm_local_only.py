# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The VLM loader reads a local folder as data: never a hub, never its shipped code (issue 29)."""

import json

import pytest

pytest.importorskip('transformers')

from robodopamine_ros.grm import vlm  # noqa: E402
from robodopamine_ros.grm.vlm import VLMGRM  # noqa: E402


def test_the_loader_options_are_explicit():
    assert vlm.LOCAL_ONLY == {'local_files_only': True, 'trust_remote_code': False}


def test_a_folder_shipping_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / 'ran'
    (tmp_path / 'config.json').write_text(json.dumps({
        'model_type': 'evil', 'auto_map': {'AutoConfig': 'evil.EvilConfig'}}))
    (tmp_path / 'evil.py').write_text(
        f'open({str(marker)!r}, "w").close()\n'
        'from transformers import PretrainedConfig\n'
        'class EvilConfig(PretrainedConfig):\n'
        '    model_type = "evil"\n')
    with pytest.raises(Exception):  # noqa: B017 - transformers' refusal, whatever its type
        VLMGRM.load(tmp_path)
    assert not marker.exists()
