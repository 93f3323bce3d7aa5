# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The ``openai`` GRM backend: a Qwen-VL GRM behind an OpenAI-compatible server (vLLM, SGLang).

The query is the VLM backend's (grm/vlm.py, docs/method.md#one-query), sent over HTTP:

- one chat-completions request per query: the prompt template's text, split at its eight image
  slots, with the eight images inline as PNG data URLs (lossless, as the in-process backend
  sees them; an image over the method's 76,800 pixels is first shrunk to fit, area-averaged);
- greedy (temperature 0), at most ``max_tokens`` (16) new tokens, no stop sequence: servers cut
  a stop string from the text they return, so the answer is cut here, after its first
  ``</score>``, which gives the text the in-process backend generates; then the same strict
  parser (parse_score);
- the three queries of a tick go concurrently (a thread each; the client is thread-safe);
- a timeout, a refused connection, an HTTP error or a reply without a message is "no answer"
  (NaN), never a zero hop: counted in ``failures``, the last one in ``last_error``;
- each tick records who answered (``last_source``: the server and the model its replies name,
  e.g. one of several GRM servers behind one endpoint).

The client library is the ``openai`` Python SDK: the client these servers document and test
against, so the request format, authentication and error types follow their API rather than
our reading of it; its retries are off (``max_retries=0``: an answer after the next tick is of
no use). At start the server is asked for its models (GET /v1/models): a server that does not
answer, or does not serve ``model``, is one error naming the URL (ConnectionError, ValueError).
"""

import base64
from concurrent.futures import ThreadPoolExecutor
import math
import os
import re

import numpy as np
from robodopamine_ros.grm.base import GRM
from robodopamine_ros.grm.vlm import (MAX_PIXELS, parse_score, PromptTemplate, query_images,
                                      SCORE_CLOSE)

SLOT = '\x00image\x00'   # stands for an image while the template is split
# a ChatML turn (Qwen's chat format, which our template is written in): the server applies
# the model's chat template to the messages, so the template's turns become messages
TURN = re.compile(r'<\|im_start\|>(\w+)\n(.*?)<\|im_end\|>\n?', re.S)
GENERATION_PROMPT = '<|im_start|>assistant\n'


def chat_turns(prompt):
    """
    Return [(role, text)] of a rendered prompt: its ChatML turns, or one user turn.

    The template's closing ``<|im_start|>assistant`` line is the server's generation prompt.
    Raises ValueError for text outside the turns (the server's chat template would lose it).
    """
    turns = TURN.findall(prompt)
    if not turns:
        return [('user', prompt)]
    rest = TURN.sub('', prompt)
    if rest not in ('', GENERATION_PROMPT, GENERATION_PROMPT.strip()):
        raise ValueError(f'prompt template: text outside its <|im_start|> turns '
                         f'({rest[:60]!r}): a chat server would not see it')
    return turns


def png_data_url(image, max_pixels=MAX_PIXELS):
    """Return an RGB uint8 image (H, W, 3) as a PNG data URL, shrunk to at most max_pixels."""
    import cv2

    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if height * width > max_pixels:
        scale = math.sqrt(max_pixels / (height * width))
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode('.png', image[:, :, ::-1])
    if not ok:
        raise ValueError(f'an image of shape {image.shape} cannot be encoded as PNG')
    return 'data:image/png;base64,' + base64.b64encode(png.tobytes()).decode('ascii')


def encode_images(queries):
    """Return {id(image): PNG data URL} of the distinct image arrays of GRMQuery objects."""
    urls = {}
    for image in query_images(queries):
        if id(image) not in urls:
            urls[id(image)] = png_data_url(image)
    return urls


def cut_answer(text):
    """Return a server's answer up to and with its first </score> (all of it when none)."""
    end = text.find(SCORE_CLOSE)
    return text if end < 0 else text[:end + len(SCORE_CLOSE)]


class ServedGRM(GRM):
    """
    A Qwen-VL GRM answered by an OpenAI-compatible chat-completions server.

    base_url: the server's API root (``http://gpu-box:8000/v1``); model: the name it serves
    the GRM under; api_key_env: the environment variable holding its API key ('' for none);
    timeout_s: seconds a query may take (> 0); template: a prompt template file (default
    ours). Raises ConnectionError naming base_url when the server does not answer, ValueError
    when it does not serve `model` or a setting is invalid.
    """

    name = 'openai'

    def __init__(self, base_url, model, api_key_env='', timeout_s=5.0, template=None,
                 max_tokens=16):
        import openai

        if not base_url or not model:
            raise ValueError('backend openai needs base_url (e.g. http://gpu-box:8000/v1) and '
                             'model (the name the server serves the GRM under)')
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f'timeout_s must be a number of seconds > 0, got {timeout_s!r}')
        key = 'none'   # the SDK needs one; servers started without --api-key ignore it
        if api_key_env:
            key = os.environ.get(api_key_env, '')
            if not key:
                raise ValueError(f'api_key_env names {api_key_env}, which is not set in the '
                                 "environment: set it to the GRM server's API key")
        self.base_url, self.model, self.timeout_s = base_url, model, float(timeout_s)
        self.template = template or PromptTemplate()
        self.max_tokens = max_tokens
        self.client = openai.OpenAI(base_url=base_url, api_key=key, timeout=self.timeout_s,
                                    max_retries=0)
        self._errors = (openai.APIError,)
        try:
            served = [m.id for m in self.client.models.list()]
        except openai.APIConnectionError as error:   # refused, unreachable, timed out
            raise ConnectionError(f'GRM server {base_url}: no answer ({error}; '
                                  f'{error.__cause__ or "no cause given"})') from None
        except openai.APIStatusError as error:
            raise ConnectionError(f'GRM server {base_url}: GET /models answered HTTP '
                                  f'{error.status_code}') from None
        if model not in served:
            raise ValueError(f'GRM server {base_url} does not serve model {model!r} (it serves '
                             f'{", ".join(map(repr, served)) or "none"})')
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix='grm_query')
        self.failures, self.last_error, self.last_texts, self.last_source = 0, '', [], ''

    def messages(self, query, urls=None):
        """
        Return the chat messages of one query: the template's turns, its eight images.

        urls: {id(image): data URL} of images already encoded (a tick's three queries share
        the references and the AFTER views: each is encoded once).
        """
        urls = urls or {}
        images = iter(query_images([query]))
        messages = []
        for role, text in chat_turns(self.template.render(query.task, SLOT)):
            parts = text.split(SLOT)
            if len(parts) == 1:
                messages.append({'role': role, 'content': text})
                continue
            content = [{'type': 'text', 'text': parts[0]}] if parts[0] else []
            for part in parts[1:]:
                image = next(images)
                url = urls.get(id(image)) or png_data_url(image)
                content.append({'type': 'image_url', 'image_url': {'url': url}})
                if part:
                    content.append({'type': 'text', 'text': part})
            messages.append({'role': role, 'content': content})
        return messages

    def ask(self, query, urls=None):
        """Return (answer text or None, who answered or the error) of one query."""
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=self.messages(query, urls), temperature=0.0,
                max_tokens=self.max_tokens)
            text = reply.choices[0].message.content if reply.choices else None
            if text is None:
                return None, 'a reply without a message'
            return cut_answer(text), f'{reply.model}@{self.base_url}'
        except self._errors as error:
            return None, f'{type(error).__name__}: {error}'

    def hops(self, queries):
        if not queries:
            return np.zeros(0)
        urls = encode_images(queries)
        answers = list(self._pool.map(lambda query: self.ask(query, urls), queries))
        self.last_texts = [text or '' for text, _ in answers]
        errors = [who for text, who in answers if text is None]
        self.failures += len(errors)
        if errors:
            self.last_error = errors[-1]
        self.last_source = ', '.join(sorted({who for text, who in answers if text is not None}))
        values = [parse_score(text) if text is not None else None for text, _ in answers]
        return self.sanitize([math.nan if v is None else v for v in values])

    def close(self):
        self._pool.shutdown(wait=False)
        self.client.close()
