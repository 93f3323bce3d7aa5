# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""bench/RESULTS.md: each figure once, each benchmark's command once, rewritten without loss."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / 'bench'


@pytest.fixture
def results(tmp_path, monkeypatch):
    if not (BENCH / 'results.py').is_file():
        pytest.skip(f'{BENCH} is absent (bench/ is not beside this checkout)')
    spec = importlib.util.spec_from_file_location('results', BENCH / 'results.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, 'RESULTS', tmp_path / 'RESULTS.md')
    return module


def test_the_shipped_results_give_each_command_once_and_read_back_whole(results):
    text = (BENCH / 'RESULTS.md').read_text()
    head, figures = results.read_figures(text)
    assert len(figures) > 100 and head.startswith('# Benchmark results')
    assert results.render(head, figures) == text   # the file is in the rendered layout
    for section in text.split('\n### ')[1:]:
        commands = [line for line in section.splitlines() if line.startswith('Command: ')]
        assert len(commands) == len(set(commands)) >= 1, section[:80]


def test_a_figure_replaces_its_row_and_an_old_style_row_appended_later_wins(results):
    results.RESULTS.write_text('# Benchmark results\n\nintro\n')
    results.record('speed', 'update', 41.2, 'ms', 'one thread')
    results.record('speed', 'action', 3.1, 'ms')
    results.record('speed', 'update', 38.1, 'ms')   # measured again: replaces its row
    text = results.RESULTS.read_text()
    assert text.count('Command: ') == 1 and '38.1 ms' in text and '41.2' not in text
    # a benchmark started before the layout changed appends a flat row
    results.RESULTS.write_text(text + '\n' + results.OLD_HEADER + '\n|---|---|---|---|---|---|\n'
                               '| speed | action | 2.9 ms | `old cmd` | M | 2026-12-07 |\n')
    results.record('speed', 'update', 37.0, 'ms')
    _, figures = results.read_figures(results.RESULTS.read_text())
    assert [(f['metric'], f['figure'], f['command'] == 'old cmd') for f in figures] == [
        ('update', '37 ms', False), ('action', '2.9 ms', True)]
    assert results.RESULTS.read_text().startswith('# Benchmark results\n\nintro\n\n')
