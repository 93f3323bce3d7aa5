# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Benchmark bookkeeping shared by every bench/*.py script.

Convention: a benchmark is one script run with one command (the command is recorded with each
figure). For every figure it calls record(), which prints one machine-readable line

    BENCH {"benchmark": ..., "metric": ..., "value": ..., "unit": ..., ...}

and updates that figure's row in bench/RESULTS.md (one row per benchmark + metric; the file
is rewritten atomically). A benchmark measures; it never asserts a target.
"""

import datetime
import json
import os
from pathlib import Path
import platform
import shlex
import sys
import tempfile

RESULTS = Path(__file__).resolve().parent / 'RESULTS.md'
HEADER = ('| benchmark | metric | figure | command | machine | date |\n'
          '|---|---|---|---|---|---|\n')


def machine():
    """Describe this machine in a few words (CPU model, cores, torch threads if set)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return f'{cpu}, {os.cpu_count()} cores'


def command():
    """Return the command line that ran this benchmark, relative to the repository."""
    python = os.path.relpath(sys.executable) if not os.path.relpath(
        sys.executable).startswith('..') else 'python'
    return ' '.join(shlex.quote(a) for a in [python, os.path.relpath(sys.argv[0])]
                    + sys.argv[1:])


def record(benchmark, metric, value, unit, note='', device=None):
    """Print the BENCH line for one figure and upsert its row in RESULTS.md."""
    entry = {'benchmark': benchmark, 'metric': metric, 'value': value, 'unit': unit,
             'note': note, 'command': command(), 'machine': device or machine(),
             'date': datetime.date.today().isoformat()}
    print('BENCH ' + json.dumps(entry), flush=True)
    figure = f'{value:.4g} {unit}' if isinstance(value, float) else f'{value} {unit}'
    if note:
        figure += f' ({note})'
    row = (f'| {benchmark} | {metric} | {figure} | `{entry["command"]}` | '
           f'{entry["machine"]} | {entry["date"]} |\n')
    _upsert(f'| {benchmark} | {metric} |', row)


def _upsert(key, row):
    text = RESULTS.read_text() if RESULTS.exists() else ''
    if HEADER not in text:
        text = text.rstrip('\n') + ('\n\n' if text else '') + HEADER
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(key):
            lines[i] = row
            break
    else:
        lines.append(row)
    fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, prefix='.RESULTS.', suffix='.tmp')
    with os.fdopen(fd, 'w') as out:
        out.writelines(lines)
    os.replace(tmp, RESULTS)
