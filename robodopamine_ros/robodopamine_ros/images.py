# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
sensor_msgs/Image and sensor_msgs/CompressedImage <-> RGB numpy arrays.

Works on any object with the message's fields (rclpy messages, rosbags messages), so the
nodes and the bag tools share it. Decoding respects ``step`` row padding, the encoding and
``is_bigendian``; every decoded image is H x W x 3 uint8 RGB.
"""

import numpy as np

# encoding -> (channels, channel order to RGB)
COLOR_ENCODINGS = {
    'rgb8': (3, (0, 1, 2)), 'bgr8': (3, (2, 1, 0)),
    'rgba8': (4, (0, 1, 2)), 'bgra8': (4, (2, 1, 0)),
    'mono8': (1, (0, 0, 0)),
}
DECODABLE = tuple(COLOR_ENCODINGS)
COMPRESSED_FORMATS = ('jpeg', 'png')


class ImageDecodeError(ValueError):
    """An image message that cannot be decoded; the message says which field is wrong."""


def decode_image(msg, where='image'):
    """Decode a sensor_msgs/Image into an H x W x 3 uint8 RGB array."""
    encoding = msg.encoding.lower()
    if encoding not in COLOR_ENCODINGS:
        raise ImageDecodeError(f'{where}: unknown encoding {msg.encoding!r} (decodable: '
                               f'{", ".join(DECODABLE)})')
    channels, order = COLOR_ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    row = width * channels
    data = np.frombuffer(bytes(msg.data) if not isinstance(msg.data, np.ndarray) else msg.data,
                         dtype=np.uint8)
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f'{where}: empty image ({width} x {height})')
    if step < row or data.size < step * (height - 1) + row:
        raise ImageDecodeError(f'{where}: data has {data.size} bytes, {width} x {height} '
                               f'{encoding} with step {step} needs {step * height}')
    rows = np.lib.stride_tricks.as_strided(data, shape=(height, row), strides=(step, 1))
    pixels = rows.reshape(height, width, channels)
    if encoding == 'mono8':
        return np.repeat(pixels, 3, axis=2)
    # one copy: a basic-slicing view (reversed for BGR) copied into a contiguous array
    view = pixels[:, :, 2::-1] if order[0] == 2 else pixels[:, :, :3]
    return np.ascontiguousarray(view)


def encode_image(rgb, encoding='rgb8'):
    """Return (height, width, encoding, is_bigendian, step, data bytes) for an RGB array."""
    rgb = _check_rgb(rgb)
    if encoding not in ('rgb8', 'bgr8'):
        raise ValueError(f'encode_image writes rgb8 or bgr8, not {encoding!r}')
    pixels = rgb if encoding == 'rgb8' else rgb[:, :, ::-1]
    height, width = rgb.shape[:2]
    return height, width, encoding, 0, width * 3, np.ascontiguousarray(pixels).tobytes()


def decode_compressed(msg, where='compressed image'):
    """Decode a sensor_msgs/CompressedImage (jpeg or png) into an H x W x 3 uint8 RGB array."""
    import cv2

    fmt = msg.format.lower()
    if not any(name in fmt for name in COMPRESSED_FORMATS + ('jpg',)):
        raise ImageDecodeError(f'{where}: unknown compressed format {msg.format!r} '
                               f'(decodable: {", ".join(COMPRESSED_FORMATS)})')
    buffer = np.frombuffer(bytes(msg.data) if not isinstance(msg.data, np.ndarray)
                           else msg.data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if image is None:
        raise ImageDecodeError(f'{where}: {msg.format} data ({buffer.size} bytes) does not '
                               'decode')
    return np.ascontiguousarray(image[:, :, ::-1])


def encode_compressed(rgb, fmt='jpeg', quality=90):
    """Return (format string, data bytes) of an RGB array compressed as jpeg or png."""
    import cv2

    rgb = _check_rgb(rgb)
    if fmt not in COMPRESSED_FORMATS:
        raise ValueError(f'compressed format must be one of {COMPRESSED_FORMATS}, got {fmt!r}')
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if fmt == 'jpeg' else []
    ok, data = cv2.imencode('.jpg' if fmt == 'jpeg' else '.png', rgb[:, :, ::-1], params)
    if not ok:
        raise ValueError(f'cv2 could not encode a {rgb.shape} image as {fmt}')
    return f'rgb8; {fmt} compressed bgr8', data.tobytes()


def resize(rgb, size):
    """Resize to size = (width, height) with area interpolation (None keeps the image)."""
    import cv2

    if size is None or (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    return cv2.resize(rgb, tuple(int(s) for s in size), interpolation=cv2.INTER_AREA)


def _check_rgb(rgb):
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}')
    return rgb
