# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
grm_refresh_node: refresh the GRM every ``every`` episodes that grm_node keeps.

The refresh: docs/method.md#refresh-on-the-robots-own-episodes (grm/refresh.py). grm_node
keeps each episode as a bag in ``episodes_dir`` (with its outcome label); this node counts
them once a second and, every ``every`` of them, re-trains the compact GRM in ``model_dir``
in a thread of its own (rl/grm_refresh_loop.py RefreshWatch), on the CPU with ``threads``
torch threads, so neither its timer nor the control loop (another process) waits for it. A
new GRM that checks at least as well on held-out labelled episodes is swapped into
``model_dir`` whole; grm_node loads it at its next episode and says so. Each attempt is a
log line and a row of ``<log_dir>/grm_refreshes.csv`` (default log_dir: the episodes
folder's parent); a failed one keeps the current GRM. Its state goes out on /diagnostics.
``demo``: the demonstration to train on beside the episodes (default: the one the GRM was
adapted on, from its config.json). franka_insertion.launch.py starts it with
``grm_refresh_every:=N`` in ``mode:=train``.
"""

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from robodopamine_ros.grm.refresh import RefreshConfig
from robodopamine_ros.nodes.parameters import declare_parameter, refuse_parameter_changes
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.rl.grm_refresh_loop import watch_episodes

SETTINGS = ('every', 'steps', 'lr', 'pool', 'holdout_every', 'min_episodes', 'max_frames',
            'success_hold_s', 'success_min_agreement', 'seed')


class GRMRefreshNode(Node):

    def __init__(self, **kwargs):
        super().__init__('grm_refresh_node', **kwargs)
        p = {name: declare_parameter(self, name, default) for name, default in (
            ('model_dir', ''), ('episodes_dir', ''), ('log_dir', ''), ('demo', ''),
            ('threads', 1))}
        defaults = RefreshConfig()
        config = RefreshConfig(**{name: declare_parameter(self, name, getattr(defaults, name))
                                  for name in SETTINGS})
        for name in ('model_dir', 'episodes_dir'):
            if not p[name]:
                raise ValueError(f'parameter {name} is empty: grm_refresh_node refreshes the '
                                 'GRM in model_dir from the episode bags in episodes_dir')
        if config.every < 1 or p['threads'] < 1:
            raise ValueError(f'parameters every and threads must be >= 1, got every '
                             f'{config.every}, threads {p["threads"]}')
        import torch
        torch.set_num_threads(p['threads'])
        self.watch = watch_episodes(p['model_dir'], p['episodes_dir'], config, p['log_dir'],
                                    p['demo'], log=self.get_logger().info)
        refuse_parameter_changes(self)
        self.get_logger().info(f'refreshing {p["model_dir"]} every {config.every} episodes of '
                               f'{p["episodes_dir"]} (next after {self.watch.next_due})')
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        node_timer(self, 1.0, self._tick)

    def _tick(self):
        started = self.watch.poll()
        if started is not None:
            self.get_logger().info(f'{started} episodes kept: refreshing the GRM')
        last = self.watch.last
        status = DiagnosticStatus(name='grm_refresh_node: GRM refresh', hardware_id='grm')
        status.level = DiagnosticStatus.OK
        status.message = 'refreshing' if self.watch.running else \
            f'next after {self.watch.next_due} episodes'
        values = {'episodes': self.watch.episodes, 'next_due': self.watch.next_due,
                  'running': self.watch.running,
                  'last': '' if last is None else last.reason,
                  'last_accepted': '' if last is None else last.accepted}
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)

    def destroy_node(self):
        if not self.watch.join(timeout=0.0):   # it writes beside model_dir: nothing half done
            self.get_logger().info('a GRM refresh was running: it ends here, the GRM in '
                                   'model_dir stays as it was')
        super().destroy_node()


def main(args=None):
    run(GRMRefreshNode, 'grm_refresh_node', args)


if __name__ == '__main__':
    main()
