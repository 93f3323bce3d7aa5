# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
sensor_msgs/Image and sensor_msgs/CompressedImage <-> RGB numpy arrays.

Works on any object with the message's fields (rclpy messages, rosbags messages), so the
nodes and the bag tools share it. Every decoded image is H x W x 3 uint8 RGB.

Raw images (``decode_image``): the encodings of ``LAYOUTS`` (cv_bridge's names, case
insensitive); ``step`` row padding and extra trailing rows are ignored, ``is_bigendian`` is
honoured for 16-bit channels. Conventions, as cv_bridge's:

- ``8UC1`` is mono8, ``8UC3`` is bgr8, ``8UC4`` is bgra8; the 16-bit ones likewise;
- 16-bit values are scaled to 8 bit over the full range (v * 255 / 65535, rounded), so a depth
  image in millimetres looks dark but keeps its order;
- ``yuv422_yuy2`` / ``yuyv`` are Y0 U Y1 V, ``yuv422`` / ``uyvy`` are U Y0 V Y1 (4:2:2, even
  width), converted with OpenCV's BT.601 video-range matrix;
- alpha is dropped, mono is replicated into the three channels.

Compressed images (``decode_compressed``): JPEG or PNG recognised by their magic bytes, whatever
the ``format`` string says ('jpeg', 'rgb8; jpeg compressed bgr8', '16UC1; png compressed',
'16UC1; compressedDepth png' with its 12-byte header, ...); 8- or 16-bit, grey or colour.

Anything else raises ImageDecodeError naming the caller's ``where`` (topic and stamp), the
encoding or format, and what is decodable.

Size cap: an image of more than ``max_pixels`` pixels (default MAX_PIXELS) is refused before it
is decoded, naming ``where``: a compressed one by the size in its header (PNG: IHDR; JPEG: the
start-of-frame segment), read without decoding (``compressed_size``), so a 109 KB PNG that
claims 30000 x 30000 costs nothing; a raw one by its width and height.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robodopamine_ros.data.atomic import atomic_path


@dataclass(frozen=True)
class Layout:
    """How one raw encoding stores a pixel."""

    channels: int        # values per pixel in the buffer (YUV 4:2:2: 2 bytes per pixel)
    depth: int           # bytes per value: 1 or 2
    order: str           # 'rgb', 'bgr', 'mono', 'yuyv' or 'uyvy'

    @property
    def bytes_per_pixel(self):
        return self.channels * self.depth


_8, _16 = 1, 2
LAYOUTS = {
    'rgb8': Layout(3, _8, 'rgb'), 'bgr8': Layout(3, _8, 'bgr'),
    'rgba8': Layout(4, _8, 'rgb'), 'bgra8': Layout(4, _8, 'bgr'),
    'rgb16': Layout(3, _16, 'rgb'), 'bgr16': Layout(3, _16, 'bgr'),
    'rgba16': Layout(4, _16, 'rgb'), 'bgra16': Layout(4, _16, 'bgr'),
    'mono8': Layout(1, _8, 'mono'), 'mono16': Layout(1, _16, 'mono'),
    '8uc1': Layout(1, _8, 'mono'), '8uc3': Layout(3, _8, 'bgr'), '8uc4': Layout(4, _8, 'bgr'),
    '16uc1': Layout(1, _16, 'mono'), '16uc3': Layout(3, _16, 'bgr'),
    '16uc4': Layout(4, _16, 'bgr'),
    'yuv422_yuy2': Layout(2, _8, 'yuyv'), 'yuyv': Layout(2, _8, 'yuyv'),
    'yuv422': Layout(2, _8, 'uyvy'), 'uyvy': Layout(2, _8, 'uyvy'),
}
DECODABLE = tuple(LAYOUTS)
COMPRESSED_FORMATS = ('jpeg', 'png')   # what encode_compressed writes
JPEG_MAGIC = b'\xff\xd8\xff'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
COMPRESSED_DEPTH_HEADER = 12  # compressed_depth_image_transport's ConfigHeader before the PNG
# pixels: larger images are refused before decoding (4096 x 4096; a 4K camera has 8.3 M)
MAX_PIXELS = 4096 * 4096


class ImageDecodeError(ValueError):
    """An image message that cannot be decoded; the message says which field is wrong."""


def _buffer(data):
    """Return a message's data field (bytes, array.array, ndarray, list) as flat uint8."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        return np.frombuffer(bytes(data), dtype=np.uint8)


def check_pixels(width, height, where, max_pixels=MAX_PIXELS, what='image'):
    """Raise ImageDecodeError naming where when width x height is above max_pixels."""
    if max_pixels is not None and width * height > max_pixels:
        raise ImageDecodeError(f'{where}: {what} is {width} x {height} pixels, more than the cap '
                               f'of {max_pixels} (max_pixels): refused before decoding')


def decode_image(msg, where='image', max_pixels=MAX_PIXELS):
    """
    Decode a sensor_msgs/Image into an H x W x 3 uint8 RGB array.

    msg: anything with height, width, encoding, is_bigendian, step and data. Raises
    ImageDecodeError naming ``where``, the encoding and the field at fault (unknown encoding,
    empty image, step smaller than a row, data shorter than step x height, odd YUV width,
    more than max_pixels pixels; None: no cap).
    """
    encoding = str(msg.encoding)
    layout = LAYOUTS.get(encoding.lower())
    if layout is None:
        raise ImageDecodeError(f'{where}: unknown encoding {encoding!r} (decodable: '
                               f'{", ".join(DECODABLE)})')
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f'{where}: empty image ({width} x {height}, {encoding})')
    check_pixels(width, height, where, max_pixels, f'{encoding} image')
    row = width * layout.bytes_per_pixel
    if step < row:
        raise ImageDecodeError(f'{where}: step {step} is smaller than width {width} x '
                               f'{layout.bytes_per_pixel} bytes per pixel ({encoding}) = '
                               f'{row} bytes')
    if layout.order in ('yuyv', 'uyvy') and width % 2:
        raise ImageDecodeError(f'{where}: {encoding} (4:2:2) needs an even width, got {width}')
    data = _buffer(msg.data)
    if data.size < step * (height - 1) + row:
        raise ImageDecodeError(f'{where}: data has {data.size} bytes, {width} x {height} '
                               f'{encoding} with step {step} needs {step * height}')
    rows = np.lib.stride_tricks.as_strided(data, shape=(height, row), strides=(step, 1))
    if layout.depth == 2:
        dtype = '>u2' if int(msg.is_bigendian) else '<u2'
        values = np.ascontiguousarray(rows).view(dtype).reshape(height, width, layout.channels)
    else:
        values = rows.reshape(height, width, layout.channels)
    return _to_rgb8(values, layout.order)


def _to_rgb8(values, order):
    """H x W x C values (uint8 or uint16) in the given channel order -> H x W x 3 uint8 RGB."""
    import cv2

    if values.dtype != np.uint8:
        values = np.rint(values.astype(np.float32) * (255.0 / 65535.0)).astype(np.uint8)
    if order == 'yuyv':
        return cv2.cvtColor(np.ascontiguousarray(values), cv2.COLOR_YUV2RGB_YUY2)
    if order == 'uyvy':
        return cv2.cvtColor(np.ascontiguousarray(values), cv2.COLOR_YUV2RGB_UYVY)
    if order == 'mono':
        return np.repeat(values[:, :, :1], 3, axis=2)
    # one copy: a basic-slicing view (reversed for BGR) copied into a contiguous array
    view = values[:, :, 2::-1] if order == 'bgr' else values[:, :, :3]
    return np.ascontiguousarray(view)


def encode_image(rgb, encoding='rgb8'):
    """Return (height, width, encoding, is_bigendian, step, data bytes) for an RGB array."""
    rgb = _check_rgb(rgb)
    if encoding not in ('rgb8', 'bgr8'):
        raise ValueError(f'encode_image writes rgb8 or bgr8, not {encoding!r}')
    pixels = rgb if encoding == 'rgb8' else rgb[:, :, ::-1]
    height, width = rgb.shape[:2]
    return height, width, encoding, 0, width * 3, np.ascontiguousarray(pixels).tobytes()


def compressed_kind(data):
    """
    Return ('jpeg' | 'png', offset of the image in data), recognised by magic bytes, or None.

    A PNG may follow compressed_depth_image_transport's 12-byte header.
    """
    head = bytes(data[:COMPRESSED_DEPTH_HEADER + len(PNG_MAGIC)])
    if head.startswith(JPEG_MAGIC):
        return 'jpeg', 0
    for offset in (0, COMPRESSED_DEPTH_HEADER):
        if head[offset:offset + len(PNG_MAGIC)] == PNG_MAGIC:
            return 'png', offset
    return None


def compressed_size(data, kind):
    """
    Return (width, height) from a JPEG's or PNG's header without decoding, or None.

    data: the image bytes (uint8 array) from its magic on; kind: 'jpeg' or 'png'. None when
    the header is cut short or (JPEG) has no start-of-frame segment: the decoder then decides.
    """
    data = memoryview(np.ascontiguousarray(data)).cast('B')
    if kind == 'png':  # magic, then the IHDR chunk: length, 'IHDR', width, height (big endian)
        if len(data) < 24 or bytes(data[12:16]) != b'IHDR':
            return None
        return int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big')
    position = 2   # after SOI: segments FF <marker> <length: 2 bytes, big endian> <payload>
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:        # fill byte
            position += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD9:   # no length
            position += 2
            continue
        length = int.from_bytes(data[position + 2:position + 4], 'big')
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):   # start of frame
            if position + 9 > len(data):
                return None
            height = int.from_bytes(data[position + 5:position + 7], 'big')
            width = int.from_bytes(data[position + 7:position + 9], 'big')
            return width, height
        if marker == 0xDA:        # start of scan before any frame header: malformed
            return None
        position += 2 + length
    return None


def decode_compressed(msg, where='compressed image', max_pixels=MAX_PIXELS):
    """
    Decode a sensor_msgs/CompressedImage (JPEG or PNG) into an H x W x 3 uint8 RGB array.

    The image type comes from the data's magic bytes, not from ``msg.format``. Raises
    ImageDecodeError naming ``where`` and the format string when the data is neither, does
    not decode, or its header gives more than max_pixels pixels (checked before decoding;
    None: no cap).
    """
    import cv2

    buffer = _buffer(msg.data)
    kind = compressed_kind(buffer)
    if kind is None:
        first = bytes(buffer[:8]).hex(' ') or 'no data'
        raise ImageDecodeError(f'{where}: compressed data is neither JPEG nor PNG (format '
                               f'{msg.format!r}, first bytes {first}; decodable: '
                               f'{", ".join(COMPRESSED_FORMATS)})')
    name, offset = kind
    size = compressed_size(buffer[offset:], name)
    if size is not None:
        check_pixels(*size, where, max_pixels, f'{name} image')
    image = cv2.imdecode(buffer[offset:], cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageDecodeError(f'{where}: {name} data ({buffer.size} bytes, format '
                               f'{msg.format!r}) does not decode')
    if image.ndim == 2:
        image = image[:, :, None]
    check_pixels(image.shape[1], image.shape[0], where, max_pixels, f'{name} image')
    return _to_rgb8(image, 'mono' if image.shape[2] == 1 else 'bgr')


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


@dataclass(frozen=True)
class FitPixels:
    """
    A size for resize(): each image scaled down, its aspect ratio kept, to at most `pixels`.

    What a model that takes any size up to a pixel budget sees (the VLM GRM's processor: at
    most grm.vlm.MAX_PIXELS): reading at it keeps a demo's memory at frames x that budget
    instead of the recorded resolution. An image already within the budget is kept.
    """

    pixels: int

    def size_for(self, width, height):
        """Return (width, height) of a width x height image fitted into the budget."""
        if width * height <= self.pixels:
            return width, height
        scale = (self.pixels / (width * height)) ** 0.5
        return max(1, int(width * scale)), max(1, int(height * scale))


def resize(rgb, size):
    """
    Resize to size with area interpolation.

    size: (width, height), a FitPixels (the image's own size fitted into a pixel budget), or
    None (the image as it is).
    """
    import cv2

    if isinstance(size, FitPixels):
        size = size.size_for(rgb.shape[1], rgb.shape[0])
    if size is None or (rgb.shape[1], rgb.shape[0]) == tuple(size):
        return rgb
    return cv2.resize(rgb, tuple(int(s) for s in size), interpolation=cv2.INTER_AREA)


def _check_rgb(rgb):
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an H x W x 3 uint8 RGB image, got {rgb.dtype} {rgb.shape}')
    return rgb


def save_png(path, rgb):
    """
    Write an RGB image (H x W x 3 uint8) as a PNG file, atomically (data.atomic).

    Raises ValueError naming the path when OpenCV cannot encode the array.
    """
    import cv2

    path = Path(path)
    ok, data = cv2.imencode('.png', np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))
    if not ok:
        raise ValueError(f'{path}: could not encode PNG')
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
