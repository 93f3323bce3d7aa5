# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Every raw encoding and compressed format the decoder accepts, against independent references."""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from robodopamine_ros.data.images import decode_compressed, decode_image, ImageDecodeError

RNG = np.random.default_rng(3)
RGB = RNG.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)


def raw_msg(values, encoding, pad=0, bigendian=False, extra_rows=0):
    """Pack H x W x C values (uint8 or uint16) into an Image message with row padding."""
    values = np.asarray(values)
    if values.ndim == 2:
        values = values[:, :, None]
    height, width = values.shape[:2]
    dtype = values.dtype.newbyteorder('>' if bigendian else '<')
    rows = values.astype(dtype).reshape(height, -1).view(np.uint8)
    rows = np.concatenate([rows, np.full((height, pad), 0xAB, np.uint8)], axis=1)
    rows = np.concatenate([rows, np.full((extra_rows, rows.shape[1]), 0xCD, np.uint8)])
    return SimpleNamespace(height=height, width=width, encoding=encoding,
                           is_bigendian=int(bigendian), step=rows.shape[1],
                           data=rows.tobytes())


def bt601_reference(y, u, v):
    """ITU-R BT.601 video range YUV -> RGB, written out independently of OpenCV."""
    y, u, v = (np.asarray(a, dtype=float) for a in (y, u, v))
    c, d, e = 1.164 * (y - 16), u - 128, v - 128
    rgb = np.stack([c + 1.596 * e, c - 0.392 * d - 0.813 * e, c + 2.017 * d], axis=-1)
    return np.clip(np.rint(rgb), 0, 255)


def yuv422(y, u, v, order):
    """Pack full-resolution Y and per-pair U, V (H x W/2) as yuyv or uyvy bytes (H x W x 2)."""
    height, width = y.shape
    out = np.empty((height, width // 2, 4), np.uint8)
    if order == 'yuyv':
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = y[:, 0::2], u, y[:, 1::2], v
    else:
        out[..., 0], out[..., 1], out[..., 2], out[..., 3] = u, y[:, 0::2], v, y[:, 1::2]
    return out.reshape(height, width, 2)


@pytest.mark.parametrize('pad, extra_rows', [(0, 0), (4, 0), (3, 2)])
@pytest.mark.parametrize('encoding, values', [
    ('rgb8', RGB), ('bgr8', RGB[:, :, ::-1]), ('8UC3', RGB[:, :, ::-1]),
    ('rgba8', np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)])),
    ('bgra8', np.dstack([RGB[:, :, ::-1], np.full(RGB.shape[:2], 9, np.uint8)])),
    ('8UC4', np.dstack([RGB[:, :, ::-1], np.full(RGB.shape[:2], 9, np.uint8)])),
    ('rgb16', RGB.astype(np.uint16) * 257), ('bgr16', RGB[:, :, ::-1].astype(np.uint16) * 257),
    ('16UC3', RGB[:, :, ::-1].astype(np.uint16) * 257),
])
def test_colour_encodings(encoding, values, pad, extra_rows):
    msg = raw_msg(np.ascontiguousarray(values), encoding, pad, extra_rows=extra_rows)
    np.testing.assert_array_equal(decode_image(msg), RGB)


@pytest.mark.parametrize('bigendian', [False, True])
@pytest.mark.parametrize('encoding', ['mono16', '16UC1'])
def test_16_bit_mono_is_scaled_to_8_bit_honouring_byte_order(encoding, bigendian):
    depth = np.array([[0, 1, 128, 129], [257, 1000, 65534, 65535]], np.uint16)
    decoded = decode_image(raw_msg(depth, encoding, pad=2, bigendian=bigendian))
    expected = np.rint(depth * 255.0 / 65535.0).astype(np.uint8)
    np.testing.assert_array_equal(decoded, np.dstack([expected] * 3))
    # the same bytes read with the other byte order give other pixels: is_bigendian matters
    swapped = raw_msg(depth, encoding, pad=2, bigendian=bigendian)
    swapped.is_bigendian = int(not bigendian)
    assert not np.array_equal(decode_image(swapped), decoded)


@pytest.mark.parametrize('encoding', ['mono8', '8UC1'])
def test_8_bit_mono(encoding):
    grey = RGB[:, :, 1].copy()
    np.testing.assert_array_equal(decode_image(raw_msg(grey, encoding, pad=5)),
                                  np.dstack([grey] * 3))


@pytest.mark.parametrize('encoding, order', [('yuv422_yuy2', 'yuyv'), ('yuyv', 'yuyv'),
                                             ('YUYV', 'yuyv'), ('yuv422', 'uyvy'),
                                             ('uyvy', 'uyvy')])
@pytest.mark.parametrize('pad', [0, 6])
def test_yuv422_against_the_bt601_formula(encoding, order, pad):
    height, width = 4, 8
    y = RNG.integers(16, 236, size=(height, width), dtype=np.uint8)
    u = RNG.integers(16, 241, size=(height, width // 2), dtype=np.uint8)
    v = RNG.integers(16, 241, size=(height, width // 2), dtype=np.uint8)
    decoded = decode_image(raw_msg(yuv422(y, u, v, order), encoding, pad))
    expected = bt601_reference(y, np.repeat(u, 2, axis=1), np.repeat(v, 2, axis=1))
    assert decoded.shape == (height, width, 3) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - expected).max() <= 2


def test_yuv422_needs_an_even_width():
    msg = SimpleNamespace(height=2, width=3, encoding='yuyv', is_bigendian=0, step=6,
                          data=bytes(12))
    with pytest.raises(ImageDecodeError, match='cam: yuyv \\(4:2:2\\) needs an even width, '
                                               'got 3'):
        decode_image(msg, where='cam')


def _jpeg(image):
    return cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 100])[1].tobytes()


def _png(image):
    return cv2.imencode('.png', image)[1].tobytes()


BGR = np.ascontiguousarray(RGB[:, :, ::-1])


@pytest.mark.parametrize('fmt', ['jpeg', 'jpg', 'rgb8; jpeg compressed bgr8',
                                 'bgr8; jpeg compressed bgr8', 'png', '', 'anything'])
def test_jpeg_by_magic_bytes_whatever_the_format_string(fmt):
    smooth = np.zeros((16, 16, 3), np.uint8)
    smooth[:, :, 2] = 200
    smooth[:, :, 1] = np.linspace(0, 255, 16)[None, :]
    decoded = decode_compressed(SimpleNamespace(format=fmt, data=_jpeg(smooth)))
    assert np.abs(decoded.astype(int) - smooth[:, :, ::-1]).mean() < 3


@pytest.mark.parametrize('fmt', ['png', 'rgb8; png compressed bgr8', 'jpeg', ''])
def test_png_by_magic_bytes_whatever_the_format_string(fmt):
    np.testing.assert_array_equal(
        decode_compressed(SimpleNamespace(format=fmt, data=_png(BGR))), RGB)


def test_png_grey_alpha_and_16_bit():
    grey = RGB[:, :, 0].copy()
    np.testing.assert_array_equal(
        decode_compressed(SimpleNamespace(format='mono8; png compressed', data=_png(grey))),
        np.dstack([grey] * 3))
    bgra = np.dstack([BGR, np.full(RGB.shape[:2], 7, np.uint8)])
    np.testing.assert_array_equal(
        decode_compressed(SimpleNamespace(format='bgra8; png compressed bgra8',
                                          data=_png(bgra))), RGB)
    depth = (RGB[:, :, 0].astype(np.uint16) * 257)
    decoded = decode_compressed(SimpleNamespace(format='16UC1; png compressed',
                                                data=_png(depth)))
    np.testing.assert_array_equal(decoded, np.dstack([RGB[:, :, 0]] * 3))
    # compressed_depth_image_transport: a 12-byte config header, then the 16-bit PNG
    header = np.array([0], np.int32).tobytes() + np.zeros(2, np.float32).tobytes()
    decoded = decode_compressed(SimpleNamespace(format='16UC1; compressedDepth png',
                                                data=header + _png(depth)))
    np.testing.assert_array_equal(decoded, np.dstack([RGB[:, :, 0]] * 3))


def test_other_compressed_data_names_topic_and_format():
    bmp = cv2.imencode('.bmp', BGR)[1].tobytes()
    with pytest.raises(ImageDecodeError, match='/cam/compressed at stamp 7 ns: compressed data '
                                               "is neither JPEG nor PNG \\(format 'bmp'"):
        decode_compressed(SimpleNamespace(format='bmp', data=bmp),
                          where='/cam/compressed at stamp 7 ns')
    with pytest.raises(ImageDecodeError, match='first bytes no data'):
        decode_compressed(SimpleNamespace(format='jpeg', data=b''))
