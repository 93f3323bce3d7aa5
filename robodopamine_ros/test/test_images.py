# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

from types import SimpleNamespace

import numpy as np
import pytest
from robodopamine_ros.images import (decode_compressed, decode_image, encode_compressed,
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
    with pytest.raises(ImageDecodeError, match="cam at 5: unknown encoding '16UC1'"):
        decode_image(image_msg(RGB, '16UC1'), where='cam at 5')
    msg = image_msg(RGB, 'rgb8')
    msg.data = msg.data[:-10]
    with pytest.raises(ImageDecodeError, match='data has 95 bytes'):
        decode_image(msg)


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
    with pytest.raises(ImageDecodeError, match='does not decode'):
        decode_compressed(SimpleNamespace(format='jpeg', data=b'not a jpeg'))
    with pytest.raises(ImageDecodeError, match="unknown compressed format 'tiff'"):
        decode_compressed(SimpleNamespace(format='tiff', data=b'xx'))
