# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
package.xml checks.

ament_xmllint validates against the schema at download.ros.org, which cannot be reached here;
so xmllint checks well-formedness offline (--nonet) and catkin_pkg, the parser colcon and rosdep
use, validates the format-3 content.
"""

from pathlib import Path
import shutil
import subprocess

from catkin_pkg.package import parse_package
import pytest

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = [REPO / 'robodopamine_ros' / 'package.xml',
             REPO / 'robodopamine_interfaces' / 'package.xml']


@pytest.mark.linter
@pytest.mark.xmllint
@pytest.mark.parametrize('manifest', MANIFESTS, ids=lambda p: p.parent.name)
def test_package_xml(manifest):
    xmllint = shutil.which('xmllint')
    assert xmllint, 'xmllint not found: install Debian package libxml2-utils'
    result = subprocess.run([xmllint, '--noout', '--nonet', str(manifest)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    package = parse_package(str(manifest))
    package.validate()
    assert package.package_format == 3
    assert package.name == manifest.parent.name
    assert package.licenses == ['Apache-2.0']
