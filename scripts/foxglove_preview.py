# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Draw what the shipped Foxglove layout shows for a recorded bag (a preview, not the app).

Foxglove is a desktop or web application that cannot run on our build machines, so the
layout's documentation image is drawn by this script with matplotlib from a real bag recorded
by the launch (``mode:=train`` or ``eval`` with ``bag:=FOLDER``), panel by panel as the layout
file (config/robodopamine.foxglove.json) arranges them: its Image panels show the camera
frames nearest the chosen time, its Plot panels the plotted fields over time, its
StateTransitions panel each flag's on-intervals, its Indicator the last episode's outcome.
Every topic and field comes from the layout file; a topic missing from the bag is an error
naming it.

Usage (from the repository root, after scripts/test.sh built .work/venv-core):

    .work/venv-core/bin/python scripts/foxglove_preview.py BAG -o docs/images/x.png [--at S]

--at: seconds from the bag's start for the camera frames (default: the last episode's end).
"""

import argparse
import json
from pathlib import Path
import sys

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LAYOUT = REPO / 'robodopamine_ros' / 'config' / 'robodopamine.foxglove.json'


def layout_panels(path):
    """Return {panel id: config} and the panels in the layout tree's reading order."""
    layout = json.loads(Path(path).read_text())
    order, stack = [], [layout['layout']]
    while stack:
        node = stack.pop(0)
        if isinstance(node, str):
            order.append(node)
        else:
            stack = [node['first'], node['second']] + stack
    return layout['configById'], order


def split_path(value):
    """'/topic.field' -> ('/topic', 'field'); '/topic' -> ('/topic', None)."""
    topic, _, field = value.partition('.')
    return topic, field or None


def read_topics(bag, topics):
    """Return {topic: [(stamp_ns, message)]} of a bag, header stamps where there are any."""
    sys.path.insert(0, str(REPO / 'robodopamine_ros'))
    from robodopamine_ros.data.bag_location import locate, open_reader
    from robodopamine_ros.data.interfaces import deserialize, typestore

    store, out = typestore('jazzy'), {t: [] for t in topics}
    location = locate(bag)
    with open_reader(location) as reader:
        connections = [c for c in reader.connections if c.topic in out]
        missing = set(topics) - {c.topic for c in connections}
        if missing:
            raise SystemExit(f'{bag}: the layout reads {sorted(missing)}, not in this bag '
                             '(record it with bag:= in mode:=train or eval)')
        for connection, stamp, raw in reader.messages(connections=connections):
            msg = deserialize(store, raw, connection.msgtype)
            header = getattr(msg, 'header', None)
            if header is not None and (header.stamp.sec or header.stamp.nanosec):
                stamp = header.stamp.sec * 10**9 + header.stamp.nanosec
            out[connection.topic].append((stamp, msg))
    for series in out.values():
        series.sort(key=lambda item: item[0])
    empty = sorted(topic for topic, series in out.items() if not series)
    if empty:
        raise SystemExit(f'{bag}: no messages on {empty}, which the layout reads')
    return out


def draw(bag, output, at=None, layout=LAYOUT):
    """Draw the layout's panels from the bag into output (PNG); return the time shown (s)."""
    layout = Path(layout)
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    sys.path.insert(0, str(REPO / 'robodopamine_ros'))
    from robodopamine_ros.data.images import decode_image

    configs, order = layout_panels(layout)
    topics = set()
    for panel, config in configs.items():
        kind = panel.split('!')[0]
        values = [config['imageMode']['imageTopic']] if kind == 'Image' else \
            [config['path']] if kind == 'Indicator' else [p['value'] for p in config['paths']]
        topics |= {split_path(v)[0] for v in values}
    data = read_topics(bag, sorted(topics))
    start = min(series[0][0] for series in data.values() if series)
    summaries = data.get('/episode_summary', [])
    shown = at if at is not None else \
        ((summaries[-1][0] - start) / 1e9 if summaries else
         max(s[-1][0] for s in data.values() if s) / 1e9 - start / 1e9)

    images = [p for p in order if p.startswith('Image!')]
    others = [p for p in order if not p.startswith('Image!')]
    figure = plt.figure(figsize=(12, 8.5))
    grid = figure.add_gridspec(1 + len(others), len(images),
                               height_ratios=[2.2] + [1] * len(others))
    for column, panel in enumerate(images):
        topic = configs[panel]['imageMode']['imageTopic']
        stamps = np.array([s for s, _ in data[topic]])
        k = int(np.argmin(np.abs((stamps - start) / 1e9 - shown)))
        axis = figure.add_subplot(grid[0, column])
        axis.imshow(decode_image(data[topic][k][1], where=topic))
        axis.set_title(f"{configs[panel].get('foxglovePanelTitle', panel)}\n{topic}", fontsize=9)
        axis.axis('off')
    for row, panel in enumerate(others, start=1):
        config, kind = configs[panel], panel.split('!')[0]
        axis = figure.add_subplot(grid[row, :])
        title = config.get('foxglovePanelTitle', panel)
        if kind == 'Indicator':
            topic, field = split_path(config['path'])
            last = getattr(data[topic][-1][1], field) if data[topic] else None
            rule = next((r for r in config.get('rules', [])
                         if str(last).lower() == r['rawValue']), None)
            color = rule['color'] if rule else config.get('fallbackColor', '#a0a0a0')
            label = rule['label'] if rule else config.get('fallbackLabel', '')
            axis.plot([0.03], [0.5], 'o', markersize=22, color=color,
                      transform=axis.transAxes, clip_on=False)
            axis.text(0.07, 0.5, f'{title}: {label} ({len(data[topic])} episodes in the bag)',
                      va='center', transform=axis.transAxes)
            axis.axis('off')
            continue
        for k, path in enumerate(config['paths']):
            topic, field = split_path(path['value'])
            times = np.array([(s - start) / 1e9 for s, _ in data[topic]])
            values = np.array([float(getattr(m, field)) for _, m in data[topic]])
            label = path.get('label', path['value'])
            if kind == 'StateTransitions':   # each flag's on-intervals, one lane per path
                on = values > 0.5
                axis.fill_between(times, k + 0.1, k + 0.9, where=on, step='post',
                                  color=f'C{k}')
            else:
                axis.plot(times, values, lw=0.8, label=label)
        if kind == 'StateTransitions':   # one lane per flag, named on its axis
            labels = [p.get('label', p['value']) for p in config['paths']]
            axis.set_yticks([k + 0.5 for k in range(len(labels))], labels, fontsize=7)
            axis.set_ylim(0, len(labels))
        axis.axvline(shown, color='k', lw=0.6, ls=':')
        axis.set_title(title, fontsize=9, loc='left')
        if kind != 'StateTransitions':
            axis.legend(fontsize=7, loc='lower right')
        axis.set_xlim(0, None)
    plots = [a for a in figure.axes if a.get_xlabel() == '' and a.axison]
    plots[-1].set_xlabel('s since the bag began (header stamps)')
    figure.suptitle(f'{layout.name} drawn from the bag {Path(bag).name} at {shown:.1f} s\n'
                    '(a preview drawn by scripts/foxglove_preview.py, not a screenshot of '
                    'Foxglove)', fontsize=10)
    figure.tight_layout()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=90)
    plt.close(figure)
    return shown


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('bag')
    parser.add_argument('-o', '--output', required=True)
    parser.add_argument('--at', type=float, default=None)
    args = parser.parse_args(argv)
    shown = draw(args.bag, args.output, args.at)
    print(f'wrote {args.output} (cameras at {shown:.1f} s)')


if __name__ == '__main__':
    main()
