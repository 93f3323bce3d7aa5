# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
franka_insertion.launch.py's ``grm_refresh_every:=N`` (issue 31 item 5).

Resolved without starting: grm_node scores with a copy of model_dir in <log_dir>/grm and keeps
each episode in <log_dir>/episodes; grm_refresh_node refreshes that copy; model_dir and
rl_agent_node's frozen encoder are never touched; settings that cannot work are refused. Then
through the real ``ros2 launch`` with the scripted operator: episodes become bags, the refresh
runs in its own process while episodes go on, and grm_node scores the next episode with the
refreshed GRM and says so.
"""

import json
from pathlib import Path
import re

import pytest

pytest.importorskip('launch_ros')   # as test_launch_description (conftest: the launch tier)

from launch_tools import private_domain, Ros2  # noqa: E402,I100
from robodopamine_ros.reward.contract import grm_content_hash  # noqa: E402
from test_launch_description import parameters, resolve, SIM_LOOP  # noqa: E402
from test_ros2_launch import Listener, short_episodes_params  # noqa: E402
import yaml  # noqa: E402,I100


def compact_grm(folder, demo=''):
    """Write a small compact GRM (random weights); its config names `demo` as its own."""
    import numpy as np
    from robodopamine_ros.grm.compact import CompactGRM

    refs = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 255, np.uint8)]
    CompactGRM.create(task='insert the peg').save(folder, refs)
    if demo:
        config = json.loads((folder / 'config.json').read_text())
        (folder / 'config.json').write_text(json.dumps(dict(config, training={'demo': demo})))
    return folder


def test_grm_refresh_every_adds_the_refresh_beside_the_loop_on_a_copy_of_the_grm(tmp_path):
    model = compact_grm(tmp_path / 'grm1')
    shared = grm_content_hash(model)
    logs = tmp_path / 'logs'
    nodes, _ = resolve(model_dir=str(model), log_dir=str(logs), grm_refresh_every='')
    assert set(nodes) == SIM_LOOP and not logs.exists()    # '' (the default): none
    nodes, _ = resolve(model_dir=str(model), log_dir=str(logs), grm_refresh_every='7')
    assert set(nodes) == SIM_LOOP | {'grm_refresh_node'}
    grm, refresh = parameters(*nodes['grm_node']), parameters(*nodes['grm_refresh_node'])
    agent = parameters(*nodes['rl_agent_node'])
    live = logs / 'grm'
    assert grm['model_dir'] == refresh['model_dir'] == str(live)
    assert grm['episodes_dir'] == refresh['episodes_dir'] == str(logs / 'episodes')
    assert grm['operator_labels'] is True and refresh['every'] == 7
    assert refresh['log_dir'] == str(logs)
    assert agent['grm_dir'] == str(model)     # the policy's frozen encoder stays the original
    assert grm_content_hash(live) == grm_content_hash(model) == shared
    assert nodes['grm_refresh_node'][0]._ExecuteLocal__respawn is True
    # the same log folder later, with the GRM refreshed there: the copy goes on
    (live / 'config.json').write_text((live / 'config.json').read_text() + '\n')
    resolve(model_dir=str(model), log_dir=str(logs), grm_refresh_every='7')
    assert grm_content_hash(live) != shared and grm_content_hash(model) == shared


def test_grm_refresh_every_is_refused_where_it_cannot_work(tmp_path):
    model = compact_grm(tmp_path / 'grm1')
    logs = str(tmp_path / 'logs')
    with pytest.raises(RuntimeError, match="grm_refresh_every:='x' is not valid"):
        resolve(model_dir=str(model), log_dir=logs, grm_refresh_every='x')
    for arguments in ({'mode': 'eval'}, {'agent': 'false'}, {'success': 'detector'}):
        with pytest.raises(RuntimeError, match='grm_refresh_every:=5 refreshes the GRM on the '
                                               "operator's outcome labels"):
            resolve(model_dir=str(model), log_dir=logs, grm_refresh_every='5', **arguments)
    with pytest.raises(RuntimeError, match='no config.json'):
        resolve(model_dir=str(tmp_path / 'none'), log_dir=logs, grm_refresh_every='5')
    resolve(model_dir=str(model), log_dir=logs, grm_refresh_every='5')
    other = compact_grm(tmp_path / 'grm2')   # another model into the same log folder
    with pytest.raises(RuntimeError, match='is the refreshed copy of .*grm1.*, not of .*grm2'):
        resolve(model_dir=str(other), log_dir=logs, grm_refresh_every='5')


def demo_bag(folder):
    """Write a 30-frame demonstration bag with two keyframed sub-tasks; return its path."""
    import numpy as np
    from robodopamine_ros.data.bag_writer import write_episode
    from robodopamine_ros.data.episode import Episode
    from robodopamine_ros.data.keyframes import Segment
    from robodopamine_ros.data.topics import VIEWS

    rng = np.random.default_rng(0)
    stamps = 1_700_000_000 * 10**9 + np.arange(30, dtype=np.int64) * 33_333_333
    views = {view: rng.integers(0, 256, size=(30, 48, 64, 3), dtype=np.uint8)
             for view in VIEWS}
    demo = Episode(episode_id='demo', stamps=stamps, views=views, streams={})
    demo.keyframes = [Segment(0, 14), Segment(14, 29)]
    return write_episode(folder, demo, storage='mcap')


POLICY = Path(__file__).resolve().parents[2] / 'config' / 'sros2_policy.xml'
# what only the simulated robot's graph has: its own topics, the simulated hand pose (on the
# real arm franka_robot_state_broadcaster/current_pose), and the scripted operator's services
SIM_ONLY = {'sim_robot/success', 'sim_robot/expert_action', 'robodopamine/ee_pose',
            'sim_robot_node/reset'}


def policy_rules():
    """Return {node: {(kind, qualifier, name)}} of the shipped SROS2 policy's ALLOW rules."""
    from xml.etree import ElementTree

    rules = {}
    root = ElementTree.parse(POLICY).getroot()
    for profile in root.iterfind('contexts/context/profiles/profile'):
        for group in profile:
            for qualifier in group.attrib:
                rules.setdefault(profile.get('node'), set()).update(
                    (group.tag, qualifier, item.text) for item in group)
    return rules


def graph_uses(node, name):
    """
    Return {(kind, qualifier, name)}: what node `name` uses on the running graph.

    As the policy writes them: relative names, the node's own services as ~name.
    """
    uses = set()
    for kind, qualifier, query in (
            ('topics', 'publish', node.get_publisher_names_and_types_by_node),
            ('topics', 'subscribe', node.get_subscriber_names_and_types_by_node),
            ('services', 'reply', node.get_service_names_and_types_by_node),
            ('services', 'request', node.get_client_names_and_types_by_node)):
        for topic, _ in query(name, '/'):
            own = f'/{name}/'
            topic = '~' + topic[len(own):] if topic.startswith(own) else topic.lstrip('/')
            if topic not in SIM_ONLY:
                uses.add((kind, qualifier, topic))
    return uses


LOG_TIME = re.compile(r'\[(\d+\.\d+)\] \[grm_refresh_node\]: (.*)')


def test_ros2_launch_refreshes_the_grm_beside_the_training_loop(tmp_path):
    model = compact_grm(tmp_path / 'grm1', str(demo_bag(tmp_path / 'demo')))
    shared = grm_content_hash(model)
    params_file = short_episodes_params(tmp_path)
    params = yaml.safe_load(params_file.read_text())
    params['grm_refresh_node'] = {'ros__parameters': {'steps': 20, 'min_episodes': 2}}
    params_file.write_text(yaml.safe_dump(params))
    logs = tmp_path / 'logs'
    domain = private_domain()
    listener = Listener(domain)
    contracts = []
    from rclpy.qos import QoSDurabilityPolicy, QoSProfile
    from std_msgs.msg import String
    listener.node.create_subscription(
        String, '/robodopamine/grm_contract', lambda m: contracts.append(json.loads(m.data)),
        QoSProfile(depth=10, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL))
    launch = Ros2(['launch', 'robodopamine_ros', 'franka_insertion.launch.py',
                   f'model_dir:={model}', f'params_file:={params_file}', f'log_dir:={logs}',
                   f'checkpoint_dir:={tmp_path / "ckpt"}', 'operator:=scripted',
                   'success:=either', 'grm_refresh_every:=4'],
                  domain, tmp_path / 'launch.log', cwd=tmp_path)
    try:
        got = listener.received
        listener.spin_until(lambda: 'GRM refresh after episode' in launch.output(), 240,
                            'the first GRM refresh')
        refreshed_at = len(got['summary'])
        # the refresh ran in its own process: grm_node scores, the agent acts meanwhile
        listener.spin_until(lambda: len(got['summary']) >= refreshed_at + 2, 120,
                            'two episodes after the refresh')
        row = (logs / 'grm_refreshes.csv').read_text().splitlines()[1].split(',')
        episode, accepted = int(row[0]), row[1] == 'True'
        live = grm_content_hash(logs / 'grm')
        if accepted:   # grm_node took it at the next episode's start, said so, and published
            listener.spin_until(lambda: contracts and contracts[-1]['terms']['grm'] == live, 30,
                                "the refreshed GRM's contract")
            swapped = f'GRM swapped between episodes: {shared[:23]} -> {live[:23]}'
            assert swapped in launch.output(), launch.output()[-3000:]
        else:
            assert live == shared
        # the refresh's window (its log lines' wall clock) saw rewards: the loop went on
        times = {}
        for stamp, line in LOG_TIME.findall(launch.output()):
            if 'kept: refreshing the GRM' in line:
                times.setdefault('start', float(stamp))
            elif line.startswith('GRM refresh after episode'):
                times.setdefault('end', float(stamp))
        during = [m for _, m in got['reward'] if times['start'] <=
                  m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 <= times['end']]
        print(f'\nrefresh after episode {episode}: {times["end"] - times["start"]:.1f} s, '
              f'accepted {accepted}, {len(during)} rewards meanwhile')
        assert episode >= 4 and (times['end'] - times['start'] < 1.0 or during)
        assert grm_content_hash(model) == shared     # the user's model_dir is never written
        assert len(list((logs / 'episodes').iterdir())) >= episode
        # the shipped SROS2 policy allows each node of ours what it does on this graph
        rules = policy_rules()
        missing = {name: sorted(graph_uses(listener.node, name) - rules.get(name, set()))
                   for name in ('grm_node', 'shaping_node', 'rl_agent_node', 'teleop_node',
                                'grm_refresh_node')}
        assert not any(missing.values()), f'{POLICY.name} lacks: {missing}'
        assert launch.interrupt(timeout=15.0) is not None
        assert 'process has died' not in launch.output(), launch.output()[-3000:]
    finally:
        launch.kill()
        listener.close()
