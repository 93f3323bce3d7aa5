# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""What a loader raises on input it did not expect is one line from the CLI (issue 29, 18)."""

import json

import pytest
from robodopamine_ros.commands import cli, demo_info
from robodopamine_ros.grm.compact import CompactGRM
import yaml


@pytest.mark.parametrize('error', [TypeError("'<' not supported between 'str' and 'int'"),
                                   IndexError('list index out of range'),
                                   RuntimeError('shape mismatch\nsecond line'),
                                   RecursionError('maximum recursion depth exceeded'),
                                   yaml.YAMLError('mapping values are not allowed here'),
                                   ImportError('No module named transformers')])
def test_loader_errors_are_one_line(monkeypatch, capsys, error):
    def run(args):
        raise error
    monkeypatch.setattr(demo_info, 'run', run)
    monkeypatch.delenv('ROBODOPAMINE_TRACEBACK', raising=False)
    assert cli.main(['demo-info', 'x']) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith(
        f'robodopamine demo-info: error: {type(error).__name__}: {str(error).splitlines()[0]}')
    monkeypatch.setenv('ROBODOPAMINE_TRACEBACK', '1')
    with pytest.raises(type(error)):
        cli.main(['demo-info', 'x'])


def test_a_bad_model_config_is_one_line_naming_file_and_field(tmp_path, capsys):
    folder = tmp_path / 'grm'
    CompactGRM.create(image_size=[32, 24]).save(folder)
    config = json.loads((folder / 'config.json').read_text())
    (folder / 'config.json').write_text(json.dumps(dict(config, width='32')))
    assert cli.main(['evaluate', '--model', str(folder), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and f'{folder}/config.json: field width must be' in err
