# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Benchmark bookkeeping shared by every bench/*.py script.

Convention: a benchmark is one script run with one command (the command is recorded with each
figure). For every figure it calls record(), which prints one machine-readable line

    BENCH {"benchmark": ..., "metric": ..., "value": ..., "unit": ..., ...}

and updates that figure's row in bench/RESULTS.md (one row per benchmark + metric, grouped by
benchmark, each command written once above its figures; the file is rewritten atomically). A
benchmark measures; it never asserts a target.
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
SECTION = '## Every figure\n'
INTRO = ('One section per benchmark; within it, each command that produced figures is given '
         'once, above the table of its figures (machine and date per figure).\n')
TABLE = '| metric | figure | machine | date |\n|---|---|---|---|\n'
OLD_HEADER = '| benchmark | metric | figure | command | machine | date |'

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
    _upsert({'benchmark': benchmark, 'metric': metric, 'figure': figure,
             'command': entry['command'], 'machine': entry['machine'], 'date': entry['date']})


def _cells(line):
    """Split a Markdown table row into its cells (figures never hold ' | ')."""
    return [cell.strip() for cell in line.strip()[1:-1].split(' | ')]


def read_figures(text):
    """
    Return (the text before the figures, [figure dicts]) of a RESULTS.md text.

    A figure: benchmark, metric, figure, command, machine, date. Reads this module's layout
    (a section per benchmark, each command once above its table) and the older flat table
    (one row per figure with its command), also after it (a benchmark started before the
    layout changed appends its rows the old way): of two figures of one benchmark and
    metric, the later in the file wins.
    """
    head, _, body = text.partition(SECTION)
    figures, benchmark, command = [], None, ''
    for line in body.splitlines():
        if line.startswith('### '):
            benchmark = line[4:].strip()
        elif line.startswith('Command: '):
            command = line[len('Command: '):].strip().strip('`')
        elif line.startswith('| ') and not line.startswith(('| metric |', OLD_HEADER)):
            cells = _cells(line)
            if len(cells) == 6:   # the flat table
                figures.append(dict(zip(('benchmark', 'metric', 'figure', 'command', 'machine',
                                         'date'), cells), command=cells[3].strip('`')))
            elif len(cells) == 4 and benchmark is not None:
                figures.append({'benchmark': benchmark, 'metric': cells[0], 'figure': cells[1],
                                'command': command, 'machine': cells[2], 'date': cells[3]})
    latest = {}
    for figure in figures:
        latest[(figure['benchmark'], figure['metric'])] = figure
    return head, list(latest.values())


def render(head, figures):
    """Return RESULTS.md's text: head, then each benchmark's figures grouped by command."""
    out = [head.rstrip('\n') + ('\n\n' if head.strip() else ''), SECTION, '\n', INTRO]
    benchmarks = list(dict.fromkeys(f['benchmark'] for f in figures))
    for benchmark in benchmarks:
        out.append(f'\n### {benchmark}\n')
        mine = [f for f in figures if f['benchmark'] == benchmark]
        for command_line in dict.fromkeys(f['command'] for f in mine):
            out.append(f'\nCommand: `{command_line}`\n\n{TABLE}')
            out += [f'| {f["metric"]} | {f["figure"]} | {f["machine"]} | {f["date"]} |\n'
                    for f in mine if f['command'] == command_line]
    return ''.join(out)


def _upsert(entry):
    """
    Replace the figure of (benchmark, metric) in RESULTS.md, or add it; atomically.

    Benchmarks run side by side (both cores): the read-modify-write holds an exclusive lock on
    a file beside RESULTS.md, so no process rewrites it from a copy without another's row.
    """
    import fcntl

    with open(RESULTS.parent / '.RESULTS.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _upsert_locked(entry)


def _upsert_locked(entry):
    text = RESULTS.read_text() if RESULTS.exists() else ''
    head, figures = read_figures(text)
    key = (entry['benchmark'], entry['metric'])
    for i, figure in enumerate(figures):
        if (figure['benchmark'], figure['metric']) == key:
            figures[i] = entry
            break
    else:
        figures.append(entry)
    fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, prefix='.RESULTS.', suffix='.tmp')
    with os.fdopen(fd, 'w') as out:
        out.write(render(head, figures))
    os.replace(tmp, RESULTS)
