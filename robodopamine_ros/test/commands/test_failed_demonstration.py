# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A recording whose demonstration failed is marked in the bag (issue 30 item 1).

The simulator's ``sim_robot/success`` (std_msgs/Bool) is recorded in collect mode; demo-info
shows the verdict, and adapt refuses a failed demonstration unless --force.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.commands.adapt import check_demonstration
from robodopamine_ros.data import bag_writer, bags
from robodopamine_ros.data.topics import VIEWS
import yaml

CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'sim_insertion.yaml'


def write_bag(path, episode, success_values):
    """Write a small recording; success_values: the Bools on sim_robot/success (None: none)."""
    with bag_writer.EpisodeBagWriter(path, storage='mcap') as writer:
        for index, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][index] for v in VIEWS})
        for k, value in enumerate(success_values or ()):
            msg = writer.store.types[bags.BOOL](data=value)
            writer.write_raw('/sim_robot/success', bags.BOOL,
                             writer.store.serialize_cdr(msg, bags.BOOL),
                             int(episode.stamps[min(k, len(episode.stamps) - 1)]))
    return path


@pytest.mark.parametrize('values, verdict', [([False, False, False], False),
                                             ([False, True], True), (None, None)])
def test_the_recorded_verdict_is_read_and_shown(values, verdict, make_episode, tmp_path, capsys):
    path = write_bag(tmp_path / 'demo', make_episode(streams=False), values)
    assert bags.recorded_success(path) is verdict
    assert cli.main(['demo-info', str(path)]) == 0
    out = capsys.readouterr().out
    if verdict is None:
        assert 'demonstration:' not in out   # a real arm's recording: no ground truth
    else:
        assert ('demonstration: FAILED' in out) == (verdict is False)
        assert ('demonstration: succeeded' in out) == (verdict is True)
    assert cli.main(['demo-info', str(path), '--json']) == 0
    assert json.loads(capsys.readouterr().out)['demonstration_succeeded'] is verdict


def test_adapt_refuses_a_failed_demonstration_unless_forced(make_episode, tmp_path, capsys):
    path = write_bag(tmp_path / 'failed', make_episode(streams=False), [False] * 3)
    assert cli.main(['adapt', str(path), '-o', str(tmp_path / 'grm'), '--quick']) == 1
    err = capsys.readouterr().err
    assert 'the demonstration failed' in err and '--force' in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / 'grm').exists()
    check_demonstration(path, bags.ReadOptions(), force=True)   # forced: a warning, no error
    assert 'adapting on it anyway' in capsys.readouterr().out
    good = write_bag(tmp_path / 'good', make_episode(streams=False), [False, True])
    check_demonstration(good, bags.ReadOptions())               # a success passes silently
    assert capsys.readouterr().out == ''


def test_the_default_layout_is_one_the_scripted_expert_solves():
    """The README's `mode:=collect autopilot:=expert` records the default layout."""
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    seed = yaml.safe_load(CONFIG.read_text())['sim_robot_node']['ros__parameters']['seed']
    sim = PegInsertionSim(render_images=False, max_steps=200)
    try:
        obs, _ = sim.reset(seed=seed)
        success = False
        while not success and sim.steps < sim.max_steps:
            obs, _, success, _, _ = sim.step(np.clip(sim.expert_action(obs), -1.0, 1.0))
    finally:
        sim.close()
    assert success, f'the scripted expert fails on the default layout seed {seed}'
