# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
`source scripts/activate.bash`: a user's shell with ros2, robodopamine and a domain of its own.

Each case sources it in a fresh bash (`set +e`, as an interactive shell is) from a bare
environment (no ROS sourced, PATH the system's): the commands resolve in the ROS environment,
the shell's options are what they were (scripts/env.sh's `set -euo pipefail` stays in its child
bash), and a checkout that was never built gets one line and status 1, the shell alive.
"""

import os
from pathlib import Path
import subprocess

import pytest

REPO = Path(__file__).resolve().parents[3]
ACTIVATE = REPO / 'scripts' / 'activate.bash'
BUILT = (Path(os.environ.get('RD_WORK', REPO / '.work')) / 'ws' / 'install' / 'setup.bash')

CHECK = r"""
set +e
before="$(set +o; shopt -p)"
source "$ACTIVATE"
echo "status=$?"
after="$(set +o; shopt -p)"
[ "$before" = "$after" ] && echo "options unchanged" || diff <(echo "$before") <(echo "$after")
echo "ros2=$(command -v ros2)"
echo "robodopamine=$(command -v robodopamine)"
echo "domain=$ROS_DOMAIN_ID"
declare -F | grep -q -e ensure_ -e use_workspace && echo "functions leaked"
[ -n "$(command -v robodopamine)" ] && robodopamine --version && echo "robodopamine runs"
[ -n "$(command -v ros2)" ] && ros2 pkg prefix robodopamine_ros
echo "still here"
"""


def bash(script, tmp_path, **env):
    bare = {'HOME': str(tmp_path), 'PATH': '/usr/local/bin:/usr/bin:/bin',
            'LANG': 'C.UTF-8', 'ACTIVATE': str(ACTIVATE), **env}
    result = subprocess.run(['bash', '--norc', '--noprofile', '-c', script], env=bare,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    return result.stdout, result.stderr


@pytest.mark.skipif(not BUILT.is_file(), reason=f'{BUILT} not built (scripts/test.sh)')
def test_activate_gives_ros2_robodopamine_and_a_private_domain(tmp_path):
    out, err = bash(CHECK, tmp_path)
    lines = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    assert lines['status'] == '0', out + err
    assert 'options unchanged' in out and 'functions leaked' not in out, out
    assert lines['ros2'] and lines['robodopamine'], out + err
    # robodopamine is the colcon-installed command: the ROS environment's Python and package
    assert '/install/robodopamine_ros/lib/robodopamine_ros/' in lines['robodopamine']
    assert 'robodopamine runs' in out and 'still here' in out, out + err
    assert '/install/robodopamine_ros' in out   # ros2 finds our package
    assert 1 <= int(lines['domain']) <= 99
    assert f'ROS_DOMAIN_ID={lines["domain"]}' in err   # it says what it gave
    again, _ = bash(CHECK, tmp_path)
    assert f'domain={lines["domain"]}' in again   # the same one each time
    kept, _ = bash(CHECK, tmp_path, ROS_DOMAIN_ID='42')
    assert 'domain=42' in kept
    assert f'domain={lines["domain"]}' in bash(CHECK, tmp_path, ROS_DOMAIN_ID='0')[0]


def test_activate_without_a_build_says_so_and_leaves_the_shell_as_it_was(tmp_path):
    out, err = bash(CHECK, tmp_path, RD_WORK=str(tmp_path / 'never_built'))
    assert 'status=1' in out and 'options unchanged' in out and 'still here' in out, out + err
    assert 'run scripts/test.sh first' in err and 'ros2=\n' in out + '\n', out + err
    assert 'domain=\n' in out, out


def test_running_it_instead_of_sourcing_it_says_how(tmp_path):
    result = subprocess.run(['bash', str(ACTIVATE)], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert result.returncode == 1 and 'source it' in result.stderr
