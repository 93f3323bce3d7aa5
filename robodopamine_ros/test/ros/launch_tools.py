# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Run the real `ros2` command in tests: a private ROS domain, bounded in time, every process ended.

Each command runs in a session (process group) of its own; interrupt() sends SIGINT to the
leader (`kill -INT`) or to the group (Ctrl-C in a terminal) and waits for the whole group to be
gone; kill() SIGKILLs whatever is left. Waiting is on conditions (process or group gone),
never on fixed sleeps.
"""

import itertools
import os
import shutil
import signal
import subprocess
import time

import pytest

REQUIRE_ROS = os.environ.get('RD_REQUIRE_ROS') == '1'
_domains = itertools.count()


def ros2_executable():
    """Return the `ros2` command; in CI (RD_REQUIRE_ROS=1) its absence fails, else skips."""
    found = shutil.which('ros2')
    if found is None:
        message = ('the ros2 command (ros2cli, ros2launch) is not on PATH: scripts/env.sh '
                   'builds it from ../shared/ros2_underlay, or source a ROS installation')
        if REQUIRE_ROS:
            pytest.fail(message)
        pytest.skip(message)
    return found


def private_domain():
    """Return a ROS_DOMAIN_ID of this test alone (215-231, apart from the suite's 100-199)."""
    return 215 + (os.getpid() + next(_domains)) % 17


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies that nobody reaped yet count as gone
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as stream:
                fields = stream.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != 'Z':
            return True
    return False


class Ros2:
    """One `ros2 ...` command in its own process group, output in a file."""

    def __init__(self, args, domain, log_path, cwd=None):
        env = dict(os.environ, ROS_DOMAIN_ID=str(domain), PYTHONUNBUFFERED='1',
                   RCUTILS_LOGGING_BUFFERED_STREAM='0')
        self.log_path = log_path
        self._log = open(log_path, 'w')
        self.started = time.monotonic()
        self.proc = subprocess.Popen([ros2_executable()] + list(args), env=env, cwd=cwd,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.pgid = self.proc.pid

    def output(self):
        self._log.flush()
        with open(self.log_path) as stream:
            return stream.read()

    def wait(self, timeout):
        """Wait for the leader to exit; returns its status (fails the test on timeout)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f'ros2 {self.proc.args[1:]} did not finish within {timeout} s:\n'
                        + self.output()[-3000:])

    def interrupt(self, timeout, group=False):
        """
        SIGINT the leader, or with group=True the whole group (Ctrl-C in a terminal).

        Return seconds until the whole group is gone (None: not gone by the timeout).
        `ros2 run` relies on the group signal: it does not forward SIGINT to the node.
        """
        start = time.monotonic()
        if self.proc.poll() is None:
            if group:
                os.killpg(self.pgid, signal.SIGINT)
            else:
                self.proc.send_signal(signal.SIGINT)
        deadline = start + timeout
        while time.monotonic() < deadline:
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                continue
            if not group_alive(self.pgid):
                return time.monotonic() - start
        return None

    def kill(self):
        """SIGKILL whatever is left of the group and reap the leader."""
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def leftover_processes(pgid):
    """Return the command lines of live processes in process group pgid."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/stat') as stream:
                fields = stream.read().rsplit(')', 1)[1].split()
            with open(f'/proc/{pid}/cmdline', 'rb') as stream:
                cmd = stream.read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != 'Z':
            found.append(cmd)
    return found
