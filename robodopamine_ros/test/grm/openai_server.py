# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A local OpenAI-compatible chat-completions server of a Qwen-VL GRM folder, for the tests.

It stands in for vLLM / SGLang, which cannot run here (no GPU): real HTTP on loopback
(http.server), the real model through transformers (grm/vlm.py VLMGRM). As those servers do,
it applies Qwen's chat format to the messages (``<|im_start|>role``, newline, the content,
``<|im_end|>``, newline, per message; an image part as the vision block
``<|vision_start|><|image_pad|><|vision_end|>``; then the generation prompt), decodes the
inline images and generates greedily. GET /v1/models lists the one model.
A request without ``Authorization: Bearer <api_key>`` (when one is set) is HTTP 401.

Faults for the tests: ``fail_status`` answers every completion with that HTTP status;
``hold`` (a threading.Event) keeps completions waiting until it is set; ``barrier`` (a
threading.Barrier) makes each completion wait for the others of its tick, failing with 500
when they do not come (queries sent one after the other). ``requests`` counts completions.
"""

import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import threading
import time

import numpy as np
from robodopamine_ros.grm.vlm import ImageOnlyQwenVLProcessor


def decode_data_url(url):
    import cv2

    header, _, data = url.partition(',')
    if not header.startswith('data:image/') or ';base64' not in header:
        raise ValueError(f'not a base64 image data URL: {header[:40]!r}')
    image = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError('an image that does not decode')
    return image[:, :, ::-1].copy()


def chatml(messages):
    """Return (prompt text, images) of chat messages in Qwen's chat format."""
    text, images = '', []
    for message in messages:
        content = message['content']
        if isinstance(content, str):
            body = content
        else:
            body = ''
            for part in content:
                if part['type'] == 'text':
                    body += part['text']
                elif part['type'] == 'image_url':
                    images.append(decode_data_url(part['image_url']['url']))
                    body += ImageOnlyQwenVLProcessor.VISION_BLOCK
                else:
                    raise ValueError(f'content part type {part["type"]!r}')
        text += f'<|im_start|>{message["role"]}\n{body}<|im_end|>\n'
    return text + '<|im_start|>assistant\n', images


class GRMServer:
    """Serve `grm` (a loaded VLMGRM) as `model` on 127.0.0.1; `url` is its /v1 root."""

    def __init__(self, grm, model='robodopamine-grm', api_key=''):
        self.grm, self.model, self.api_key = grm, model, api_key
        self.fail_status, self.hold, self.barrier = None, None, None
        self.requests, self.max_in_flight, self._in_flight = 0, 0, 0
        self._lock, self._model_lock = threading.Lock(), threading.Lock()
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.httpd.server_port}/v1'
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        if self.hold is not None:
            self.hold.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def complete(self, request):
        """Return the chat.completion JSON dict of a request dict (or raise ValueError)."""
        if request.get('model') != self.model:
            raise LookupError(f'model {request.get("model")!r} is not served')
        text, images = chatml(request['messages'])
        with self._model_lock:   # one generation at a time, as on one GPU
            answer = self.grm.generate_from([text], images)[0]
        return {'id': f'chatcmpl-{self.requests}', 'object': 'chat.completion',
                'created': int(time.time()), 'model': self.model,
                'choices': [{'index': 0, 'finish_reason': 'stop',
                             'message': {'role': 'assistant', 'content': answer}}],
                'usage': {'prompt_tokens': 0, 'completion_tokens': 0, 'total_tokens': 0}}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self):
                if server.api_key and self.headers.get('Authorization') != \
                        f'Bearer {server.api_key}':
                    self._reply(401, {'error': {'message': 'invalid API key'}})
                    return False
                return True

            def do_GET(self):
                if not self._authorized():
                    return
                if self.path.rstrip('/') != '/v1/models':
                    return self._reply(404, {'error': {'message': self.path}})
                self._reply(200, {'object': 'list', 'data': [
                    {'id': server.model, 'object': 'model', 'created': 0,
                     'owned_by': 'test'}]})

            def do_POST(self):
                if not self._authorized():
                    return
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                with server._lock:
                    server.requests += 1
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    if server.hold is not None:
                        server.hold.wait()
                    if server.barrier is not None:
                        try:
                            server.barrier.wait()
                        except threading.BrokenBarrierError:
                            return self._reply(500, {'error': {'message': 'alone'}})
                    if server.fail_status:
                        return self._reply(server.fail_status,
                                           {'error': {'message': 'overloaded'}})
                    try:
                        self._reply(200, server.complete(body))
                    except (LookupError, ValueError) as error:   # KeyError: a LookupError
                        self._reply(400, {'error': {'message': str(error)}})
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client gave up (its timeout)
                finally:
                    with server._lock:
                        server._in_flight -= 1

        return Handler
