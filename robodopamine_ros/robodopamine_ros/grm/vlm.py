# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The pretrained VLM GRM backend: Qwen2.5-VL / Qwen3-VL models from a local folder.

The query: docs/method.md#one-query.

- The prompt is a template file with ``{task}`` and ``{image1}`` .. ``{image8}`` in the
  query's slot
  order (START, END, BEFORE front/left/right, AFTER front/left/right); ours ships in
  ``grm/prompts/progress_hop.txt`` and any other file (e.g. the exact reference wording the
  released model was fine-tuned on) can replace it.
- Generation is greedy with a small cap on new tokens (16) and stops at ``</score>``; the
  answer is parsed strictly (parse_score); a parse failure is "no answer" (NaN), never 0.
- Images are resized to at most 76,800 pixels (at least 12,544), docs/method.md#one-query.
- The three queries of a tick go to the model in one batch (left padding). They share the
  task and reference-image prefix; no KV-cache prefix reuse is attempted.
- ImageOnlyQwenVLProcessor replaces the stock processor, whose video part needs torchvision.
"""

import math
from pathlib import Path
import re

import numpy as np
from robodopamine_ros.grm.base import GRM

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / 'prompts' / 'progress_hop.txt'
# every transformers loader call: files of the local folder only (never a hub download), and
# never the Python code a model folder may ship (auto_map): weights and configs are data
LOCAL_ONLY = {'local_files_only': True, 'trust_remote_code': False}
MIN_PIXELS, MAX_PIXELS = 12_544, 76_800
SCORE_OPEN, SCORE_CLOSE = '<score>', '</score>'
_NUMBER = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)$')


def parse_score(text):
    """
    Hop from a model answer, or None when it cannot be read.

    The text between the last <score> and the next </score>, without %, as a float, clipped to
    [-100, 100], divided by 100. Anything else (no tags, no closing tag, extra characters,
    several numbers, NaN) is a parse failure.
    """
    start = text.rfind(SCORE_OPEN)
    if start < 0:
        return None
    body = text[start + len(SCORE_OPEN):]
    end = body.find(SCORE_CLOSE)
    if end < 0:
        return None
    body = body[:end].strip()
    if body.endswith('%'):
        body = body[:-1].strip()
    if not _NUMBER.match(body):
        return None
    value = float(body)
    if not math.isfinite(value):
        return None
    return max(-100.0, min(100.0, value)) / 100.0


def format_score(hop):
    """Return the answer text a model should produce for a hop (training target)."""
    return f'{SCORE_OPEN}{100 * hop:+.1f}%{SCORE_CLOSE}'


def query_images(queries):
    """Return the images of GRMQuery objects in their slot order: START, END, BEFORE, AFTER."""
    return [np.asarray(image) for q in queries for image in
            (q.reference_start, q.reference_end, *q.before, *q.after)]


class PromptTemplate:
    """A prompt file with {task} and {image1}..{image8}; each image becomes a vision block."""

    SLOTS = 8

    def __init__(self, path=DEFAULT_TEMPLATE):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f'{self.path}: prompt template not found')
        self.text = self.path.read_text(encoding='utf-8')
        for k in range(1, self.SLOTS + 1):
            if self.text.count(f'{{image{k}}}') != 1:
                raise ValueError(f'{self.path}: needs {{image{k}}} exactly once (found '
                                 f'{self.text.count(f"{{image{k}}}")})')
        if '{task}' not in self.text:
            raise ValueError(f'{self.path}: needs a {{task}} placeholder')

    def render(self, task, image_block):
        """Fill the template; image_block is the text that stands for one image."""
        text = self.text.replace('{task}', task)
        for k in range(1, self.SLOTS + 1):
            text = text.replace(f'{{image{k}}}', image_block)
        return text


class ImageOnlyQwenVLProcessor:
    """
    Tokenizer + Qwen2-VL image processor (PIL backend), no video: no torchvision needed.

    __call__(texts, images) expands every image placeholder of the texts into the number of
    image tokens its patch grid needs, like the stock Qwen processor does for images.
    """

    VISION_BLOCK = '<|vision_start|><|image_pad|><|vision_end|>'
    IMAGE_TOKEN = '<|image_pad|>'

    def __init__(self, tokenizer, image_processor):
        self.tokenizer, self.image_processor = tokenizer, image_processor
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.IMAGE_TOKEN)
        if self.image_token_id is None or self.image_token_id == tokenizer.unk_token_id:
            raise ValueError(f'tokenizer has no {self.IMAGE_TOKEN} token: not a Qwen-VL '
                             'tokenizer')

    @classmethod
    def from_pretrained(cls, folder):
        from transformers import AutoTokenizer
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil)

        tokenizer = AutoTokenizer.from_pretrained(folder, padding_side='left', **LOCAL_ONLY)
        if (Path(folder) / 'preprocessor_config.json').is_file():
            # a concrete class: there is no remote code to refuse, only the hub
            image_processor = Qwen2VLImageProcessorPil.from_pretrained(folder,
                                                                       local_files_only=True)
        else:
            image_processor = Qwen2VLImageProcessorPil()
        image_processor.size = {'shortest_edge': MIN_PIXELS, 'longest_edge': MAX_PIXELS}
        return cls(tokenizer, image_processor)

    def __call__(self, texts, images):
        vision = self.image_processor(images=list(images), return_tensors='pt')
        merge = self.image_processor.merge_size ** 2
        counts = (vision['image_grid_thw'].prod(dim=1) // merge).tolist()
        expanded, index = [], 0
        for text in texts:
            parts = text.split(self.IMAGE_TOKEN)
            out = parts[0]
            for part in parts[1:]:
                out += self.IMAGE_TOKEN * counts[index] + part
                index += 1
            expanded.append(out)
        if index != len(counts):
            raise ValueError(f'{index} image placeholders in the texts for {len(counts)} images')
        batch = self.tokenizer(expanded, return_tensors='pt', padding=True)
        # multimodal token types (1 = image token) for M-RoPE, as the stock processor returns
        mm_types = (batch['input_ids'] == self.image_token_id).long()
        return {**batch, 'mm_token_type_ids': mm_types, 'pixel_values': vision['pixel_values'],
                'image_grid_thw': vision['image_grid_thw']}

    def save_pretrained(self, folder):
        self.tokenizer.save_pretrained(folder)
        self.image_processor.save_pretrained(folder)


class VLMGRM(GRM):
    """A Qwen-VL GRM loaded from a local folder."""

    name = 'vlm'

    def __init__(self, model, processor, template=None, max_new_tokens=16, device='cpu'):
        self.model, self.processor = model, processor
        self.template = template or PromptTemplate()
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.last_texts = []

    @classmethod
    def load(cls, folder, device='cpu', dtype='auto', template=None, max_new_tokens=16):
        """
        Load model and processor from a local folder (never from a hub).

        dtype: 'auto' (bfloat16 on CUDA, float32 on CPU), 'bfloat16', 'float16' or 'float32'.
        """
        import torch
        from transformers import AutoConfig, AutoModelForImageTextToText

        folder = Path(folder)
        if not (folder / 'config.json').is_file():
            raise FileNotFoundError(f'{folder}: no config.json; a VLM GRM folder is a local '
                                    'transformers model folder (hub ids are not downloaded)')
        config = AutoConfig.from_pretrained(folder, **LOCAL_ONLY)
        if config.model_type not in ('qwen2_5_vl', 'qwen2_vl', 'qwen3_vl'):
            raise ValueError(f'{folder}: model_type {config.model_type!r} is not a Qwen-VL '
                             'model (qwen2_5_vl, qwen2_vl or qwen3_vl)')
        if dtype == 'auto':
            dtype = 'bfloat16' if str(device).startswith('cuda') else 'float32'
        model = AutoModelForImageTextToText.from_pretrained(
            folder, dtype=getattr(torch, dtype), use_safetensors=True,
            **LOCAL_ONLY).to(device).eval()  # weights are data: never a pickle
        processor = ImageOnlyQwenVLProcessor.from_pretrained(folder)
        return cls(model, processor, PromptTemplate(template) if template else None,
                   max_new_tokens, device)

    def prompt(self, query):
        return self.template.render(query.task, ImageOnlyQwenVLProcessor.VISION_BLOCK)

    def inputs(self, queries, answers=None):
        """Model inputs for a batch of queries (answers appended, for training)."""
        texts = [self.prompt(q) + (answers[i] if answers else '')
                 for i, q in enumerate(queries)]
        batch = self.processor(texts, query_images(queries))
        return {k: v.to(self.device) for k, v in batch.items()}

    def generate_text(self, queries):
        return self.generate_from([self.prompt(q) for q in queries], query_images(queries))

    def generate_from(self, texts, images):
        """
        Answer prompts whose images stand as VISION_BLOCK in the texts (greedy, to </score>).

        texts: one prompt per query; images: RGB uint8 arrays (H, W, 3), in the order of the
        blocks across the texts. Returns the decoded answers, each up to its first </score>
        (grm/served.py asks a server of this model the same).
        """
        import torch

        batch = {k: v.to(self.device) for k, v in self.processor(texts, images).items()}
        with torch.inference_mode():
            output = self.model.generate(
                **batch, do_sample=False, max_new_tokens=self.max_new_tokens,
                stop_strings=[SCORE_CLOSE], tokenizer=self.processor.tokenizer,
                pad_token_id=self.processor.tokenizer.pad_token_id)
        new_tokens = output[:, batch['input_ids'].shape[1]:]
        return self.processor.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)

    def hops(self, queries):
        if not queries:
            return np.zeros(0)
        self.last_texts = self.generate_text(queries)
        values = [parse_score(text) for text in self.last_texts]
        return self.sanitize([math.nan if v is None else v for v in values])
