# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The ``openai`` GRM backend (grm/served.py) against a local OpenAI-compatible server.

The server (openai_server.py) serves the tiny Qwen2.5-VL the tests build, through
transformers, over real HTTP on loopback. The backend must ask it what the in-process backend
asks the same model, the three queries of a tick at once; a fault is "no answer", never 0.
"""

import math
import threading

import numpy as np
import pytest

pytest.importorskip('transformers')
pytest.importorskip('openai')

from openai_server import chatml, GRMServer  # noqa: E402,I100
from robodopamine_ros.grm.base import GRMQuery, ProgressEstimator  # noqa: E402
from robodopamine_ros.grm.served import chat_turns, cut_answer, ServedGRM  # noqa: E402
from robodopamine_ros.grm.vlm import VLMGRM  # noqa: E402
from robodopamine_ros.grm.vlm_random import build_random_vlm  # noqa: E402


@pytest.fixture(scope='module')
def local(tmp_path_factory):
    return VLMGRM.load(build_random_vlm(tmp_path_factory.mktemp('vlm') / 'tiny-qwen2.5-vl'))


@pytest.fixture
def server(local):
    served = GRMServer(local, api_key='secret-key')
    yield served
    served.close()


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv('GRM_TEST_KEY', 'secret-key')
    return 'GRM_TEST_KEY'


def queries(seed=0, size=(48, 64)):
    rng = np.random.default_rng(seed)

    def image():
        return rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
    views = [tuple(image() for _ in range(3)) for _ in range(3)]
    start, end = image(), image()
    return [GRMQuery('insert the peg', start, end, before, views[2]) for before in views[:2]] \
        + [GRMQuery('insert the peg', start, end, (end, end, end), views[2])]


def test_the_served_grm_asks_what_the_in_process_grm_asks_and_reads_it_alike(
        local, server, api_key):
    remote = ServedGRM(server.url, 'robodopamine-grm', api_key_env=api_key, timeout_s=60.0)
    batch = queries()
    hops = remote.hops(batch)
    # the server's prompt of each query is the in-process prompt, its images the same pixels
    prompt, images = chatml(remote.messages(batch[0]))
    assert prompt == local.prompt(batch[0])
    assert len(images) == 8 and all(np.array_equal(a, b) for a, b in zip(
        images, (batch[0].reference_start, batch[0].reference_end, *batch[0].before,
                 *batch[0].after)))
    expected = [cut_answer(text) for text in local.generate_text(batch)]
    assert remote.last_texts == expected
    expected_hops = local.hops(batch)
    assert np.array_equal(np.isnan(hops), np.isnan(expected_hops))
    assert np.allclose(hops[~np.isnan(hops)], expected_hops[~np.isnan(expected_hops)])
    assert remote.last_source == f'robodopamine-grm@{server.url}' and remote.failures == 0
    # a tick records who answered
    estimator = ProgressEstimator(remote, 'insert the peg', batch[0].reference_start,
                                  batch[0].reference_end)
    estimator.start(batch[0].before)
    assert estimator.tick(batch[0].after).source == remote.last_source
    remote.close()


def test_the_three_queries_of_a_tick_go_at_once(server, api_key):
    remote = ServedGRM(server.url, 'robodopamine-grm', api_key_env=api_key, timeout_s=60.0)
    server.barrier = threading.Barrier(3, timeout=20.0)   # each waits for the other two
    remote.hops(queries())
    assert server.requests == 3 and server.max_in_flight == 3 and remote.failures == 0
    remote.close()


def test_a_timeout_or_an_http_error_is_no_answer_never_a_zero_hop(server, api_key):
    remote = ServedGRM(server.url, 'robodopamine-grm', api_key_env=api_key, timeout_s=0.5)
    server.hold = threading.Event()          # the server does not answer in time
    hops = remote.hops(queries())
    assert np.isnan(hops).all() and remote.failures == 3
    assert 'APITimeoutError' in remote.last_error and remote.last_source == ''
    server.hold.set()
    server.hold, server.fail_status = None, 503
    hops = remote.hops(queries())
    assert np.isnan(hops).all() and remote.failures == 6 and '503' in remote.last_error
    server.fail_status = None
    estimator = ProgressEstimator(remote, 'insert the peg', *queries()[0].before[:2])
    server.fail_status = 500
    estimator.start(queries()[0].before)
    tick = estimator.tick(queries()[0].after)
    assert all(math.isnan(h) for h in tick.hops)   # no answer: not a hop of 0
    remote.close()


def test_a_server_that_cannot_be_used_is_one_error_at_start_naming_it(server, api_key,
                                                                      monkeypatch):
    import socket

    with socket.socket() as sock:   # a port nothing listens on
        sock.bind(('127.0.0.1', 0))
        refused = f'http://127.0.0.1:{sock.getsockname()[1]}/v1'
    with pytest.raises(ConnectionError, match=f'GRM server {refused}: no answer'):
        ServedGRM(refused, 'robodopamine-grm', timeout_s=2.0)
    with pytest.raises(ValueError, match=f"{server.url} does not serve model 'other'.*"
                                         "'robodopamine-grm'"):
        ServedGRM(server.url, 'other', api_key_env=api_key)
    with pytest.raises(ConnectionError, match='answered HTTP 401'):   # no key, wrong key
        ServedGRM(server.url, 'robodopamine-grm')
    monkeypatch.delenv(api_key)
    with pytest.raises(ValueError, match='api_key_env names GRM_TEST_KEY, which is not set'):
        ServedGRM(server.url, 'robodopamine-grm', api_key_env=api_key)
    with pytest.raises(ValueError, match='needs base_url'):
        ServedGRM('', 'robodopamine-grm')
    with pytest.raises(ValueError, match='timeout_s must be'):
        ServedGRM(server.url, 'robodopamine-grm', timeout_s=0.0)


def test_the_templates_turns_become_chat_messages():
    prompt = ('<|im_start|>system\nA judge.<|im_end|>\n<|im_start|>user\nTask: x<|im_end|>\n'
              '<|im_start|>assistant\n')
    assert chat_turns(prompt) == [('system', 'A judge.'), ('user', 'Task: x')]
    assert chat_turns('Task: x, no turns') == [('user', 'Task: x, no turns')]
    with pytest.raises(ValueError, match='text outside its <|im_start|> turns'):
        chat_turns(prompt + 'trailing words')
    assert cut_answer('<score>+5.0%</score><score>') == '<score>+5.0%</score>'
    assert cut_answer('<score>+5.0') == '<score>+5.0'
