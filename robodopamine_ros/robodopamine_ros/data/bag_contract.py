# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The reward contract a recording was scored under, as the bag holds it (ROS-free).

Two places, read in this order (docs/method.md#the-reward-contract):

- metadata.yaml custom_data ``robodopamine.reward_contract``: the contract's JSON, where a
  writer given it put it at its clean close (data/bag_writer.py EpisodeBagWriter ``custom_data``;
  the nodes do not write it: their recordings carry the topic below);
- the topic ``/robodopamine/reward_contract`` (std_msgs/String, JSON): what rl_agent_node
  publishes (transient local), recorded like any topic; the newest message wins. It survives a
  recorder killed before its metadata.yaml.

The text is returned as recorded; reward/contract.py reads it (untrusted input). None when the
bag holds neither: a recording not scored by a GRM (a demonstration in collect mode).
"""

CONTRACT_KEY = 'robodopamine.reward_contract'
CONTRACT_TOPIC = '/robodopamine/reward_contract'
STRING = 'std_msgs/msg/String'


def recorded_contract_text(path, storage='auto', distro='jazzy'):
    """
    Return (the contract's JSON text, where it was found) of a bag, or (None, None).

    where: ``<metadata.yaml> custom_data robodopamine.reward_contract`` or ``<bag> topic
    /robodopamine/reward_contract``. Raises BagError naming the bag for the topic with another
    type than std_msgs/String, or a bag that does not read.
    """
    from robodopamine_ros.data.bag_location import bag_custom_data, BagError, locate, \
        open_reader
    from robodopamine_ros.data.interfaces import deserialize, typestore

    custom = bag_custom_data(path, storage)
    location = locate(path, storage)
    if CONTRACT_KEY in custom:
        return custom[CONTRACT_KEY], f'{location.folder}/metadata.yaml custom_data {CONTRACT_KEY}'
    newest = None
    with open_reader(location) as reader:
        connections = [c for c in reader.connections if c.topic == CONTRACT_TOPIC]
        for connection in connections:
            if connection.msgtype != STRING:
                raise BagError(f'{location.path}: topic {CONTRACT_TOPIC} has type '
                               f'{connection.msgtype}, expected {STRING}')
        if connections:
            store = typestore(distro)
            try:
                for _, stamp, raw in reader.messages(connections=connections):
                    if newest is None or stamp >= newest[0]:
                        newest = (stamp, deserialize(store, raw, STRING).data)
            except Exception as error:   # rosbags raises several types for broken bags
                raise BagError(f'{location.path}: bag is truncated or corrupt while reading '
                               f'{CONTRACT_TOPIC} ({type(error).__name__}: {error})') from error
    if newest is None:
        return None, None
    return newest[1], f'{location.path} topic {CONTRACT_TOPIC}'
