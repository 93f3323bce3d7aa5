# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The reward contract: which reward model, read how, shaped how, produced an episode's numbers.

Progress and rewards only mean something under the model, the views and the settings that made
them. A contract records all of it, and its ``digest`` names it in one short string, so episodes
scored under different contracts are never mixed unnoticed (docs/method.md#the-reward-contract):

- ``grm``: the GRM's content hash, ``sha256:<hex>`` over its config and weight files
  (``grm_content_hash``), or ``builtin:<name>`` for a built-in baseline;
- ``backend``: compact, vlm or pixel-baseline;
- ``task``: the task text the model was queried with;
- ``prompt``: the sha256 of the VLM prompt template ('' for a compact model);
- ``views``: the view-slot mapping, the GRM's slot (front, left_wrist, right_wrist) -> the
  camera that fills it (a topic, or a simulator camera), and ``fill``, the rule for a slot no
  camera fills ('' while all three are filled);
- ``references``: the sha256 of each reference image (start, end, goal views), in order;
- ``progress``: fusion and success-detector settings (reward.progress.ProgressConfig);
- ``grm_every``: control steps per GRM score (the tick stride);
- ``shaping``: gamma, success_delta, terminate_on_success, terminal_potential_zero
  (reward.shaping.ShapingConfig), ``success``, where an episode's success comes from
  (rl.outcomes.SUCCESS_SOURCES), and ``reward``, the reward source (rl.rewards.SOURCES: 'grm'
  is the shaping).

``RewardContract.from_dict`` reads a contract from untrusted input (a bag, a CSV, a message):
every field is checked and a wrong one is named. ROS-free.
"""

from dataclasses import asdict, dataclass, field, fields
import hashlib
import json
import math
from pathlib import Path

import numpy as np
from robodopamine_ros.data.topics import VIEWS as SLOTS   # the GRM's three view slots

CONTRACT_VERSION = 1
# files whose bytes define a model folder's outputs: its config and its weights (reports,
# plots and histories beside them do not change a single progress value)
MODEL_FILE_SUFFIXES = ('.safetensors', '.bin', '.pt', '.pth')
BUILTIN = 'builtin:'


class ContractError(ValueError):
    """A contract that cannot be read, or episodes scored under different contracts."""


def _sha256_file(path, digest):
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)


def grm_content_hash(spec):
    """
    Return 'sha256:<hex>' of a model folder's config.json and weight files, or 'builtin:NAME'.

    spec: a model folder (compact or VLM) or a built-in name ('pixel-baseline'). Files are
    hashed in sorted order with their names (a renamed weight file is another model); reports
    and plots beside them are not. Raises FileNotFoundError naming a folder without config.json.
    """
    folder = Path(spec)
    if not folder.is_dir():
        if str(spec) == 'pixel-baseline':
            return BUILTIN + str(spec)
        raise FileNotFoundError(f'{spec}: no such model folder')
    if not (folder / 'config.json').is_file():
        raise FileNotFoundError(f'{folder}: no config.json: not a model folder')
    digest = hashlib.sha256()
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and (
        p.name == 'config.json' or p.suffix in MODEL_FILE_SUFFIXES))
    for name in names:
        digest.update(name.encode() + b'\0')
        _sha256_file(folder / name, digest)
    return 'sha256:' + digest.hexdigest()


def file_hash(path):
    """Return the sha256 hex of a file's bytes ('' for None)."""
    if path is None:
        return ''
    digest = hashlib.sha256()
    _sha256_file(path, digest)
    return digest.hexdigest()


def image_hash(image):
    """Return the sha256 hex of an image array (its shape and dtype included)."""
    array = np.ascontiguousarray(image)
    digest = hashlib.sha256(f'{array.shape}{array.dtype.str}'.encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _finite(value):
    """Return whether a number is finite (an int too large for a float is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _positive(value):
    """Return whether value is a finite number > 0 (not a bool) whose inverse is finite."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and \
        _finite(value) and value > 0 and _finite(1.0 / value)


def _loads(text, where):
    """JSON text to Python values; ContractError names `where` for anything that is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError) as error:
        raise ContractError(f'{where}: not JSON ({type(error).__name__}: '
                            f'{str(error)[:200]})') from None


def reference_hashes(images):
    """Return the contract's ``references``: image_hash of each reference image (None: skipped)."""
    return [image_hash(image) for image in images if image is not None]


def _plain(value, where):
    """Return a JSON-able copy of a settings dict of numbers, booleans and strings."""
    if not isinstance(value, dict):
        raise ContractError(f'{where}: expected a mapping, got {type(value).__name__}')
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ContractError(f'{where}: keys must be strings, got {key!r}')
        if isinstance(item, bool) or isinstance(item, str):
            out[key] = item
        elif isinstance(item, (int, float)) and _finite(item):
            out[key] = float(item) if isinstance(item, float) else int(item)
        else:
            raise ContractError(f'{where}.{key}: expected a number, boolean or text, got '
                                f'{item!r}')
    return out


@dataclass(frozen=True)
class RewardContract:
    """What produced an episode's progress and rewards (module docstring). Compare by digest."""

    grm: str
    backend: str
    task: str = ''
    prompt: str = ''
    views: dict = field(default_factory=dict)
    fill: str = ''
    references: tuple = ()
    progress: dict = field(default_factory=dict)
    grm_every: float = 1.0
    shaping: dict = field(default_factory=dict)
    version: int = CONTRACT_VERSION

    def to_dict(self):
        """Return the contract as a JSON-able dict (references as a list)."""
        values = asdict(self)
        values['references'] = list(self.references)
        return values

    def to_json(self):
        """Return the canonical JSON text (sorted keys, no spaces): equal contracts, equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(',', ':'))

    @property
    def digest(self):
        """Return 16 hex digits of the sha256 of the canonical JSON: the contract's name."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, values, where='reward contract'):
        """
        Read a contract from a dict; ContractError names the field that is wrong.

        where: what the dict came from (a bag's topic, a CSV's file), for the message.
        """
        if not isinstance(values, dict):
            raise ContractError(f'{where}: expected a mapping, got {type(values).__name__}')
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ContractError(f'{where}: unknown fields {unknown} (known: {sorted(known)})')
        missing = [name for name in ('grm', 'backend') if name not in values]
        if missing:
            raise ContractError(f'{where}: missing fields {missing}')
        version = values.get('version', CONTRACT_VERSION)
        if version != CONTRACT_VERSION:
            raise ContractError(f'{where}.version: {version!r}; this package reads version '
                                f'{CONTRACT_VERSION}')
        for name in ('grm', 'backend', 'task', 'prompt', 'fill'):
            if not isinstance(values.get(name, ''), str):
                raise ContractError(f'{where}.{name}: expected text, got '
                                    f'{values[name]!r}')
        views = values.get('views', {})
        if not isinstance(views, dict) or not all(
                k in SLOTS and isinstance(v, str) for k, v in views.items()):
            raise ContractError(f'{where}.views: expected a mapping of slots {SLOTS} to '
                                f'camera names, got {views!r}')
        references = values.get('references', [])
        if not isinstance(references, (list, tuple)) or not all(
                isinstance(r, str) for r in references):
            raise ContractError(f'{where}.references: expected a list of sha256 texts, got '
                                f'{references!r}')
        every = values.get('grm_every', 1.0)
        if not _positive(every):
            raise ContractError(f'{where}.grm_every: expected a number > 0, got {every!r}')
        return cls(grm=values['grm'], backend=values['backend'], task=values.get('task', ''),
                   prompt=values.get('prompt', ''), views=dict(views),
                   fill=values.get('fill', ''), references=tuple(references),
                   progress=_plain(values.get('progress', {}), f'{where}.progress'),
                   grm_every=float(every),
                   shaping=_plain(values.get('shaping', {}), f'{where}.shaping'))

    @classmethod
    def from_json(cls, text, where='reward contract'):
        """Read a contract from JSON text; ContractError names the source when it is not."""
        return cls.from_dict(_loads(text, where), where)

    def differences(self, other):
        """Return the names of the fields in which two contracts differ."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [name for name in mine if mine[name] != theirs[name]]


def grm_terms(spec, backend, task='', template=None, references=(), views=None, fill='',
              progress=None, content_hash=None):
    """
    Return the GRM half of a contract (a dict for ``compose``): what grm_node knows.

    spec: the model folder or built-in name; template: the VLM prompt template file (None: the
    compact model's none); references: the reference images (arrays) in use; views: slot ->
    camera (default: the slots' own names); progress: a reward.progress.ProgressConfig;
    content_hash: grm_content_hash(spec) when already known (hashing a VLM's weights takes
    seconds).
    """
    return {'grm': content_hash or grm_content_hash(spec), 'backend': backend, 'task': task,
            'prompt': file_hash(template) if template else '',
            'views': dict(views) if views is not None else {s: s for s in SLOTS},
            'fill': fill, 'references': reference_hashes(references),
            'progress': progress_terms(progress)}


def progress_terms(progress):
    """
    Return a ProgressConfig as the contract's ``progress`` dict ({} for None).

    The success detector's familiarity gate (success_min_agreement) is named only when it is
    on: a contract written before the gate existed is the same contract as one with it off.
    """
    if progress is None:
        return {}
    values = asdict(progress)
    if not values.get('success_min_agreement'):
        values.pop('success_min_agreement', None)
    return values


def compose(terms, shaping, success, grm_every=1.0, reward='grm'):
    """
    Return the RewardContract of GRM terms and the learner's shaping.

    terms: ``grm_terms``, or the dict read back from grm_node; shaping: a
    reward.shaping.ShapingConfig; success: the success source; reward: the reward source
    (rl.rewards.SOURCES: 'grm' is the shaping; the others are ablations).
    """
    return RewardContract.from_dict(dict(terms, grm_every=float(grm_every), shaping=dict(
        asdict(shaping), success=success, reward=reward)))


def check_one_contract(contracts, mix=False, option='--mix-contracts'):
    """
    Return the one contract of scored episodes, or None when none of them records one.

    contracts: (source, RewardContract or None) pairs; None: the episode was not scored by a
    GRM (a demonstration recorded in collect mode) and takes no part. Raises ContractError
    listing each contract's episodes and the fields that differ when they are not all one,
    unless mix (then the first is returned).
    """
    groups = {}
    for source, contract in contracts:
        if contract is not None:
            groups.setdefault(contract.digest, (contract, []))[1].append(str(source))
    if not groups:
        return None
    first = next(iter(groups.values()))[0]
    if len(groups) > 1 and not mix:
        lines = [f'  contract {digest} ('
                 + (f'{", ".join(first.differences(c))} differ from the first' if c is not first
                    else 'the first') + f'): {", ".join(sources)}'
                 for digest, (c, sources) in groups.items()]
        raise ContractError(f'episodes scored under {len(groups)} different reward contracts; '
                            f'their progress and rewards do not compare ({option} to mix '
                            'them anyway):\n' + '\n'.join(lines))
    return first


def contract_change(saved, contract):
    """
    Return ['reward_contract: OLD -> NEW (differ in ...)'], or [] when nothing changed.

    saved: a checkpoint's saved contract (a dict; None for a checkpoint from before
    contracts); contract: the one in force now (None: none). A learner resumed under another
    contract would mix rewards of two GRMs or shapings in its replay buffer.
    """
    if saved is None or contract is None:
        return []
    before = RewardContract.from_dict(saved, "the checkpoint's reward_contract")
    if before.digest == contract.digest:
        return []
    return [f'reward_contract: {before.digest} -> {contract.digest} (differ in '
            f'{", ".join(before.differences(contract))}: the replay buffer holds rewards of '
            'the other)']


def published_terms(text, where='grm_contract'):
    """
    Return (terms dict, rate in Hz) of grm_node's published GRM half.

    text: JSON {"terms": {...}, "rate": Hz}, untrusted: ContractError names what is wrong.
    """
    values = _loads(text, where)
    if not isinstance(values, dict) or set(values) != {'terms', 'rate'}:
        raise ContractError(f'{where}: expected {{"terms": ..., "rate": ...}}')
    rate = values['rate']
    if not _positive(rate):
        raise ContractError(f'{where}.rate: expected a GRM rate > 0 Hz, got {rate!r}')
    terms = values['terms']
    RewardContract.from_dict(terms, f'{where}.terms')   # checked field by field
    return terms, float(rate)


def publish_terms(terms, rate):
    """Return the JSON text grm_node publishes: its terms and its rate (Hz)."""
    return json.dumps({'terms': terms, 'rate': float(rate)}, sort_keys=True)


class ContractKeeper:
    """
    The learner's reward contract on a robot: grm_node's published half + its own shaping.

    shaping: reward.shaping.ShapingConfig; success: the success source; control_period: s;
    saved: the resumed checkpoint's contract dict (None: none). ``update(text)`` reads a
    ``grm_contract`` message; the contract in force is ``current`` (None until one came).
    """

    def __init__(self, shaping, success, control_period, saved=None):
        self.shaping, self.success, self.period = shaping, success, control_period
        self.saved, self.current = saved, None

    def update(self, text, where='grm_contract'):
        """
        Return (the new contract or None when unchanged, [(level, line)] to log).

        Raises ContractError naming what is wrong in the message (it is then ignored). A
        contract other than the resumed checkpoint's is a warning: the replay buffer holds
        rewards of both.
        """
        terms, rate = published_terms(text, where)
        contract = compose(terms, self.shaping, self.success,
                           grm_every=round(1.0 / (rate * self.period), 6))
        if self.current is not None and contract.digest == self.current.digest:
            return None, []
        lines = [('info', f'reward contract {contract.digest}: GRM {contract.grm[:23]} '
                          f'({contract.backend}), gamma {contract.shaping["gamma"]:.4g}, '
                          f'success from {contract.shaping["success"]}, one GRM score per '
                          f'{contract.grm_every:g} control steps')]
        if self.current is not None:
            lines.append(('warn', f'the reward contract changed: {self.current.digest} -> '
                                  f'{contract.digest} (differ in '
                                  f'{", ".join(self.current.differences(contract))}); '
                                  'episodes from now on are logged under the new one'))
        elif self.saved is not None:
            lines += [('warn', f'resumed checkpoint: {change}') for change in
                      contract_change(self.saved, contract)]
        self.current = contract
        return contract, lines


def recorded_contracts(paths, storage='auto'):
    """
    Return (path, RewardContract or None) of each episode: the contract its bag records.

    None for a folder in the reference layout, or a bag scored by no GRM
    (data/bag_contract.py says where a bag keeps it). Raises ContractError naming the bag
    whose recorded contract does not read.
    """
    from pathlib import Path

    from robodopamine_ros.data.bag_contract import recorded_contract_text
    from robodopamine_ros.data.bag_location import looks_like_bag

    out = []
    for path in paths:
        text, where = recorded_contract_text(path, storage) if looks_like_bag(Path(path)) \
            else (None, None)
        out.append((path, None if text is None else RewardContract.from_json(text, where)))
    return out
