# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Demonstrations are read at a bounded memory (issue 29, item 16).

Each image is decoded and resized on its own, straight into the output: reading at the size a
model uses costs frames x that size, never the recorded size; the agent's demonstrations
(demo_bags) decode no image at all. Measured with tracemalloc (numpy reports its buffers to it).
bench/bench_demo_memory.py gives the peak resident memory of whole processes.
"""

import tracemalloc

import numpy as np
import pytest
from robodopamine_ros.data import bag_writer, bags
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.demonstrations import load_demonstrations

NAMES = tuple(f'fr3_joint{i + 1}' for i in range(7))
FRAMES = 30
RECORDED = FRAMES * 3 * 640 * 480 * 3    # bytes of every view at the recorded size


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    path = tmp_path_factory.mktemp('memory') / 'demo'
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (480, 640, 3), np.uint8)
    with bag_writer.EpisodeBagWriter(path, storage='mcap', image_format='jpeg') as writer:
        for k in range(FRAMES):
            stamp = 1_700_000_000 * 10**9 + k * 33_333_333
            frame = np.roll(base, 7 * k, axis=1)
            writer.write_triplet(stamp, {'front': frame, 'left_wrist': frame,
                                         'right_wrist': frame})
            writer.write_joint_state(stamp, NAMES, np.full(7, 0.01 * k))
            writer.write_ee_pose(stamp, [0.4, 0, 0.3, 0, 0, 0, 1])
            writer.write_action(stamp, [0.1, 0, 0, 1], intervention=True)
    return path


def peak_bytes(read):
    tracemalloc.start()
    try:
        result = read()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_at_a_models_size_never_holds_the_recorded_size(bag):
    episode, peak = peak_bytes(lambda: bags.read_episode(bag, image_size=(64, 48)))
    assert episode.views['front'].shape == (FRAMES, 48, 64, 3)
    assert peak < RECORDED / 4, f'{peak / 1e6:.1f} MB'
    full, full_peak = peak_bytes(lambda: bags.read_episode(bag))
    assert full.views['front'].shape == (FRAMES, 480, 640, 3) and full_peak > RECORDED


def test_the_agents_demonstrations_decode_no_image(bag):
    result, peak = peak_bytes(lambda: load_demonstrations([bag], NAMES,
                                                          ShapingConfig(gamma=0.98)))
    (_, episode), = result
    assert len(episode.transitions) == FRAMES - 1 or len(episode.transitions) == FRAMES
    assert peak < RECORDED / 10, f'{peak / 1e6:.1f} MB'
    recording = bags.read_episode(bag, images=False)
    assert recording.views['front'].shape == (FRAMES, 0, 0, 3)
    np.testing.assert_array_equal(recording.stamps, bags.read_episode(
        bag, image_size=(8, 6)).stamps)


def test_demonstrations_load_even_when_no_image_could_be_decoded(tmp_path):
    """Proof that none is decoded: every camera message holds bytes that are no image."""
    path = tmp_path / 'undecodable'
    with bag_writer.EpisodeBagWriter(path, storage='mcap') as writer:
        types = writer.store.types
        for k in range(5):
            stamp = 1_700_000_000 * 10**9 + k * 33_333_333
            header = types['std_msgs/msg/Header'](
                stamp=types['builtin_interfaces/msg/Time'](sec=stamp // 10**9,
                                                           nanosec=stamp % 10**9),
                frame_id='camera')
            for view in ('front', 'left_wrist', 'right_wrist'):
                msg = types[bags.COMPRESSED](header=header, format='jpeg',
                                             data=np.frombuffer(b'not an image', np.uint8))
                writer.write_raw(writer.topics.camera(view) + '/compressed', bags.COMPRESSED,
                                 writer.store.serialize_cdr(msg, bags.COMPRESSED), stamp)
            writer.write_joint_state(stamp, NAMES, np.full(7, 0.01 * k))
            writer.write_ee_pose(stamp, [0.4, 0, 0.3, 0, 0, 0, 1])
            writer.write_action(stamp, [0.1, 0, 0, 1], intervention=True)
    with pytest.raises(ValueError):
        bags.read_episode(path, image_size=(8, 6))
    (_, episode), = load_demonstrations([path], NAMES, ShapingConfig(gamma=0.98))
    assert len(episode.transitions) >= 4


def test_a_vlm_reads_at_its_pixel_budget_never_more(bag):
    from robodopamine_ros.data.images import FitPixels
    from robodopamine_ros.grm.vlm import MAX_PIXELS

    assert FitPixels(MAX_PIXELS).size_for(640, 480) == (320, 240)
    assert FitPixels(MAX_PIXELS).size_for(160, 120) == (160, 120)   # never upscaled
    episode, peak = peak_bytes(lambda: bags.read_episode(bag, image_size=FitPixels(MAX_PIXELS)))
    assert episode.views['front'].shape == (FRAMES, 240, 320, 3)
    assert peak < RECORDED / 2, f'{peak / 1e6:.1f} MB'
