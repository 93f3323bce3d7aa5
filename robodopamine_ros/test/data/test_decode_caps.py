# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Caps before decoding (issue 29, item 17).

An image whose header claims more than max_pixels is refused before it is decoded, naming the
topic and stamp; a compression_mode: file bag that would decompress past its limit is refused
before rosbags writes a byte into the temporary folder.
"""

import struct
import tempfile
import zlib

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data import bag_location, bag_writer, bags, images
from robodopamine_ros.data.bag_location import BagError
from robodopamine_ros.data.images import compressed_size, ImageDecodeError
from rosbags.rosbag2 import reader as rosbags_reader
import yaml

STAMP = 1_700_000_000 * 10**9


def png_claiming(width, height):
    """Return a 1-bit grey PNG header claiming width x height (IDAT of one empty row)."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack(
            '>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (images.PNG_MAGIC + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 1, 0, 0,
                                                          0, 0))
            + chunk(b'IDAT', zlib.compress(b'\0' * 10)) + chunk(b'IEND', b''))


def jpeg_claiming(width, height):
    """SOI, an APP0 segment, then a baseline SOF0 claiming width x height."""
    app0 = b'\xff\xe0' + struct.pack('>H', 16) + b'JFIF\0\x01\x01\0\0\x01\0\x01\0\0'
    sof0 = b'\xff\xc0' + struct.pack('>HBHHB', 11, 8, height, width, 1) + b'\x01\x11\x00'
    return b'\xff\xd8' + app0 + sof0 + b'\xff\xd9'


class Msg:
    def __init__(self, data, fmt='png'):
        self.data, self.format = np.frombuffer(data, np.uint8), fmt


def test_header_sizes_are_read_without_decoding():
    rgb = np.zeros((48, 64, 3), np.uint8)
    for fmt in ('jpeg', 'png'):
        _, data = images.encode_compressed(rgb, fmt)
        assert compressed_size(np.frombuffer(data, np.uint8), fmt) == (64, 48)
    assert compressed_size(np.frombuffer(png_claiming(30000, 30000), np.uint8),
                           'png') == (30000, 30000)
    assert compressed_size(np.frombuffer(jpeg_claiming(30000, 20000), np.uint8),
                           'jpeg') == (30000, 20000)


@pytest.mark.parametrize('data,name', [(png_claiming(30000, 30000), 'png'),
                                       (jpeg_claiming(30000, 30000), 'jpeg')])
def test_an_image_claiming_too_many_pixels_is_refused_before_decoding(data, name):
    with pytest.raises(ImageDecodeError, match=rf'^/cam at stamp 5 ns: {name} image is 30000 x '
                                               r'30000 pixels, more than the cap of 16777216'):
        images.decode_compressed(Msg(data, name), '/cam at stamp 5 ns')


def test_a_raw_image_over_the_cap_is_refused():
    class Raw:
        height, width, encoding, is_bigendian, step = 48, 64, 'rgb8', 0, 192
        data = np.zeros(48 * 192, np.uint8)
    assert images.decode_image(Raw(), 'raw').shape == (48, 64, 3)
    with pytest.raises(ImageDecodeError, match='raw: rgb8 image is 64 x 48 pixels, more than '
                                               'the cap of 1000'):
        images.decode_image(Raw(), 'raw', max_pixels=1000)


def write_bag(path, front_png=None):
    rgb = np.zeros((24, 32, 3), np.uint8)
    with bag_writer.EpisodeBagWriter(path, storage='sqlite3', image_format='png') as writer:
        for k in range(3):
            writer.write_triplet(STAMP + k * 33_000_000, {v: rgb for v in ('front', 'left_wrist',
                                                                           'right_wrist')})
        if front_png is not None:
            types = writer.store.types
            header = types['std_msgs/msg/Header'](
                stamp=types['builtin_interfaces/msg/Time'](sec=STAMP // 10**9 + 1, nanosec=0),
                frame_id='front')
            msg = types[bags.COMPRESSED](header=header, format='png',
                                         data=np.frombuffer(front_png, np.uint8))
            for view in ('front', 'left_wrist', 'right_wrist'):
                writer.write_raw(writer.topics.camera(view) + '/compressed', bags.COMPRESSED,
                                 writer.store.serialize_cdr(msg, bags.COMPRESSED),
                                 STAMP + 10**9)
    return path


def test_a_bag_frame_over_the_cap_names_topic_and_stamp(tmp_path, capsys):
    bag = write_bag(tmp_path / 'bomb', png_claiming(30000, 30000))
    with pytest.raises(ImageDecodeError, match=r'/cameras/front/image_raw/compressed at stamp '
                                               r'1700000001000000000 ns: png image is 30000 x '
                                               r'30000 pixels'):
        bags.read_episode(bag, image_size=(32, 24))
    small = write_bag(tmp_path / 'small')
    assert bags.read_episode(small).views['front'].shape == (3, 24, 32, 3)
    with pytest.raises(ValueError, match='more than the cap of 500'):
        bags.read_episode(small, bags.ReadOptions(max_pixels=500))
    assert cli.main(['demo-info', str(small), '--max-pixels', '500']) == 1
    assert 'more than the cap of 500' in capsys.readouterr().err
    with pytest.raises(ValueError, match='max_pixels must be an integer > 0'):
        bags.ReadOptions(max_pixels=0)


def compress_bag(folder):
    """Turn a sqlite3 bag into a compression_mode: file (zstd) bag, as rosbag2 writes it."""
    zstd = rosbags_reader.zstd
    metadata = folder / 'metadata.yaml'
    info = yaml.safe_load(metadata.read_text())
    body = info['rosbag2_bagfile_information']
    names = []
    for name in body['relative_file_paths']:
        data = (folder / name).read_bytes()
        (folder / f'{name}.zstd').write_bytes(zstd.compress(data))
        (folder / name).unlink()
        names.append(f'{name}.zstd')
    body.update(relative_file_paths=names, compression_mode='FILE', compression_format='zstd')
    for entry in body.get('files', []):
        entry['path'] = entry['path'] + '.zstd'
    metadata.write_text(yaml.safe_dump(info))
    return names


def test_a_file_compressed_bag_reads_and_a_bomb_is_refused_before_writing(
        tmp_path, monkeypatch):
    bag = write_bag(tmp_path / 'zstd')
    names = compress_bag(bag)
    assert bags.read_episode(bag).num_frames == 3
    zstd = rosbags_reader.zstd
    with zstd.open(bag / names[0], 'wb') as out:     # 8 MiB of zeros: a few hundred bytes
        for _ in range(8):
            out.write(bytes(2**20))
    assert (bag / names[0]).stat().st_size < 4096
    monkeypatch.setattr(bag_location, 'MIN_DECOMPRESSED_BYTES', 2**20)
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'tmp'))
    (tmp_path / 'tmp').mkdir()
    with pytest.raises(BagError, match=rf'{names[0]}: the bag decompresses to more than '
                                       r'1048576 bytes .* refused before anything was written'):
        bags.read_episode(bag)
    assert not list((tmp_path / 'tmp').iterdir())
