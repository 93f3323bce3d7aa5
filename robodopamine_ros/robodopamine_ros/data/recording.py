# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A rosbag2 written while it is recorded, readable after the recorder is killed (ROS-free).

recorder_node's storage. ``LiveBagWriter`` writes with the rosbags library, as bags.py does,
but does not keep the recording in memory or in a temporary folder until the end:

- mcap (default): the file ``<bag>/<bag>.mcap`` grows as messages come. Each chunk (rosbags
  closes one at 1 MiB, and this writer at most ``flush_period`` seconds, monotonic clock, after
  the first message that waits in it) is written to the file at once with its message indexes,
  followed by a provisional end: a DataEnd record and a Footer without summary section, which
  MCAP allows (readers then scan the records). After a kill -9 the file is a complete MCAP file
  holding everything up to the last chunk written. Each write first cuts off the previous
  provisional end, then writes chunk and end in one call; a kill inside that call (the share of
  time the disk is being written: about a fifth at 83 MB/s of raw 640 x 480 cameras here)
  leaves a file that ends inside a record, whose complete records a reader that repairs still
  reads (bags' reader of bare mcap files; ``mcap recover``). The clean close replaces the
  provisional end with rosbags' summary (chunk indexes, statistics) and footer. Memory: one
  chunk.
- sqlite3: ``<bag>/<bag>.db3``, its transaction committed every ``flush_period`` seconds.

``metadata.yaml`` (with any ``custom_data``) is written by the clean close only, so a bag
without it is one whose recorder did not finish: bags reads such a bare .mcap with a warning;
a bare .db3 needs ``ros2 bag reindex``. Receive times are written in non-decreasing order (a
wall clock stepped back is recorded as a pause), as readers of an MCAP file without summary
require.

Not thread-safe: one thread writes (recorder_node's executor).
"""

import io
import os
from pathlib import Path
import re
import struct
import time

from robodopamine_ros.data.bag_location import check_custom_data

STORAGES = ('mcap', 'sqlite3')
_MAGIC = b'\x89MCAP0\r\n'
# DataEnd (crc 0), then a Footer with no summary section (summary start 0, offset 0, crc 0)
PROVISIONAL_END = struct.pack('<BQI', 0x0F, 4, 0) + struct.pack('<BQQQI', 0x02, 20, 0, 0, 0) \
    + _MAGIC


class RecordingError(ValueError):
    """A message that cannot be recorded (its type is unknown to the bag writer)."""


# a ROS message type as the graph advertises it: package (lowercase, digits, underscores),
# 'msg', message name (CamelCase): REP 144 and rosidl's naming rules
MESSAGE_TYPE = re.compile(r'([a-z][a-z0-9_]*)/msg/([A-Z][A-Za-z0-9]*)')


def message_type_parts(type_name):
    """
    Return (package, message name) of a type name such as 'sensor_msgs/msg/Image'.

    The type comes from a peer on the ROS graph (untrusted): anything but ``pkg/msg/Name`` is
    refused (RecordingError naming it), before any module is looked up.
    """
    match = MESSAGE_TYPE.fullmatch(type_name) if isinstance(type_name, str) else None
    if match is None:
        raise RecordingError(f'type {type_name!r} is not a ROS message type '
                             '(package/msg/Name): not recorded')
    return match.group(1), match.group(2)


def _pwrite_all(fd, data, offset):
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _mcap_storage():
    """Return rosbags' MCAP storage writer with periodic flushing (a subclass)."""
    from rosbags.rosbag2.storage_mcap import McapWriter

    class _Pending(io.BytesIO):
        """Records not yet in the file; tell() is the file offset they will be written at."""

        def __init__(self, offset):
            super().__init__()
            self.offset = offset

        def tell(self):
            return self.offset + super().tell()

        def close(self):
            """Keep the records: the writer passes them to the file."""

    class FlushingMcapWriter(McapWriter):
        """rosbags' McapWriter whose chunks reach the file as soon as they are closed."""

        def __init__(self, path, compression):
            super().__init__(path, compression)     # opens the file, writes magic + header
            self.file = self.bio
            self.file.flush()
            self.bio = _Pending(self.file.tell())
            self._write(PROVISIONAL_END)            # a valid, empty MCAP file from the start

        def _write(self, tail):
            """Replace the file's provisional end by the pending records + tail."""
            data = self.bio.getvalue()
            start = self.bio.offset
            os.ftruncate(self.file.fileno(), start)
            _pwrite_all(self.file.fileno(), data + tail, start)
            self.bio = _Pending(start + len(data))

        def close_chunk(self):
            super().close_chunk()                   # chunk + message indexes, into self.bio
            self._write(PROVISIONAL_END)

        def flush(self):
            """Close the pending chunk (if any messages wait in it): into the file."""
            if self.chunk.bio.tell():
                self.close_chunk()

        def close(self, version, metadata):
            super().close(version, metadata)        # last chunk; summary + footer in self.bio
            self._write(b'')
            self.file.close()

        def abort(self):
            self.file.close()

    return FlushingMcapWriter


class LiveBagWriter:
    """
    Record serialized messages into a new rosbag2 folder, flushed as it goes.

    path: the bag folder to create (FileExistsError if it exists). storage: 'mcap' or
    'sqlite3'. flush_period: s (> 0), the longest a written message waits before it is in the
    file. clock: monotonic seconds, replaceable in tests. custom_data: {key: text} written
    into metadata.yaml's custom_data by close() (bag_location.bag_custom_data reads it back);
    more may be set in ``self.custom_data`` until then. Use close() (or the context manager)
    for a clean end; a process killed before that leaves the recording up to the last flush
    (and no metadata.yaml, so no custom_data).
    """

    def __init__(self, path, storage='mcap', flush_period=1.0, distro='jazzy',
                 clock=time.monotonic, custom_data=None):
        from rosbags.rosbag2 import StoragePlugin, Writer

        from robodopamine_ros.data.interfaces import typestore

        if storage not in STORAGES:
            raise ValueError(f'storage must be one of {STORAGES}, got {storage!r}')
        if not (isinstance(flush_period, (int, float)) and 0 < flush_period < float('inf')):
            raise ValueError(f'flush_period must be > 0 seconds, got {flush_period!r}')
        self.custom_data = check_custom_data(custom_data)
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f'{self.path}: already exists; choose a new bag path')
        self.storage, self.flush_period, self._clock = storage, flush_period, clock
        self.store = typestore(distro)
        self.flushes = 0
        self._connections = {}
        self._last_stamp = 0
        self._unflushed_since = None      # clock time of the oldest message not in the file

        mcap_storage = _mcap_storage()

        class _Writer(Writer):
            STORAGE_PLUGINS = {**Writer.STORAGE_PLUGINS, StoragePlugin.MCAP: mcap_storage}

        plugin = StoragePlugin.MCAP if storage == 'mcap' else StoragePlugin.SQLITE3
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _Writer(self.path, version=9, storage_plugin=plugin)
        self._writer.open()
        self.data_file = self._writer.storage.path
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def write_raw(self, topic, msgtype, raw, stamp_ns):
        """
        Write one serialized (CDR) message with its receive time in ns.

        msgtype: 'pkg/msg/Name', one the typestore knows (the distro's standard messages and
        robodopamine_interfaces); RecordingError otherwise. Flushes when one is due.
        """
        connection = self._connections.get(topic)
        if connection is None:
            if msgtype not in self.store.types:
                raise RecordingError(f'{topic}: type {msgtype} is not known to the bag writer '
                                     '(the standard ROS 2 messages and robodopamine_interfaces '
                                     'only)')
            connection = self._writer.add_connection(topic, msgtype, typestore=self.store)
            self._connections[topic] = connection
        self._last_stamp = max(self._last_stamp, int(stamp_ns))
        self._writer.write(connection, self._last_stamp, bytes(raw))
        if self._unflushed_since is None:
            self._unflushed_since = self._clock()
        self.flush_if_due()

    def flush_if_due(self):
        """Flush when the oldest message not yet in the file waited flush_period or longer."""
        if self._unflushed_since is not None \
                and self._clock() - self._unflushed_since >= self.flush_period:
            self.flush()

    def flush(self):
        """Put every message written so far into the file (readable after a kill)."""
        storage = self._writer.storage
        if self.storage == 'mcap':
            storage.flush()
        else:
            storage.conn.commit()
        self._unflushed_since = None
        self.flushes += 1

    def close(self):
        """End cleanly: the MCAP summary (or the last commit) and metadata.yaml."""
        if not self.closed:
            custom_data = check_custom_data(self.custom_data)
            self.closed = True
            for key, value in custom_data.items():
                self._writer.set_custom_data(key, value)
            self._writer.close()
