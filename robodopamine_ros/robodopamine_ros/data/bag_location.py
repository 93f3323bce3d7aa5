# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Where a recording's data is, and opening it with rosbags (ROS-free).

A rosbag2 is a folder with ``metadata.yaml`` and its data files. A recorder that was killed
leaves the data files without metadata.yaml:

- a bare ``.mcap`` (the folder holding one, or the file itself) is read alone, with a
  warning; one that ends inside a record (killed mid-write) is read up to its last complete
  record from a repaired temporary copy (the original is never touched);
- a bare ``.db3`` cannot be read without its metadata: the error names the fix,
  ``ros2 bag reindex <folder> -s sqlite3``.

A data file given inside a folder that has metadata.yaml opens the whole folder. Keyframes and
instructions live in ``BagLocation.folder``: the bag folder, or the folder of a bare file.

``bag_custom_data(path)`` reads metadata.yaml's custom_data: the {key: text} a recorder
stores with the bag (a Rosetta contract under ``rosetta.contract_yaml``, data/rosetta.py).

A bag recorded with ``compression_mode: file`` (zstd) is decompressed by rosbags into a
temporary folder before anything is read. A crafted one expands without bound (32 KB into
1 GiB), so it is first decompressed into nothing, counting: past ``decompression_limit`` the
bag is refused naming the file, before a byte is written. The limit: at most
MAX_DECOMPRESSED_BYTES, at most the temporary folder's free space less TEMP_MARGIN_BYTES, and at
most DECOMPRESSION_RATIO times the compressed size (never below MIN_DECOMPRESSED_BYTES).
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
import shutil
import struct
import tempfile

METADATA = 'metadata.yaml'
# what a file-compressed bag may decompress to (module docstring): bytes, and a ratio that
# recorded sensor data stays far below (zstd on camera images: 2-20x)
MAX_DECOMPRESSED_BYTES = 16 * 2**30
MIN_DECOMPRESSED_BYTES = 256 * 2**20
DECOMPRESSION_RATIO = 200
TEMP_MARGIN_BYTES = 512 * 2**20
SUFFIXES = {'.mcap': 'mcap', '.db3': 'sqlite3'}
STORAGE_CHOICES = ('auto', 'sqlite3', 'mcap')
MCAP_MAGIC = b'\x89MCAP0\r\n'
_MCAP_DATA_END, _MCAP_FOOTER = 0x0F, 0x02


class BagError(ValueError):
    """A bag that cannot be used; the message names the file, topic, stamp or index."""


@dataclass
class BagLocation:
    """A located recording: what rosbags opens and where its sidecar files are."""

    path: Path            # as given
    source: Path          # opened by rosbags: the bag folder, or one bare .mcap file
    folder: Path          # keyframes and instructions live here
    storage: str          # 'sqlite3' or 'mcap'
    version: object = None   # rosbag2 version from metadata.yaml; None for a bare file
    bare: bool = False
    warnings: list = field(default_factory=list)
    compressed_files: tuple = ()   # data files of a compression_mode: file bag


def looks_like_bag(path):
    """Return True for a bag folder, a folder with .mcap/.db3 files, or such a file."""
    path = Path(path)
    if path.is_file():
        return path.suffix in SUFFIXES
    return path.is_dir() and ((path / METADATA).is_file()
                              or any(p.suffix in SUFFIXES for p in path.iterdir()))


def locate(path, storage='auto'):
    """
    Locate a recording given as a bag folder, a folder of bare data files or one data file.

    storage: 'auto', 'sqlite3' or 'mcap'; anything but 'auto' must match the metadata (or the
    file extension) and picks the data file when a folder without metadata holds both.
    Raises FileNotFoundError, or BagError naming the path and the fix.
    """
    if storage not in STORAGE_CHOICES:
        raise ValueError(f'storage must be one of {STORAGE_CHOICES}, got {storage!r}')
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path}: no such bag')
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise BagError(f'{path}: not a bag file (expected .mcap or .db3)')
        if (path.parent / METADATA).is_file():
            return _with_metadata(path.parent, storage, given=path)
        return _bare(path, [path], storage)
    if (path / METADATA).is_file():
        return _with_metadata(path, storage)
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
    if not files:
        raise BagError(f'{path}: not a bag: no {METADATA} and no .mcap or .db3 file')
    return _bare(path, files, storage)


def _with_metadata(folder, storage, given=None):
    import yaml

    try:
        info = yaml.safe_load((folder / METADATA).read_text())['rosbag2_bagfile_information']
        found = info['storage_identifier']
    except Exception as error:  # a broken metadata file: name it
        raise BagError(f'{folder / METADATA}: not a rosbag2 metadata file ({error})') from error
    if storage != 'auto' and storage != found:
        raise BagError(f'{folder}: {METADATA} says storage {found!r}, but storage {storage!r} '
                       'was asked for')
    if given is not None and given.name not in [Path(p).name for p in
                                                info.get('relative_file_paths', [])]:
        raise BagError(f'{given}: not listed in {folder / METADATA}; pass the folder, or move '
                       'the file out of it to read it alone')
    compressed = ()
    if str(info.get('compression_mode') or '').lower() == 'file':
        compressed = tuple(folder / Path(p).name for p in info.get('relative_file_paths', []))
    return BagLocation(path=folder, source=folder, folder=folder, storage=found,
                       version=info.get('version'), compressed_files=compressed)


def _bare(given, files, storage):
    folder = given if given.is_dir() else given.parent
    if storage != 'auto':
        wrong = [f for f in files if SUFFIXES[f.suffix] != storage]
        if given.is_file() and wrong:
            raise BagError(f'{given}: a {SUFFIXES[given.suffix]} file, but storage '
                           f'{storage!r} was asked for')
        files = [f for f in files if f not in wrong]
        if not files:
            raise BagError(f'{given}: no {storage} data file (and no {METADATA})')
    mcaps = [f for f in files if f.suffix == '.mcap']
    db3s = [f for f in files if f.suffix == '.db3']
    if mcaps and db3s:
        raise BagError(f'{given}: no {METADATA}, and both .mcap and .db3 files '
                       f'({", ".join(f.name for f in files)}): pass --storage mcap or sqlite3')
    if db3s:
        raise BagError(f'{given}: {", ".join(f.name for f in db3s)} without {METADATA} (a '
                       'recorder that did not finish?): a sqlite3 bag cannot be read without '
                       f'it; recreate it with `ros2 bag reindex {folder} -s sqlite3`, then '
                       'read the folder')
    if len(mcaps) > 1:
        raise BagError(f'{given}: {len(mcaps)} .mcap files without {METADATA} '
                       f'({", ".join(f.name for f in mcaps)}): recreate the metadata with '
                       f'`ros2 bag reindex {folder} -s mcap`, or pass one file')
    data = mcaps[0]
    return BagLocation(path=given, source=data, folder=folder, storage='mcap', bare=True,
                       warnings=[f'{data}: no {METADATA} (a recorder killed before it '
                                 'finished?): reading the mcap file alone'])


def check_custom_data(values):
    """Return custom_data as a new {str: str} dict; ValueError naming a key that is not."""
    values = dict(values or {})
    for key, value in values.items():
        if not (isinstance(key, str) and key and isinstance(value, str)):
            raise ValueError(f'custom_data {key!r}: keys and values are text (rosbag2 '
                             f'metadata), got {type(value).__name__}')
    return values


def bag_custom_data(path, storage='auto'):
    """
    Return the custom_data of a recording's metadata.yaml as {key: text}.

    custom_data is rosbag2's map of strings stored with a bag (metadata.yaml,
    rosbag2_bagfile_information.custom_data): recorders put what belongs with the recording
    there, e.g. Rosetta's contract under ``rosetta.contract_yaml`` (data/rosetta.py). Values
    come back exactly as written (text, never converted to numbers or booleans). {} when the
    bag has no custom_data, or no metadata.yaml (a bare .mcap or .db3 left by a killed
    recorder: custom_data is written at the clean close). path and storage as locate();
    raises FileNotFoundError, or BagError naming the path (not a bag) or metadata.yaml
    (custom_data not a mapping of text).
    """
    import yaml

    path = Path(path)
    folder = path.parent if path.is_file() else path
    if path.exists() and not (folder / METADATA).is_file() and looks_like_bag(path):
        return {}   # bare data files: no custom_data was written
    metadata = locate(path, storage).folder / METADATA
    try:   # BaseLoader: every scalar is the text written ('true' stays 'true')
        info = yaml.load(metadata.read_text(encoding='utf-8'), Loader=yaml.BaseLoader)
        data = info['rosbag2_bagfile_information'].get('custom_data')
    except Exception as error:  # a broken metadata file: name it
        raise BagError(f'{metadata}: not a rosbag2 metadata file ({error})') from error
    if data in (None, '', '~', 'null', 'Null', 'NULL'):
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise BagError(f'{metadata}: custom_data is not a mapping of text to text')
    return dict(data)


@contextmanager
def open_reader(location):
    """
    Yield an open rosbags Reader for a BagLocation; closes it (and any repaired copy) after.

    A bare mcap that ends inside a record is read from a repaired temporary copy (warning in
    location.warnings). Raises BagError naming the path when rosbags cannot open it.
    """
    from rosbags.rosbag2 import Reader

    tmp = None
    source = location.source
    try:
        if location.bare and not _ends_with_magic(source):
            tmp = Path(tempfile.mkdtemp(prefix='robodopamine-mcap-'))
            source, kept, size = _repair_mcap(location.source, tmp / location.source.name)
            location.warnings.append(
                f'{location.source}: the file ends inside a record (the recorder was '
                f'killed): reading its complete records ({kept} of {size} bytes) from a '
                'repaired temporary copy; `mcap recover` writes a permanent one')
        if location.compressed_files:
            check_decompressed_size(location.compressed_files)
        try:
            reader = Reader(source)
            reader.open()
        except Exception as error:  # rosbags raises several types for broken bags
            raise BagError(f'{location.path}: cannot open bag ({type(error).__name__}: '
                           f'{error})') from error
        try:
            yield reader
        finally:
            reader.close()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def decompression_limit(compressed_bytes, temp_dir=None):
    """Return how many bytes a file-compressed bag may decompress to (module docstring)."""
    free = shutil.disk_usage(temp_dir or tempfile.gettempdir()).free - TEMP_MARGIN_BYTES
    by_ratio = max(MIN_DECOMPRESSED_BYTES, DECOMPRESSION_RATIO * compressed_bytes)
    return max(0, min(MAX_DECOMPRESSED_BYTES, free, by_ratio))


def check_decompressed_size(files):
    """
    Decompress a file-compressed bag's zstd files into nothing, counting; return the total.

    Raises BagError naming the file once the running total passes decompression_limit (all of
    the bag's files are decompressed side by side into the temporary folder), or for a file
    that is missing or not zstd. Nothing is written.
    """
    from rosbags.rosbag2 import reader   # the zstd module rosbags decompresses with
    zstd = reader.zstd
    files = [Path(f) for f in files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise BagError(f'{missing[0]}: listed in {METADATA} but missing')
    limit = decompression_limit(sum(f.stat().st_size for f in files))
    total = 0
    for path in files:
        try:
            with path.open('rb') as raw, zstd.open(raw, 'rb') as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        raise BagError(
                            f'{path}: the bag decompresses to more than {limit} bytes (its '
                            f'files are {sum(f.stat().st_size for f in files)} bytes '
                            'compressed; the limit is the smallest of '
                            f'{MAX_DECOMPRESSED_BYTES} bytes, {DECOMPRESSION_RATIO} times the '
                            f'compressed size and the free space of {tempfile.gettempdir()}): '
                            'refused before anything was written')
        except (OSError, EOFError, zstd.ZstdError) as error:
            raise BagError(f'{path}: not a readable zstd file ({type(error).__name__}: '
                           f'{error})') from error
    return total


def _ends_with_magic(path):
    size = path.stat().st_size
    if size < len(MCAP_MAGIC):
        return False
    with open(path, 'rb') as handle:
        handle.seek(size - len(MCAP_MAGIC))
        return handle.read() == MCAP_MAGIC


def _repair_mcap(path, out):
    """
    Copy the complete records of a truncated MCAP file to out and close it properly.

    Returns (out, bytes kept, file size). The records are walked by their (opcode, length)
    headers; the copy ends with a DataEnd record, a Footer without summary and the magic, which
    rosbags reads by scanning. Raises BagError when not even the MCAP header is complete.
    """
    size = path.stat().st_size
    with open(path, 'rb') as source:
        head = source.read(len(MCAP_MAGIC))
        if head != MCAP_MAGIC:
            raise BagError(f'{path}: not an MCAP file (its first bytes are not the MCAP magic)')
        end = position = len(MCAP_MAGIC)
        while position + 9 <= size:
            source.seek(position)
            opcode, length = struct.unpack('<BQ', source.read(9))
            if opcode in (_MCAP_DATA_END, _MCAP_FOOTER) or position + 9 + length > size:
                break
            position = end = position + 9 + length
        if end == len(MCAP_MAGIC):
            raise BagError(f'{path}: the MCAP file ends inside its header record; nothing to '
                           'read')
        source.seek(0)
        with open(out, 'wb') as target:
            remaining = end
            while remaining:
                chunk = source.read(min(remaining, 1 << 24))
                target.write(chunk)
                remaining -= len(chunk)
            target.write(struct.pack('<BQI', _MCAP_DATA_END, 4, 0))
            target.write(struct.pack('<BQQQI', _MCAP_FOOTER, 20, 0, 0, 0))
            target.write(MCAP_MAGIC)
    return out, end, size
