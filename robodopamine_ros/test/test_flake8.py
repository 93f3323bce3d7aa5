# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

from pathlib import Path

from ament_flake8.main import main_with_errors
import pytest

CONFIG = Path(__file__).resolve().parents[1] / 'flake8.ini'


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    # ament's configuration (max line 99, google import order, single quotes, docstrings) and
    # flake8-bugbear (likely bugs: mutable defaults, unbound loop variables in closures, ...)
    rc, errors = main_with_errors(argv=['--config', str(CONFIG)])
    assert rc == 0, 'Found %d code style errors / warnings:\n' % len(errors) + '\n'.join(errors)
