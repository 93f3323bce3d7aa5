# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
One camera view of one episode as the mp4 a LeRobotDataset v3.0 reader decodes.

lerobot looks a frame up by its time in the file (``from_timestamp + frame_index / fps``) and
accepts the decoded frame whose presentation time lies within ``tolerance_s`` (1e-4 s) of it.
So every frame is encoded at a constant rate equal to the dataset's ``fps``, frame k with
pts = k in a time base of 1 / fps: decoded, frame k's time is exactly k / fps.

The encoder settings are lerobot's defaults (0.6.1 ``configs/video.py`` VideoEncoderConfig,
0.4.4 ``encode_video_frames``): pix_fmt yuv420p, a keyframe every 2 frames (g = 2, cheap
random access), crf 30; libsvtav1 (AV1, preset 12, lerobot's default codec) or h264 (libx264).
Through PyAV (the ``[lerobot]`` extra), whose wheels bundle FFmpeg with both encoders.

Size limits, measured with the PyAV 15.1 wheel: libsvtav1 kills the process with SIGFPE
for an image under about 26 pixels wide (24 x 24 did, 26 x 26 did not) and rejects heights
under 4, so images under MIN_SVTAV1_SIZE on either side are refused beforehand; libx264
refuses odd widths and heights in yuv420p, refused beforehand as well.
"""

from fractions import Fraction
import os

CODECS = ('libsvtav1', 'h264')
PIX_FMT = 'yuv420p'
GOP = 2           # frames between keyframes (lerobot's g)
CRF = 30          # quality, lower is better (lerobot's crf)
SVTAV1_PRESET = 12
MIN_SVTAV1_SIZE = 32   # pixels, the smallest width and height sent to libsvtav1


def av_module():
    """Import PyAV, or raise ImportError naming the extra that provides it."""
    try:
        import av
    except ImportError as error:
        raise ImportError('writing LeRobot videos needs PyAV: pip install '
                          '"robodopamine_ros[lerobot]" (av, pyarrow, pandas)') from error
    return av


def encoder_options(codec):
    """Return (PyAV codec options, info.json ``video.*`` encoder fields) of a codec."""
    if codec not in CODECS:
        raise ValueError(f'video codec must be one of {CODECS}, got {codec!r}')
    options = {'g': str(GOP), 'crf': str(CRF)}
    preset = None
    if codec == 'libsvtav1':
        preset = SVTAV1_PRESET
        options.update({'preset': str(preset), 'svtav1-params': 'fast-decode=0'})
    fields = {'video.g': GOP, 'video.crf': CRF, 'video.preset': preset, 'video.fast_decode': 0,
              'video.extra_options': {}, 'video.video_backend': 'pyav'}
    return options, fields


def check_size(codec, width, height, what='video'):
    """Raise ValueError naming `what` when codec cannot encode width x height pixels."""
    if codec == 'libsvtav1' and min(width, height) < MIN_SVTAV1_SIZE:
        raise ValueError(f"{what}: {width} x {height} pixels is under libsvtav1's "
                         f'{MIN_SVTAV1_SIZE} x {MIN_SVTAV1_SIZE}: resize (--image-size) or '
                         'encode with --vcodec h264')
    if codec == 'h264' and (width % 2 or height % 2):
        raise ValueError(f'{what}: {width} x {height} pixels: h264 in {PIX_FMT} needs an even '
                         'width and height: resize (--image-size) or encode with --vcodec '
                         'libsvtav1')


def encode_video(path, frames, fps, codec='libsvtav1'):
    """
    Encode frames (T, H, W, 3) uint8 RGB as an mp4 at `fps` (int > 0) frames per second.

    Frame k is presented at k / fps s. Raises ValueError for an empty or malformed array, a
    size the codec cannot encode (check_size) or a bad codec; ImportError without PyAV.
    """
    import numpy as np

    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or not len(frames):
        raise ValueError(f'{path}: frames must be (T > 0, H, W, 3) uint8 RGB, got '
                         f'{frames.dtype} {frames.shape}')
    if isinstance(fps, bool) or not isinstance(fps, int) or fps <= 0:
        raise ValueError(f'fps must be an integer > 0, got {fps!r}')
    height, width = frames.shape[1:3]
    check_size(codec, width, height, str(path))
    av = av_module()
    os.environ.setdefault('SVT_LOG', '1')   # SVT-AV1 prints its configuration otherwise
    options, _ = encoder_options(codec)
    time_base = Fraction(1, fps)
    with av.open(str(path), 'w', format='mp4') as output:
        stream = output.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, PIX_FMT
        stream.codec_context.time_base = time_base
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format='rgb24')
            frame.pts, frame.time_base = index, time_base
            output.mux(stream.encode(frame))
        output.mux(stream.encode())


def video_info(path, codec='libsvtav1'):
    """
    Return the ``info`` of a video feature in info.json, probed from the file as lerobot does.

    Keys of lerobot 0.6.1's get_video_info: video.height, video.width, video.codec,
    video.pix_fmt, video.fps, video.channels, has_audio, the encoder fields and is_depth_map.
    """
    av = av_module()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {'video.height': stream.height, 'video.width': stream.width,
                'video.codec': stream.codec.canonical_name, 'video.pix_fmt': stream.pix_fmt,
                'video.fps': int(stream.base_rate), 'video.channels': 3,
                'has_audio': bool(container.streams.audio)}
    info.update(encoder_options(codec)[1])
    info['is_depth_map'] = False
    return info
