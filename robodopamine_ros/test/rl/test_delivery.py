# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Episodes from actors to a learner, none lost and none stored twice (rl/delivery.py)."""

import pytest
from robodopamine_ros.rl.delivery import Inbox, Outbox, OutboxFull


def uid(k):
    return f'{k:032x}'


def test_the_outbox_keeps_episodes_until_acknowledged_across_restarts_and_is_bounded(
        tmp_path):
    box = Outbox(tmp_path / 'out', capacity=3)
    for k in range(3):
        box.put(uid(k), b'episode %d' % k)
    assert box.full
    with pytest.raises(OutboxFull, match='3 episodes wait for the learner'):
        box.put(uid(9), b'nine')
    box.acknowledge(uid(1))
    box.acknowledge(uid(5))          # an unknown uid (a late second ack) is ignored
    box.put(uid(3), b'episode 3')
    again = Outbox(tmp_path / 'out', capacity=3)      # the actor restarted
    assert again.pending() == [(uid(0), b'episode 0'), (uid(2), b'episode 2'),
                               (uid(3), b'episode 3')]
    with pytest.raises(ValueError, match='not 32 hex digits'):
        Outbox(tmp_path / 'other').put('../escape', b'x')


def test_the_inbox_stores_each_uid_once_and_survives_a_restart_between_checkpoints(tmp_path):
    inbox = Inbox(tmp_path / 'in')
    assert inbox.receive(uid(1), b'one') and inbox.receive(uid(2), b'two')
    assert not inbox.receive(uid(1), b'one')           # sent again: acknowledged, not stored
    inbox.saved([uid(1)])                              # a checkpoint holds episode 1
    assert not inbox.receive(uid(1), b'one')
    # kill -9 here: the checkpoint's ledger has 1, the journal 2 (and a stale 1 it may keep)
    (tmp_path / 'in' / f'{9:010d}_{uid(1)}.episode').write_bytes(b'one')
    restarted = Inbox(tmp_path / 'in', ledger=[uid(1)])
    assert restarted.unsaved() == [(uid(2), b'two')]   # replayed into the buffers
    assert not restarted.receive(uid(2), b'two') and not restarted.receive(uid(1), b'one')
    assert restarted.receive(uid(3), b'three')
    assert [u for u, _ in restarted.unsaved()] == [uid(2), uid(3)]
