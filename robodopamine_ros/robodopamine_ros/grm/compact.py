# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The compact GRM: a small convolutional network, real time on a CPU, adapted one-shot per task.

Structure (each piece cheap, each image encoded once):

    image  --ImageEncoder-->  f (D)            one shared CNN for all 8 slots
    (f_front, f_left, f_right) + view embeddings --StateFusion--> z (D)     a state
    head(z_before, z_after, z_after - z_before, r_start, r_end) -> tanh -> hop in [-1, 1]

References enter as encoded front images plus slot embeddings. The task text is not an input:
a compact GRM is adapted to one task (docs/method.md#pre-training-and-one-shot-adaptation), and the
text of that task is stored in its config. Output: bounded regression (tanh), trained with smooth
L1; measured (docs/decisions.md#reward-model) ahead of a 41-bin expectation head at equal budget,
so the head is a regression.

The backend caches encodings by image identity, so in a tick of ProgressEstimator only the
three new views are encoded: the references, the episode start, the goal and the previous
triplet were encoded before. Arrays given to the model must not be changed in place afterwards
(a cheap fingerprint check catches most such reuse).
"""

from collections import OrderedDict
import json
import logging
from pathlib import Path
import zlib

import numpy as np
from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.grm.base import GRM
import torch
from torch import nn
import torch.nn.functional as F

FORMAT = 'robodopamine-compact-grm'
FORMAT_VERSION = 1
CONFIG_FILE = 'config.json'
WEIGHTS_FILE = 'model.safetensors'
REFERENCE_FILES = ('reference_start.png', 'reference_end.png')
LOG = logging.getLogger(__name__)

DEFAULT_CONFIG = {
    'format': FORMAT, 'format_version': FORMAT_VERSION,
    'image_size': list(IMAGE_SIZE),      # width, height the network sees
    'width': 32,                 # channels of the first conv layer
    'dim': 128,                  # image / state embedding size
    'head_hidden': 256,
    'task': '',
}


# what a config.json may ask for (checked before anything is built, see check_config)
CONFIG_RANGES = {'width': (8, 256), 'dim': (8, 4096), 'head_hidden': (2, 8192)}
IMAGE_SIZE_RANGE = (8, 2048)   # pixels, each of width and height
MAX_PARAMETERS = 200_000_000   # 800 MB of float32: far above any compact GRM


def parameter_count(config):
    """Return the number of weights CompactGRMNet(config) holds (config already checked)."""
    w, dim, hidden = config['width'], config['dim'], config['head_hidden']
    grid = [(s + 7) // 8 for s in config['image_size']]
    conv = (3 * w * 25 + w) + (w * 2 * w * 9 + 2 * w) + (2 * w * 4 * w * 9 + 4 * w) \
        + (4 * w * 4 * w * 9 + 4 * w) + 2 * (w + 2 * w + 4 * w + 4 * w)
    project = 4 * w * grid[0] * grid[1] * dim + dim + 2 * dim
    embeddings = 3 * dim + dim + 2 * dim
    fuse = 3 * dim * dim + dim + dim * dim + dim + 2 * dim
    head = 5 * dim * hidden + hidden + hidden * (hidden // 2) + hidden // 2 + hidden // 2 + 1
    return conv + project + embeddings + fuse + head


def check_config(config, source='config.json'):
    """
    Check a compact GRM config's types, sizes and ranges before a network is built.

    Raises ValueError naming `source` and the field: image_size must be two integers in
    IMAGE_SIZE_RANGE, width / dim / head_hidden integers in CONFIG_RANGES (width a multiple of
    8: the GroupNorm groups), task a string, and the network at most MAX_PARAMETERS weights.
    """
    if not isinstance(config, dict):
        raise ValueError(f'{source}: expected a JSON object, got {type(config).__name__}')
    missing = [k for k in DEFAULT_CONFIG if k not in config]
    if missing:
        raise ValueError(f'{source}: missing keys {missing}')

    def integer(value):
        return isinstance(value, int) and not isinstance(value, bool)

    size = config['image_size']
    low, high = IMAGE_SIZE_RANGE
    if not (isinstance(size, list) and len(size) == 2
            and all(integer(s) and low <= s <= high for s in size)):
        raise ValueError(f'{source}: field image_size must be [width, height], integers in '
                         f'[{low}, {high}], got {size!r}')
    for key, (low, high) in CONFIG_RANGES.items():
        value = config[key]
        if not (integer(value) and low <= value <= high):
            raise ValueError(f'{source}: field {key} must be an integer in [{low}, {high}], '
                             f'got {value!r}')
    if config['width'] % 8:
        raise ValueError(f'{source}: field width must be a multiple of 8, got '
                         f'{config["width"]}')
    if not isinstance(config['task'], str):
        raise ValueError(f'{source}: field task must be a string, got {config["task"]!r}')
    count = parameter_count(config)
    if count > MAX_PARAMETERS:
        raise ValueError(f'{source}: image_size, width, dim and head_hidden ask for a network '
                         f'of {count:,} weights (at most {MAX_PARAMETERS:,})')
    return config


def non_finite_tensors(tensors):
    """Return the names of the floating-point tensors of {name: tensor} holding NaN or inf."""
    return [name for name, value in tensors.items()
            if value.is_floating_point() and not bool(torch.isfinite(value).all())]


class ImageEncoder(nn.Module):
    """Four conv layers (three of stride 2) and a linear map of the flattened feature grid."""

    def __init__(self, image_size, width, dim):
        super().__init__()
        w = width
        self.conv = nn.Sequential(
            nn.Conv2d(3, w, 5, stride=2, padding=2), nn.GroupNorm(8, w), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 2 * w), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.GroupNorm(8, 4 * w), nn.ReLU(),
            nn.Conv2d(4 * w, 4 * w, 3, stride=1, padding=1), nn.GroupNorm(8, 4 * w), nn.ReLU(),
        )
        grid = [(s + 7) // 8 for s in image_size]  # three stride-2 layers, rounding up
        # flattening keeps where things are in the image: position is what progress is about
        self.project = nn.Sequential(nn.Linear(4 * w * grid[0] * grid[1], dim), nn.LayerNorm(dim))

    def forward(self, images):
        """images: (N, 3, H, W) float in [-0.5, 0.5] -> (N, dim)."""
        return self.project(self.conv(images).flatten(1))


class CompactGRMNet(nn.Module):
    """Encoder, state fusion and hop head (see the module docstring)."""

    def __init__(self, config):
        super().__init__()
        dim = config['dim']
        self.encoder = ImageEncoder(config['image_size'], config['width'], dim)
        self.view_embedding = nn.Parameter(torch.zeros(3, dim))
        self.missing_view = nn.Parameter(torch.zeros(dim))  # stands in for a dropped view
        self.reference_embedding = nn.Parameter(torch.zeros(2, dim))
        self.fuse = nn.Sequential(nn.Linear(3 * dim, dim), nn.ReLU(), nn.Linear(dim, dim),
                                  nn.LayerNorm(dim))
        hidden = config['head_hidden']
        self.head = nn.Sequential(nn.Linear(5 * dim, hidden), nn.ReLU(),
                                  nn.Linear(hidden, hidden // 2), nn.ReLU(),
                                  nn.Linear(hidden // 2, 1))

    def encode(self, images):
        return self.encoder(images)

    def state(self, front, left, right, dropped=None):
        """Fuse three view encodings (N, dim) into states; dropped: (N, 3) bool mask or None."""
        views = torch.stack([front, left, right], dim=1) + self.view_embedding
        if dropped is not None:
            views = torch.where(dropped[..., None], self.missing_view.expand_as(views), views)
        return self.fuse(views.flatten(1))

    def references(self, start, end):
        return start + self.reference_embedding[0], end + self.reference_embedding[1]

    def hop(self, before, after, ref_start, ref_end):
        """States (N, dim) and references (N, dim) -> hops (N,) in [-1, 1]."""
        x = torch.cat([before, after, after - before, ref_start, ref_end], dim=1)
        return torch.tanh(self.head(x)).squeeze(1)


def to_tensor(images, image_size):
    """Uint8 RGB images (N, H, W, 3) of any size -> (N, 3, h, w) float in [-0.5, 0.5]."""
    from robodopamine_ros.data.images import resize

    batch = np.stack([resize(np.asarray(im), tuple(image_size)) for im in images])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0).sub_(0.5)


def _fingerprint(image):
    return zlib.crc32(np.ascontiguousarray(image[::11, ::7]).tobytes())


class CompactGRM(GRM):
    """The compact GRM as a backend: queries in, hops out, with an encoding cache."""

    name = 'compact'

    def __init__(self, net, config, device='cpu', cache_size=64):
        self.net = net.to(device).eval()
        self.config = config
        self.device = torch.device(device)
        self.cache_size = cache_size
        self._cache = OrderedDict()   # id -> (image kept alive, fingerprint, encoding)
        self.encoded_last_call = 0

    # encodings -------------------------------------------------------------------------------
    def _encodings(self, images):
        """Encode the images not in the cache (one batch); return their encodings in order."""
        keys, missing = [], []
        for image in images:
            key = id(image)
            entry = self._cache.get(key)
            if entry is None or entry[0] is not image or entry[1] != _fingerprint(image):
                missing.append(image)
            keys.append(key)
        self.encoded_last_call = len({id(m) for m in missing})
        if missing:
            unique = list({id(m): m for m in missing}.values())
            with torch.inference_mode():
                encoded = self.net.encode(to_tensor(unique, self.config['image_size'])
                                          .to(self.device))
            for image, encoding in zip(unique, encoded):
                self._cache[id(image)] = (image, _fingerprint(image), encoding)
                self._cache.move_to_end(id(image))
        out = []
        for key in keys:
            self._cache.move_to_end(key)
            out.append(self._cache[key][2])
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    def hops(self, queries):
        if not queries:
            return np.zeros(0)
        images = []
        for q in queries:
            images.extend([q.reference_start, q.reference_end, *q.before, *q.after])
        enc = self._encodings(images)
        stacked = torch.stack(enc).view(len(queries), 8, -1)
        with torch.inference_mode():
            ref_start, ref_end = self.net.references(stacked[:, 0], stacked[:, 1])
            before = self.net.state(stacked[:, 2], stacked[:, 3], stacked[:, 4])
            after = self.net.state(stacked[:, 5], stacked[:, 6], stacked[:, 7])
            hops = self.net.hop(before, after, ref_start, ref_end)
        return self.sanitize(hops.float().cpu().numpy())

    # files -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, **overrides):
        config = dict(DEFAULT_CONFIG, **overrides)
        return cls(CompactGRMNet(config), config)

    def save(self, model_dir, references=None, extra=None, keep_others=True):
        """
        Write config.json, model.safetensors and the reference PNGs as model_dir, atomically.

        The files are written into a new folder that then replaces model_dir whole
        (grm.model_folder): a reader, or a process killed mid-save (kill -9), finds the
        previous model or the new one, never a mix. Other files of model_dir (reports, plots)
        are carried over unless keep_others is false, and so are its reference PNGs when
        references is None. Returns model_dir as a Path.
        """
        from robodopamine_ros.grm.model_folder import replace_folder

        model_dir = Path(model_dir)
        with replace_folder(model_dir, keep_others=keep_others) as new:
            self.write_files(new, references, extra)
        return model_dir

    def write_files(self, folder, references=None, extra=None):
        """Write config.json, model.safetensors and the reference PNGs into folder (no swap)."""
        from safetensors.torch import save_file

        from robodopamine_ros.data.images import save_png

        folder = Path(folder)
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        config = dict(self.config, **(extra or {}))
        save_file(state, str(folder / WEIGHTS_FILE), metadata={'format': FORMAT})
        if references is not None:
            for name, image in zip(REFERENCE_FILES, references):
                save_png(folder / name, np.asarray(image))
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + '\n')

    @classmethod
    def load(cls, model_dir, device='cpu'):
        """Load a saved compact GRM; a missing or incompatible folder says what is wrong."""
        from safetensors import safe_open, SafetensorError
        from safetensors.torch import load_file

        model_dir = Path(model_dir)
        config_path, weights_path = model_dir / CONFIG_FILE, model_dir / WEIGHTS_FILE
        if not model_dir.is_dir():
            from robodopamine_ros.grm.model_folder import interrupted_save_hint
            raise FileNotFoundError(f'{model_dir}: no such model folder'
                                    + interrupted_save_hint(model_dir))
        for path in (config_path, weights_path):
            if not path.is_file():
                raise FileNotFoundError(f'{path}: missing; a compact GRM folder holds '
                                        f'{CONFIG_FILE} and {WEIGHTS_FILE}')
        try:
            config = json.loads(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise ValueError(f'{config_path}: not valid JSON ({error})') from error
        if not isinstance(config, dict):
            raise ValueError(f'{config_path}: expected a JSON object, got '
                             f'{type(config).__name__}')
        if config.get('format') != FORMAT:
            raise ValueError(f'{config_path}: format {config.get("format")!r} is not {FORMAT!r}'
                             ' (is this a VLM GRM folder? use --backend vlm)')
        if config.get('format_version') != FORMAT_VERSION:
            raise ValueError(f'{config_path}: format_version {config.get("format_version")} '
                             f'is not supported (this code reads {FORMAT_VERSION})')
        check_config(config, str(config_path))
        try:  # the file's shapes first (its header): nothing is allocated for a mismatch
            with safe_open(str(weights_path), 'pt') as weights:
                stored = sum(int(np.prod(weights.get_slice(k).get_shape(), dtype=np.int64))
                             for k in weights.keys())
        except (SafetensorError, OSError) as error:
            raise ValueError(f'{weights_path}: cannot read weights ({error})') from error
        if stored != parameter_count(config):
            raise ValueError(f'{weights_path} does not match {config_path}: the file holds '
                             f'{stored:,} weights, the config asks for '
                             f'{parameter_count(config):,}')
        try:
            state = load_file(str(weights_path))
        except (SafetensorError, OSError) as error:
            raise ValueError(f'{weights_path}: cannot read weights ({error})') from error
        bad = non_finite_tensors(state)
        if bad:
            raise ValueError(f'{weights_path}: {len(bad)} weight tensors hold NaN or inf (e.g. '
                             f'{bad[0]}): a diverged or damaged model; adapt it again')
        if config.get('partial'):
            LOG.warning('%s: an intermediate save of an adaptation that did not finish (step '
                        '%s)', model_dir, config.get('checkpoint_step'))
        net = CompactGRMNet(config)
        expected = net.state_dict()
        problems = [f'{k}: file {tuple(state[k].shape)} vs config {tuple(v.shape)}'
                    for k, v in expected.items() if k in state and state[k].shape != v.shape]
        problems += [f'{k}: missing in file' for k in expected if k not in state]
        problems += [f'{k}: not expected by config' for k in state if k not in expected]
        if problems:
            raise ValueError(f'{weights_path} does not match {config_path}: '
                             + '; '.join(problems[:5]))
        net.load_state_dict(state)
        return cls(net, config, device=device)

    def saved_references(self, model_dir):
        """Return the reference START/END images saved with the model, or None."""
        import cv2
        paths = [Path(model_dir) / name for name in REFERENCE_FILES]
        if not all(p.is_file() for p in paths):
            return None
        return tuple(np.ascontiguousarray(cv2.imread(str(p))[:, :, ::-1]) for p in paths)


def smooth_l1(prediction, target, weight):
    """Weighted smooth L1 (beta 0.05: nearly L1 beyond a 5 % hop error)."""
    loss = F.smooth_l1_loss(prediction, target, reduction='none', beta=0.05)
    return (loss * weight).sum() / weight.sum()
