# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Every node's main(): nothing that hangs after SIGINT keeps the process alive."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from launch_tools import private_domain

# a node whose destroy_node blocks, as rclpy's and TensorBoard's were seen to (rarely) in CI
HANGING_NODE = textwrap.dedent("""
    import threading
    from rclpy.node import Node
    from robodopamine_ros.nodes.spin import run

    class Stuck(Node):
        def __init__(self):
            super().__init__('rd_test_stuck')
            self.create_timer(0.05, lambda: print('spinning', flush=True))

        def destroy_node(self):
            threading.Event().wait(60)   # never set: the cleanup hangs

    run(Stuck, 'rd_test_stuck')
""")


def test_a_hanging_cleanup_ends_the_process_with_the_stacks_within_seconds(tmp_path):
    script = tmp_path / 'stuck.py'
    script.write_text(HANGING_NODE)
    env = dict(os.environ, ROS_DOMAIN_ID=str(private_domain()))
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == 'spinning'   # it spins
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert time.monotonic() - started < 10.0   # cleanup bound 3 s; launch escalates at 5
    assert process.returncode == 0
    assert 'cleanup did not finish in 3.0 s' in stderr and 'destroy_node' in stderr


# a node that leaves a thread that never ends: interpreter finalization would wait for it
LINGERING_NODE = textwrap.dedent("""
    import threading
    from rclpy.node import Node
    from robodopamine_ros.nodes.spin import run

    class Lingering(Node):
        def __init__(self):
            super().__init__('rd_test_lingering')
            threading.Thread(target=threading.Event().wait, daemon=False).start()
            self.create_timer(0.05, lambda: print('spinning', flush=True))

    run(Lingering, 'rd_test_lingering')
""")


def test_a_hang_after_the_cleanup_does_not_keep_the_process_alive(tmp_path):
    script = tmp_path / 'lingering.py'
    script.write_text(LINGERING_NODE)
    env = dict(os.environ, ROS_DOMAIN_ID=str(private_domain()))
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == 'spinning'
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert time.monotonic() - started < 5.0, stderr   # launch escalates to SIGTERM at 5 s
    assert process.returncode == 0, stderr
