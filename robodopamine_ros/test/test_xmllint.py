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
from xml.etree import ElementTree

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


@pytest.mark.linter
@pytest.mark.xmllint
def test_fastdds_profile_holds_a_640x480_image_in_shared_memory():
    profile = REPO / 'robodopamine_ros' / 'config' / 'fastdds_shm_large_images.xml'
    result = subprocess.run([shutil.which('xmllint'), '--noout', '--nonet', str(profile)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    namespace = {'f': 'http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles'}
    root = ElementTree.parse(profile).getroot()
    shm = [t for t in root.iterfind('.//f:transport_descriptor', namespace)
           if t.findtext('f:type', namespaces=namespace) == 'SHM']
    assert len(shm) == 1
    assert int(shm[0].findtext('f:segment_size', namespaces=namespace)) > 3 * 640 * 480 * 3
    participant = root.find('f:participant', namespace)
    assert participant.get('is_default_profile') == 'true'
    used = [t.text for t in participant.iterfind('.//f:userTransports/f:transport_id',
                                                 namespace)]
    assert shm[0].findtext('f:transport_id', namespaces=namespace) in used
