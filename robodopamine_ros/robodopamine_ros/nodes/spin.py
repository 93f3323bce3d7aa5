# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The main() every node shares: init, build the node, spin, shut down cleanly."""

import faulthandler
import os
import signal
import sys
import threading

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException

# s: `ros2 launch` escalates to SIGTERM 5 s after SIGINT. The cleanup gets CLEANUP_S; one that
# has not finished by then (seen in CI, rarely: rclpy's destroy_node blocked in
# destroy_when_not_in_use, TensorBoard's writer thread in join) leaves every thread's stack on
# stderr and the process exits anyway, with status 0 as a clean shutdown would. A node whose
# cleanup needs longer (rl_agent_node's last checkpoint) sets ``cleanup_s``, and the launch
# gives it a longer sigterm_timeout.
CLEANUP_S = 3.0


def _ignore_further_sigint():
    """
    Let the cleanup finish: Ctrl-C in a terminal reaches a launched node twice.

    The terminal sends SIGINT to the whole process group and `ros2 launch` forwards its own; a
    second SIGINT during destroy_node() or interpreter exit would end the node with a
    KeyboardInterrupt traceback (status -2) instead of cleanly. `ros2 launch` still escalates
    to SIGTERM and SIGKILL if the cleanup hangs.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run(node_class, name, args=None):
    """
    Run node_class until shutdown.

    A node that cannot start because of a bad parameter (a wrong value or type: see
    nodes/parameters.py), a missing model folder, a missing optional dependency or a server
    it needs that does not answer (grm_node's served GRM) logs one
    fatal line naming the cause and exits with status 2 (the launch then ends: see
    launch/franka_insertion.launch.py). SIGINT while the node is still being built (Ctrl-C or
    `ros2 launch` shutting down while a model loads) ends it quietly with status 0, as it does
    once it spins.
    """
    rclpy.init(args=args)
    try:
        node = node_class()
    except (ValueError, FileNotFoundError, ImportError, ConnectionError,
            ParameterException) as error:
        # ParameterException: a parameter that rclpy refused (a type declare_parameter of
        # nodes/parameters.py does not see; its message names the parameter and both types)
        rclpy.logging.get_logger(name).fatal(f'cannot start: {error}')
        rclpy.try_shutdown()
        raise SystemExit(2)
    except (Exception, KeyboardInterrupt) as error:
        # rclpy shuts its context down from a thread of its own after SIGINT: a
        # KeyboardInterrupt may come before rclpy.ok() turns false
        if rclpy.ok() and not isinstance(error, KeyboardInterrupt):
            raise
        _ignore_further_sigint()
        rclpy.try_shutdown()
        # shut down by a signal before it could spin; no interpreter finalization (seen in
        # CI: teleop_node interrupted while starting printed a traceback from rclpy's
        # Future.__del__, a Future half made while the interpreter tore its modules down)
        _exit_after_cleanup(0)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # a callback that was running when SIGINT shut the context down fails to publish
        # ("publisher's context is invalid"): that is the shutdown, not an error
        if rclpy.ok():
            raise
    finally:
        _ignore_further_sigint()
        _bounded_cleanup(node, name)
    _exit_after_cleanup()


def _exit_after_cleanup(status=0):
    """
    End the process (with `status`) once rclpy is shut down, skipping finalization.

    Seen in CI (rarely): a node whose cleanup had finished never exited, through SIGINT (ignored
    by then) and SIGTERM (rclpy's handler only shuts contexts down), until `ros2 launch`'s
    SIGKILL; no stack was dumped, so it hung after the cleanup, in interpreter finalization
    (middleware objects destroyed at exit). Nothing is left to run at that point: the node's
    files were closed by its destroy_node.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _bounded_cleanup(node, name):
    """Destroy the node and shut rclpy down, waiting at most its cleanup_s (see above)."""
    errors = []
    bound = getattr(node, 'cleanup_s', CLEANUP_S)

    def cleanup():
        try:
            node.destroy_node()
            rclpy.try_shutdown()
        except Exception as error:  # reported below, from the main thread
            errors.append(error)
    worker = threading.Thread(target=cleanup, name='cleanup', daemon=True)
    worker.start()
    worker.join(bound)
    if worker.is_alive():
        print(f'[{name}] cleanup did not finish in {bound} s: exiting; the stacks:',
              file=sys.stderr, flush=True)
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        os._exit(0)  # the stuck daemon thread must not hold interpreter exit
    if errors:
        raise errors[0]
