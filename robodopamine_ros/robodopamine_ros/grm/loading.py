# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Load a GRM from what a user names: a model folder (compact or VLM) or a builtin baseline."""

from pathlib import Path


def load_grm(spec, device='cpu', template=None):
    """
    Return (model, saved references or None) for a model folder or a builtin name.

    A folder whose config.json is a compact GRM's loads as one; any other folder loads as a
    VLM GRM (Qwen-VL), with its saved prompt_template.txt unless template is given.
    """
    if spec == 'pixel-baseline':
        from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
        return PixelBaselineGRM(), None
    from robodopamine_ros.grm.compact import CompactGRM, CONFIG_FILE, FORMAT
    folder = Path(spec)
    config = folder / CONFIG_FILE
    if config.is_file() and FORMAT not in config.read_text():
        from robodopamine_ros.grm.vlm import VLMGRM
        return VLMGRM.load(folder, device=device,
                           template=template or saved_template(folder)), None
    model = CompactGRM.load(spec, device=device)
    return model, model.saved_references(spec)


def saved_template(folder):
    """Return the prompt template file a VLM model folder saved (Path), or None."""
    saved = Path(folder) / 'prompt_template.txt'
    return saved if saved.is_file() else None


def stored_task(model):
    """Return the task text a model was adapted on ('' when it stores none)."""
    return getattr(model, 'config', {}).get('task', '')


def read_rgb(path, what='image'):
    """Read an image file as an RGB array; a file that is not an image names itself."""
    import cv2
    image = cv2.imread(str(path))
    if image is None:
        raise ValueError(f'{what} {path}: cannot read an image file')
    return image[:, :, ::-1].copy()
