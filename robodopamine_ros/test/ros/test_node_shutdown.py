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


def interrupted(tmp_path, source):
    """Run a node script, SIGINT it once it spins; return (seconds to exit, status, stderr)."""
    script = tmp_path / 'node.py'
    script.write_text(source)
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
    return time.monotonic() - started, process.returncode, stderr


def test_a_hanging_cleanup_ends_the_process_with_the_stacks_within_seconds(tmp_path):
    seconds, status, stderr = interrupted(tmp_path, HANGING_NODE)
    assert seconds < 10.0   # cleanup bound 3 s; launch escalates at 5
    assert status == 0
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
    seconds, status, stderr = interrupted(tmp_path, LINGERING_NODE)
    assert seconds < 5.0, stderr   # launch escalates to SIGTERM at 5 s
    assert status == 0, stderr
