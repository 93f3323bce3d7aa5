# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
grm_node with backend ``openai``: a served Qwen-VL GRM over real HTTP (issue 32 item 4).

The server is the tests' OpenAI-compatible server of the tiny Qwen2.5-VL (test/grm/
openai_server.py: transformers behind http.server, standing in for vLLM). grm_node publishes
progress from its answers, says who answered in /diagnostics, and names the server and model
in its reward contract; a server that does not answer stops it at start, naming the URL.
"""

import json
from pathlib import Path
import sys

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import QoSDurabilityPolicy, QoSProfile
from robodopamine_interfaces.msg import ProgressStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.nodes.grm_node import GRMNode
from std_msgs.msg import String
from test_grm_node import Cameras

pytest.importorskip('transformers')
pytest.importorskip('openai')
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'grm'))
from openai_server import GRMServer  # noqa: E402,I100


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    from robodopamine_ros.grm.vlm import VLMGRM
    from robodopamine_ros.grm.vlm_random import build_random_vlm

    grm = VLMGRM.load(build_random_vlm(tmp_path_factory.mktemp('vlm') / 'tiny-qwen2.5-vl'))
    served = GRMServer(grm)
    yield served
    served.close()


def served_parameters(url, goal):
    return [Parameter('backend', value='openai'), Parameter('base_url', value=url),
            Parameter('model', value='robodopamine-grm'), Parameter('task', value='insert it'),
            Parameter('goal_image', value=str(goal)), Parameter('rate', value=2.0),
            Parameter('timeout_s', value=30.0)]


@pytest.fixture
def goal(tmp_path):
    import cv2

    path = tmp_path / 'goal.png'
    cv2.imwrite(str(path), np.full((48, 64, 3), 200, np.uint8))
    return path


def test_grm_node_scores_with_a_served_grm_and_names_who_answered(ros_context, background,
                                                                  server, goal):
    node = GRMNode(context=ros_context, parameter_overrides=served_parameters(server.url, goal))
    probe = rclpy.create_node('rd_test_served', context=ros_context)
    Cameras(probe)
    progress, diagnostics, contracts = [], [], []
    probe.create_subscription(ProgressStamped, 'progress', background.collector(progress), 100)
    probe.create_subscription(DiagnosticArray, '/diagnostics', background.collector(diagnostics),
                              10)
    probe.create_subscription(String, 'robodopamine/grm_contract',
                              background.collector(contracts), QoSProfile(
                                  depth=1, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL))
    start = probe.create_client(StartEpisode, 'grm_node/start_episode')
    background.add_node(node)
    background.add_node(probe)
    wait = background.wait_until
    wait(lambda: node.online.stats.triplets > 3 and start.service_is_ready(),
         what='triplets and start_episode')
    assert background.call(start, StartEpisode.Request(), 'start_episode').success
    wait(lambda: len([p for p in progress if p.tick > 0]) >= 2, timeout=60,
         what='two ticks answered by the server')
    assert server.requests >= 6   # three queries a tick
    scored = [p for p in progress if p.tick > 0]
    assert all(0.0 <= p.progress <= 1.0 and p.inference_latency > 0 for p in scored)
    who = f'robodopamine-grm@{server.url}'
    wait(lambda: any(kv.key == 'answered_by' and kv.value == who for d in diagnostics
                     for s in d.status for kv in s.values), timeout=10,
         what='answered_by in the diagnostics')
    # This node's contract only: the domain may still hold an earlier test's grm_node.

    def served():
        return [t for t in (json.loads(c.data)['terms'] for c in list(contracts))
                if t.get('backend') == 'openai']
    wait(served, what='the served GRM contract')
    terms = served()[-1]
    assert terms['grm'] == f'openai:{who}' and terms['backend'] == 'openai'
    background.shutdown()
    node.destroy_node()
    probe.destroy_node()


def test_a_served_grm_that_does_not_answer_stops_grm_node_at_start(ros_context, goal):
    import socket

    with socket.socket() as sock:   # a port nothing listens on
        sock.bind(('127.0.0.1', 0))
        url = f'http://127.0.0.1:{sock.getsockname()[1]}/v1'
    with pytest.raises(ConnectionError, match=f'GRM server {url}: no answer'):
        GRMNode(context=ros_context, parameter_overrides=served_parameters(url, goal))
    with pytest.raises(ValueError, match='backend openai needs the task'):
        GRMNode(context=ros_context, parameter_overrides=[
            p for p in served_parameters(url, goal) if p.name != 'task'])
