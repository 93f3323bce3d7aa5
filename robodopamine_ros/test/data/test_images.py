# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

from types import SimpleNamespace

import numpy as np
import pytest
from robodopamine_ros.data.images import (decode_compressed, decode_image, encode_compressed,
                                          encode_image, ImageDecodeError)

RGB = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def image_msg(pixels, encoding, pad=0):
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = pixels.reshape(height, width * channels)
    rows = np.concatenate([rows, np.full((height, pad), 77, np.uint8)], axis=1)
    return SimpleNamespace(height=height, width=width, encoding=encoding, is_bigendian=0,
                           step=width * channels + pad, data=rows.tobytes())


@pytest.mark.parametrize('pad', [0, 3])
@pytest.mark.parametrize('encoding, pixels', [
    ('rgb8', RGB), ('bgr8', RGB[:, :, ::-1]),
    ('rgba8', np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)])),
    ('bgra8', np.dstack([RGB[:, :, ::-1], np.full(RGB.shape[:2], 9, np.uint8)])),
])
def test_color_encodings_with_row_padding(encoding, pixels, pad):
    decoded = decode_image(image_msg(np.ascontiguousarray(pixels), encoding, pad))
    assert decoded.dtype == np.uint8 and decoded.shape == (5, 7, 3)
    np.testing.assert_array_equal(decoded, RGB)


def test_mono8_is_replicated():
    grey = RGB[:, :, 0].copy()
    decoded = decode_image(image_msg(grey, 'mono8', pad=2))
    np.testing.assert_array_equal(decoded, np.dstack([grey] * 3))


def test_encode_then_decode():
    height, width, encoding, bigendian, step, data = encode_image(RGB, 'bgr8')
    msg = SimpleNamespace(height=height, width=width, encoding=encoding,
                          is_bigendian=bigendian, step=step, data=data)
    np.testing.assert_array_equal(decode_image(msg), RGB)


def test_unknown_encoding_and_short_data_are_named():
    with pytest.raises(ImageDecodeError, match="cam at 5: unknown encoding 'bayer_rggb8'"):
        decode_image(image_msg(RGB, 'bayer_rggb8'), where='cam at 5')
    msg = image_msg(RGB, 'rgb8')
    msg.data = msg.data[:-10]
    with pytest.raises(ImageDecodeError, match='data has 95 bytes'):
        decode_image(msg)


def test_step_smaller_than_a_row_says_exactly_that():
    msg = image_msg(RGB, 'rgb8')
    msg.step = 20
    with pytest.raises(ImageDecodeError, match=r'cam: step 20 is smaller than width 7 x 3 bytes '
                                               r'per pixel \(rgb8\) = 21 bytes'):
        decode_image(msg, where='cam')
    grey16 = SimpleNamespace(height=2, width=4, encoding='mono16', is_bigendian=0, step=6,
                             data=bytes(16))
    with pytest.raises(ImageDecodeError, match=r'step 6 is smaller than width 4 x 2 bytes per '
                                               r'pixel \(mono16\) = 8 bytes'):
        decode_image(grey16)


@pytest.mark.parametrize('fmt', ['jpeg', 'png'])
def test_compressed_round_trip(fmt):
    smooth = np.zeros((24, 32, 3), np.uint8)
    smooth[:, :, 0] = np.linspace(0, 255, 32)[None, :]
    smooth[:, :, 2] = 200
    format_string, data = encode_compressed(smooth, fmt, quality=95)
    decoded = decode_compressed(SimpleNamespace(format=format_string, data=data))
    assert decoded.shape == smooth.shape
    tolerance = 0 if fmt == 'png' else 6
    assert np.abs(decoded.astype(int) - smooth).mean() <= tolerance


def test_bad_compressed_data():
    with pytest.raises(ImageDecodeError, match='cam: compressed data is neither JPEG nor PNG '
                                               "\\(format 'tiff', first bytes 78 78"):
        decode_compressed(SimpleNamespace(format='tiff', data=b'xx'), where='cam')
    with pytest.raises(ImageDecodeError, match='cam: jpeg data .* does not decode'):
        decode_compressed(SimpleNamespace(format='jpeg', data=b'\xff\xd8\xff' + bytes(20)),
                          where='cam')
