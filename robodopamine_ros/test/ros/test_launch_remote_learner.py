# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Two simulated arms and one learner, each through its own real ``ros2 launch`` (issue 32 item 3).

As on three machines: ``franka_insertion.launch.py learner:=remote namespace:=arm1`` and
``... namespace:=arm2`` (each its own simulated robot, GRM, shaping and agent), and
``learner.launch.py`` (learner_node), three process trees in one ROS domain. Episodes of both
arms reach the learner, and its weights reach both arms. The launch arguments are resolved
first: learner:=remote makes rl_agent_node an actor, and settings that cannot work are refused.
"""

import pytest

pytest.importorskip('launch_ros')   # as test_launch_description (conftest: the launch tier)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402,I100
from launch_tools import private_domain, Ros2  # noqa: E402
from test_launch_description import parameters, resolve  # noqa: E402
from test_launch_grm_refresh import compact_grm  # noqa: E402
from test_ros2_launch import Listener, short_episodes_params  # noqa: E402
import yaml  # noqa: E402,I100


def test_learner_remote_makes_the_agent_an_actor_and_is_refused_where_it_cannot_work(tmp_path):
    model = str(compact_grm(tmp_path / 'grm1'))
    nodes, _ = resolve(model_dir=model, learner='remote', namespace='arm1')
    agent = parameters(*nodes['rl_agent_node'])
    assert agent['learner'] == 'remote' and 'learner_node' not in nodes
    assert parameters(*resolve(model_dir=model)[0]['rl_agent_node']).get(
        'learner', 'local') == 'local'   # one machine works as before
    for arguments, why in (({'mode': 'eval'}, 'mode:=eval'), ({'demos': 'demo1'}, 'demos:=demo1'),
                           ({'agent': 'false'}, 'agent:=false')):
        with pytest.raises(RuntimeError, match=f'learner:=remote .*{why}'):
            resolve(model_dir=model, learner='remote', **arguments)
    with pytest.raises(RuntimeError, match="launch argument learner:='cloud' is not valid"):
        resolve(model_dir=model, learner='cloud')


def remote_status(diagnostics, node):
    """Return the newest 'remote learner' status of `node` (its full name): {key: value}."""
    for array in reversed(diagnostics):
        for status in array.status:
            if status.name == f'{node}: remote learner':
                return {kv.key: kv.value for kv in status.values}
    return {}


def learner_counts(diagnostics):
    """Return the newest learner_node status values, {key: value} ({} before the first)."""
    for array in reversed(diagnostics):
        for status in array.status:
            if status.name == '/learner_node: learner':
                return {kv.key: kv.value for kv in status.values}
    return {}


def test_two_arms_feed_one_learner_through_ros2_launch_and_both_get_its_weights(tmp_path):
    model = compact_grm(tmp_path / 'grm1')
    params_file = short_episodes_params(tmp_path, steps=8)
    params = yaml.safe_load(params_file.read_text())
    params['rl_agent_node']['ros__parameters'].update(
        pretrain_updates=0, offline_updates=0, batch_size=16)
    params['learner_node'] = {'ros__parameters': {'weights_rate': 2.0, 'checkpoint_every': 1}}
    params_file.write_text(yaml.safe_dump(params))
    domain = private_domain()
    listener = Listener(domain)
    diagnostics = []
    listener.node.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 100)
    common = [f'model_dir:={model}', f'params_file:={params_file}', 'learner:=remote',
              'joy:=false']
    arms = {arm: Ros2(['launch', 'robodopamine_ros', 'franka_insertion.launch.py', *common,
                       f'namespace:={arm}', f'log_dir:={tmp_path / arm / "logs"}',
                       f'checkpoint_dir:={tmp_path / arm / "ckpt"}'],
                      domain, tmp_path / f'{arm}.log', cwd=tmp_path)
            for arm in ('arm1', 'arm2')}
    learner = Ros2(['launch', 'robodopamine_ros', 'learner.launch.py',
                    f'params_file:={params_file}', f'checkpoint_dir:={tmp_path / "learner"}'],
                   domain, tmp_path / 'learner.log', cwd=tmp_path)
    launches = [learner, *arms.values()]

    def output():
        return '\n'.join(f'--- {name}\n{launch.output()[-2500:]}' for name, launch in
                         (('learner', learner), *arms.items()))
    try:
        def both_stored():
            counts = learner_counts(diagnostics)
            return all(int(counts.get(f'{arm} stored', 0)) >= 2 for arm in arms)
        listener.spin_until(both_stored, 300, 'two episodes of each arm at the learner')
        counts = learner_counts(diagnostics)
        assert all(counts[f'{arm} refused'] == '0' for arm in arms), counts

        def both_updated():   # each arm's own count of acknowledged episodes, too
            return all(remote_status(diagnostics, f'/{arm}/rl_agent_node').get(
                'weights_version', 'initial') not in ('initial', '0') and int(remote_status(
                    diagnostics, f'/{arm}/rl_agent_node').get('episodes_stored', 0)) >= 2
                for arm in arms)
        listener.spin_until(both_updated, 120, "the learner's weights at both arms")
        stored = sum(int(learner_counts(diagnostics)[f'{arm} stored']) for arm in arms)
        listener.spin_until(lambda: sum(int(learner_counts(diagnostics)[f'{arm} stored'])
                                        for arm in arms) >= stored + 2, 120,
                            'episodes of the arms acting on those weights')
        for arm in arms:
            status = remote_status(diagnostics, f'/{arm}/rl_agent_node')
            assert status['robot_id'] == arm and status['episodes_refused'] == '0'
        for launch in launches:
            assert launch.interrupt(timeout=30.0) is not None, output()
        assert 'process has died' not in output(), output()
        assert 'control tick failed' not in output(), output()   # they acted on the weights
        assert (tmp_path / 'learner' / 'checkpoint.pt').is_file()
    finally:
        for launch in launches:
            launch.kill()
        listener.close()
