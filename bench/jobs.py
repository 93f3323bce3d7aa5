# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Run benchmark commands as subprocesses, a few at a time, each logging to its folder."""

import os
import subprocess
import time


def run_jobs(queue, jobs):
    """
    Run (label, folder, command) items, at most `jobs` at once; each appends to folder/train.log.

    One torch / BLAS thread per job (OMP_NUM_THREADS, MKL_NUM_THREADS). Prints a line when a job
    starts and when it ends (with its exit status); returns when all have ended.
    """
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    queue, running, started = list(queue), [], time.perf_counter()
    while queue or running:
        while queue and len(running) < jobs:
            label, folder, command = queue.pop(0)
            folder.mkdir(parents=True, exist_ok=True)
            log = open(folder / 'train.log', 'a')
            running.append((label, subprocess.Popen(command, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT), log))
            print(f'started {label}', flush=True)
        for item in list(running):
            label, proc, log = item
            if proc.poll() is not None:
                log.close()
                running.remove(item)
                print(f'finished {label}: exit {proc.returncode} '
                      f'({time.perf_counter() - started:.0f} s since start)', flush=True)
        time.sleep(2.0)
