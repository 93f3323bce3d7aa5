# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Copyright header check.

ament_copyright is not published on PyPI (no ROS apt repositories here), so this test enforces
the same rule itself: every Python, shell and launch file of the repository starts with a
copyright line and an SPDX license identifier matching package.xml.
"""

from pathlib import Path
import re

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE_LICENSE = 'Apache-2.0'
HEADER_LINES = 6
SKIP_PARTS = {'.work', '.git', 'build', 'install', 'log', '__pycache__'}


def _sources():
    for path in sorted(REPO.rglob('*')):
        if SKIP_PARTS.intersection(path.relative_to(REPO).parts) or not path.is_file():
            continue
        if path.suffix in ('.py', '.sh', '.bash') or path.parent.name == '.ci':
            yield path


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright_headers():
    sources = list(_sources())
    assert len(sources) > 5, f'no sources found under {REPO}'
    missing = []
    for path in sources:
        head = '\n'.join(path.read_text(encoding='utf-8').splitlines()[:HEADER_LINES])
        if not re.search(r'Copyright \d{4} \S', head) or \
                f'SPDX-License-Identifier: {PACKAGE_LICENSE}' not in head:
            missing.append(str(path.relative_to(REPO)))
    assert not missing, 'files without a copyright + SPDX header: ' + ', '.join(missing)
