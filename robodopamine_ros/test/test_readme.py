# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The README quotes no measured figure: those live in bench/RESULTS.md, so they cannot drift."""

from pathlib import Path
import re

import pytest

REPO = Path(__file__).resolve().parents[2]
# measured-looking figures: percentages, milliseconds, "N s measured"; configuration values
# (in backticks, e.g. `0.5`) and the README's code blocks are not measurements
FIGURE = re.compile(r'\d+(\.\d+)?\s?(%|ms\b)|\d+(\.\d+)? s measured|VOC \d')


def prose_lines(text):
    inside_code = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith('```'):
            inside_code = not inside_code
            continue
        if not inside_code:
            yield number, re.sub(r'`[^`]*`', '', line)


def test_the_readme_quotes_no_measured_figure():
    readme = REPO / 'README.md'
    if not readme.is_file():
        pytest.skip('README.md is not beside the package (an installed copy)')
    found = [(n, line.strip()) for n, line in prose_lines(readme.read_text())
             if FIGURE.search(line)]
    assert not found, 'figures belong in bench/RESULTS.md (quote with date or link): ' \
        + '; '.join(f'README.md:{n}: {line[:80]}' for n, line in found)


def test_the_pattern_catches_figures_and_spares_settings():
    assert FIGURE.search('success 60 % at episode 10') and FIGURE.search('3.9 ms per tick')
    assert not FIGURE.search('a teleop action stays valid for 0.5 s (`teleop_timeout`)')
