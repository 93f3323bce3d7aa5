# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A contact sheet of an episode, for checking keyframes by eye.

The three views of every k-th frame and of every keyframe boundary, with frame numbers and
segment boundaries drawn in, in one PNG.
"""

import numpy as np

from robodopamine_ros.data.images import resize

COLORS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
          (70, 240, 240), (240, 50, 230), (210, 245, 60)]


def _tile(episode, index, width):
    """Front view on top, the two wrist views side by side below it."""
    front, left, right = episode.triplet(index)
    height = width * front.shape[0] // front.shape[1]
    top = resize(front, (width, height))
    half = (width // 2, height // 2)
    bottom = np.concatenate([resize(left, half), resize(right, half)], axis=1)
    bottom = np.pad(bottom, ((0, 0), (0, width - bottom.shape[1]), (0, 0)))
    return np.concatenate([top, bottom], axis=0)


def render_contact_sheet(episode, every=30, columns=8, tile_width=160):
    """Return the sheet as an RGB array."""
    import cv2

    if episode.num_frames == 0:
        raise ValueError(f'episode {episode.episode_id} has no frames')
    marks = {}
    for k, segment in enumerate(episode.keyframes):
        marks.setdefault(segment.start, []).append((k, f'S{k + 1} start'))
        marks.setdefault(segment.end, []).append((k, f'S{k + 1} end'))
    frames = sorted(set(range(0, episode.num_frames, max(1, every))) |
                    {f for f in marks if f < episode.num_frames})
    tiles = []
    for index in frames:
        tile = np.ascontiguousarray(_tile(episode, index, tile_width))
        label_band = np.full((18, tile.shape[1], 3), 255, np.uint8)
        text = f'#{index}'
        color = (0, 0, 0)
        if index in marks:
            k, _ = marks[index][0]
            color = COLORS[k % len(COLORS)]
            text += ' ' + ' / '.join(m for _, m in marks[index])
            cv2.rectangle(tile, (0, 0), (tile.shape[1] - 1, tile.shape[0] - 1), color, 4)
        cv2.putText(label_band, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1,
                    cv2.LINE_AA)
        tiles.append(np.concatenate([label_band, tile], axis=0))
    rows = []
    for start in range(0, len(tiles), columns):
        row = tiles[start:start + columns]
        row += [np.full_like(tiles[0], 255)] * (columns - len(row))
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                    for t in row], axis=1))
    return np.concatenate(rows, axis=0)
