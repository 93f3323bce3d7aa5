# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A Rosetta contract's structure (format v2), checked as Rosetta's loader checks it (ROS-free).

``read_document(text, path)`` returns a Document (data/rosetta.py maps it onto our reader).
Checked, each failure a ContractError naming the file and the field:

- the YAML: a mapping, no duplicate keys; top-level keys starting ``x-`` are set aside (Rosetta
  drops them: they hold YAML anchors, and our own ``x-robodopamine``); any other key is one of
  TOP_LEVEL_KEYS; a section present but empty or null is refused;
- ``robot_type`` (non-empty), ``robot_interface`` (``ros2``), ``fps`` (positive integer;
  ``30.0`` is accepted, ``3.9`` is not);
- each frame section (FRAME_SECTIONS): a mapping of frame key to one source or a non-empty
  list of them (the v1 list-of-entries form is refused); image keys in observations only; a
  frame key in one section only;
- a source: keys ``channel``, ``align`` (both required), ``select``, ``apply``, ``kind``; its
  channel's keys as its section allows, ``topic`` and ``type`` non-empty, ``dtype`` (required
  in the record-only sections, never video there), ``safety``; ``align``: ``strategy`` (hold,
  asof, drop) and ``timeline`` required, ``tolerance_ms`` with asof only and then required;
  ``select`` a non-empty list of unique strings; ``apply`` a list of operator names or one-key
  mappings; ``kind``;
- ``tasks`` (task key: {channel}), ``adjunct`` (a list of {channel}), ``teleop`` (its keys
  input, events, feedback; their contents are not looked into: we neither record nor read it).

Not checked, as they need Rosetta's registries or a ROS installation: operator and codec
names, timelines per message type, qos values, select field paths, image geometry.
"""

from dataclasses import dataclass, field

IMAGE_PREFIX = 'observation.images.'
FRAME_SECTIONS = ('observations', 'actions', 'rewards', 'signals', 'info', 'complementary_data')
EXTENDED_SECTIONS = FRAME_SECTIONS[2:]     # record-only, dtype required, never images
TOP_LEVEL_KEYS = ('robot_type', 'robot_interface', 'fps', 'tasks', 'adjunct', 'teleop') \
    + FRAME_SECTIONS
SOURCE_KEYS = ('channel', 'align', 'select', 'apply', 'kind')
ALIGN_KEYS = ('strategy', 'timeline', 'tolerance_ms')
BARE_CHANNEL_KEYS = ('topic', 'type', 'qos')
DATA_CHANNEL_KEYS = BARE_CHANNEL_KEYS + ('dtype', 'decoder')
CHANNEL_KEYS = dict({s: DATA_CHANNEL_KEYS for s in FRAME_SECTIONS},
                    actions=DATA_CHANNEL_KEYS + ('encoder', 'safety'))
STRATEGIES = ('hold', 'asof', 'drop')
DTYPES = ('float32', 'float64', 'int32', 'int64', 'bool', 'string', 'video')
SAFETY = ('none', 'zeros', 'hold')
KINDS = ('continuous', 'quaternion', 'euler_rpy', 'axis_angle', 'rotation_6d', 'binary')
TELEOP_KEYS = ('input', 'events', 'feedback')


class ContractError(ValueError):
    """A contract that cannot be used; the message names the file and the field."""


def contract_error(path, where, problem):
    """Return a ContractError 'FILE: FIELD: PROBLEM'."""
    return ContractError(f'{path}: {where}: {problem}' if where else f'{path}: {problem}')


@dataclass(frozen=True)
class Source:
    """One channel of a frame key (a key with a list of sources has several)."""

    where: str          # its field in the file: 'observations.observation.state[1]'
    topic: str
    msgtype: str
    select: tuple = None
    apply: tuple = ()   # operator names


@dataclass
class Document:
    """A contract as read: what data/rosetta.py maps onto our reader."""

    robot_type: str
    fps: int
    sections: dict      # frame section -> {frame key: [Source]}
    tasks: dict = field(default_factory=dict)       # task key -> (topic, type)
    adjunct: list = field(default_factory=list)     # [(topic, type)]
    teleop: bool = False
    extensions: dict = field(default_factory=dict)  # the top-level x-* keys


def read_document(text, path):
    """Read a contract's YAML text into a Document; ContractError naming the field."""
    return _Checker(path).document(text)


def _strict_loader():
    """Return a yaml SafeLoader refusing duplicate mapping keys, as Rosetta's loader does."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            self.flatten_mapping(node)    # merge keys (<<:) first
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        'while constructing a mapping', node.start_mark,
                        f'found duplicate key {key!r}', key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return StrictLoader


class _Checker:
    """The checks of one contract file (module docstring)."""

    def __init__(self, path):
        self.path = path

    def error(self, where, problem):
        return contract_error(self.path, where, problem)

    def mapping(self, value, where, allowed=None, required=(), nonempty=False):
        if not isinstance(value, dict):
            raise self.error(where, f'must be a mapping, got {type(value).__name__}')
        unknown = sorted(str(k) for k in value if allowed is not None and k not in allowed)
        if unknown:
            raise self.error(where, f'unknown key(s) {unknown}; allowed: {sorted(allowed)}')
        for key in required:
            if key not in value:
                raise self.error(where, f'missing required field {key!r}')
        if nonempty and not value:
            raise self.error(where, 'present but empty: omit it instead')
        return value

    def string(self, value, where):
        if not isinstance(value, str) or not value.strip():
            raise self.error(where, f'must be a non-empty string, got {value!r}')
        return value.strip()

    def choice(self, value, where, choices):
        if str(value).strip().lower() not in choices:
            raise self.error(where, f'{value!r} is not one of {list(choices)}')

    def integer(self, value, where):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise self.error(where, f'must be a positive integer, got {value!r}')
        return value

    def document(self, text):
        import yaml

        try:
            data = yaml.load(text, Loader=_strict_loader())
        except yaml.YAMLError as error:
            mark = getattr(error, 'problem_mark', None)
            problem = getattr(error, 'problem', None) or str(error).strip()
            raise self.error(f'line {mark.line + 1}' if mark else '',
                             f'not valid YAML: {problem}') from None
        data = self.mapping({} if data is None else data, 'the contract')
        extensions = {k: v for k, v in data.items() if str(k).startswith('x-')}
        data = {k: v for k, v in data.items() if k not in extensions}
        self.mapping(data, 'the contract', TOP_LEVEL_KEYS,
                     ('robot_type', 'robot_interface', 'fps'))
        for name in ('tasks', 'adjunct', 'teleop') + FRAME_SECTIONS:
            if name in data and data[name] is None:
                raise self.error(name, 'present but null: omit the section instead')
        robot_type = self.string(data['robot_type'], 'robot_type')
        self.choice(data['robot_interface'], 'robot_interface', ('ros2',))
        fps = self.integer(data['fps'], 'fps')
        sections = {s: self.frame_section(data.get(s), s) for s in FRAME_SECTIONS}
        owner = {}
        for section, entries in sections.items():
            for key in entries:
                if owner.setdefault(key, section) != section:
                    raise self.error(f'{section}.{key}', f'frame key also in {owner[key]}: a '
                                     'key belongs to one section')
        if 'teleop' in data:
            self.mapping(data['teleop'], 'teleop', TELEOP_KEYS, nonempty=True)
        return Document(robot_type, fps, sections, self.tasks(data.get('tasks')),
                        self.adjunct(data.get('adjunct')), 'teleop' in data, extensions)

    def frame_section(self, data, section):
        """{frame key: [Source]} of a frame-clock section."""
        if data is None:
            return {}
        if isinstance(data, list):
            raise self.error(section, 'must be a mapping keyed by frame key, got a list (the '
                             'v1 list-of-entries contract format is not supported: Rosetta '
                             'v2)')
        self.mapping(data, section, nonempty=True)
        entries = {}
        for key, value in data.items():
            where = f'{section}.{key}'
            if str(key).startswith(IMAGE_PREFIX) and section != 'observations':
                raise self.error(where, f'keys under {IMAGE_PREFIX!r} are only allowed in '
                                 'observations')
            if isinstance(value, list):
                if not value:
                    raise self.error(where, 'an empty source list')
                entries[str(key)] = [self.source(v, f'{where}[{i}]', section)
                                     for i, v in enumerate(value)]
            else:
                entries[str(key)] = [self.source(value, where, section)]
        return entries

    def source(self, data, where, section):
        self.mapping(data, where, SOURCE_KEYS, ('channel', 'align'))
        topic, msgtype = self.channel(data['channel'], f'{where}.channel',
                                      CHANNEL_KEYS[section], section in EXTENDED_SECTIONS)
        self.align(data['align'], f'{where}.align')
        select = data.get('select')
        if select is not None:
            if not isinstance(select, list) or not select:
                raise self.error(f'{where}.select', 'must be a non-empty list of field paths '
                                 '(omit it to take the whole message)')
            if not all(isinstance(s, str) for s in select) or len(set(select)) < len(select):
                raise self.error(f'{where}.select', f'must be unique strings, got {select}')
        if 'kind' in data:
            self.choice(data['kind'], f'{where}.kind', KINDS)
        return Source(where, topic, msgtype, None if select is None else tuple(select),
                      self.apply(data.get('apply'), f'{where}.apply'))

    def channel(self, data, where, allowed, dtype_required=False):
        """(topic, type) of a channel."""
        self.mapping(data, where, allowed, ('topic', 'type'))
        topic = self.string(data['topic'], f'{where}.topic')
        msgtype = self.string(data['type'], f'{where}.type')
        if 'qos' in data:
            self.mapping(data['qos'], f'{where}.qos')
        if dtype_required and 'dtype' not in data:
            raise self.error(where, "missing required field 'dtype'")
        if 'dtype' in data:
            self.choice(data['dtype'], f'{where}.dtype',
                        DTYPES[:-1] if dtype_required else DTYPES)
        if 'safety' in data:
            self.choice(data['safety'], f'{where}.safety', SAFETY)
        return topic, msgtype

    def align(self, data, where):
        self.mapping(data, where, ALIGN_KEYS, ('strategy', 'timeline'))
        self.choice(data['strategy'], f'{where}.strategy', STRATEGIES)
        self.string(str(data['timeline']), f'{where}.timeline')
        asof = str(data['strategy']).strip().lower() == 'asof'
        if asof and 'tolerance_ms' not in data:
            raise self.error(where, "strategy 'asof' requires 'tolerance_ms'")
        if 'tolerance_ms' in data:
            if not asof:
                raise self.error(f'{where}.tolerance_ms', "only valid with strategy 'asof'")
            self.integer(data['tolerance_ms'], f'{where}.tolerance_ms')

    def apply(self, data, where):
        """Return the operator names of an apply list."""
        if data is None:
            return ()
        if not isinstance(data, list):
            raise self.error(where, f'must be a list of operators, got {type(data).__name__}')
        names = []
        for i, item in enumerate(data):
            if isinstance(item, dict) and len(item) == 1:
                item = next(iter(item))
            if not isinstance(item, str):
                raise self.error(f'{where}[{i}]', 'must be an operator name or a one-key '
                                 f'mapping (resize: [h, w]), got {item!r}')
            names.append(item)
        return tuple(names)

    def tasks(self, data):
        """{task key: (topic, type)}."""
        if data is None:
            return {}
        if isinstance(data, list):
            raise self.error('tasks', 'must be a mapping keyed by task key, got a list (the '
                             'v1 contract format is not supported: Rosetta v2)')
        tasks = {}
        for key, entry in self.mapping(data, 'tasks', nonempty=True).items():
            self.mapping(entry, f'tasks.{key}', ('channel',), ('channel',))
            tasks[str(key)] = self.channel(entry['channel'], f'tasks.{key}.channel',
                                           BARE_CHANNEL_KEYS)
        return tasks

    def adjunct(self, data):
        """[(topic, type)]."""
        if data is None:
            return []
        if not isinstance(data, list) or not data:
            raise self.error('adjunct', 'must be a non-empty list of {channel: ...} entries')
        channels = []
        for i, entry in enumerate(data):
            self.mapping(entry, f'adjunct[{i}]', ('channel',), ('channel',))
            channels.append(self.channel(entry['channel'], f'adjunct[{i}].channel',
                                         BARE_CHANNEL_KEYS))
        return channels
