"""What `vitrina status` / `broker status` say about an external cluster's partitions.

Seen on the cluster: with one of three brokers killed, `status` said "kafka up 2 broker(s),
controller 1" (165 partitions under-replicated), with two killed the same "up" while every
write waited; and the controller it named was the metadata's, on KRaft a random broker
(1, then 3, then 1 while node 3 led the quorum).
"""

from __future__ import annotations

from confluent_kafka.admin import PartitionMetadata, TopicMetadata

from vitrina.kafka.admin import ClusterView, partition_health


def partition(leader: int, replicas: list[int], isrs: list[int]) -> PartitionMetadata:
    p = PartitionMetadata()
    p.leader, p.replicas, p.isrs = leader, replicas, isrs
    return p


def topics(*parts: PartitionMetadata) -> dict[str, TopicMetadata]:
    t = TopicMetadata()
    t.partitions = dict(enumerate(parts))
    return {"shop-products": t}


def test_partition_health_names_what_refuses_writes() -> None:
    healthy = partition(1, [1, 2, 3], [1, 2, 3])
    one_down = partition(1, [1, 2, 3], [1, 2])
    two_down = partition(1, [1, 2, 3], [1])
    leaderless = partition(-1, [1, 2, 3], [])
    assert partition_health(topics(healthy), 2) == (0, 0, 0)
    assert partition_health(topics(healthy, one_down), 2) == (1, 0, 0)
    assert partition_health(topics(one_down, two_down, leaderless), 2) == (3, 1, 1)
    # a single-node cluster (embedded broker: RF 1) is never below its own replica count
    assert partition_health(topics(partition(1, [1], [1])), 2) == (0, 0, 0)


def test_cluster_view_says_no_controller_and_what_is_wrong() -> None:
    view = ClusterView("b:1", {1: "h:1", 2: "h:2"}, 12, 165, 0, 0)
    assert not hasattr(view, "controller")
    assert view.health == "165 under-replicated"
    assert ClusterView("b:1", {1: "h:1"}, 12).health == ""
    stalled = ClusterView("b:1", {1: "h:1"}, 12, 165, 160, 0).health
    assert stalled.startswith("160 partition(s) below min.insync.replicas")


def test_brokers_listed_but_silent_are_named_and_writes_said_to_wait() -> None:
    # Two of three KRaft nodes killed: no quorum, the survivor's metadata still lists node 2
    # with every ISR intact, and `status` said "kafka up 2 broker(s)" with exit 0.
    view = ClusterView("b:1", {1: "h:1", 2: "h:2"}, 12, 165, 0, 0, silent=(2,), min_insync=2)
    assert view.writes_wait
    assert view.health.startswith("broker(s) 2 listed but not answering — fewer than")
    one_down = ClusterView("b:1", {1: "h:1", 2: "h:2"}, 12, 165, 0, 0, min_insync=2)
    assert not one_down.writes_wait


def test_one_node_of_three_down_is_degraded_and_named_two_is_down() -> None:
    """Operator review of 9d56bff: with one of three brokers killed (RF 3, min.insync 2,
    writes going on) `cluster status` said "kafka down"."""
    from vitrina.cli.cluster import exit_code, status_line
    from vitrina.cluster.kafka import serving
    from vitrina.cluster.process import DEGRADED, DOWN, UP, ComponentStatus

    def kafka(answering: dict[int, bool]) -> ComponentStatus:
        serves, down = serving(answering, min_insync=2)
        return ComponentStatus("kafka", not down, serves, "b:1", nodes_down=down)

    healthy = kafka({1: True, 2: True, 3: True})
    one_down = kafka({1: True, 2: False, 3: True})
    two_down = kafka({1: False, 2: False, 3: True})
    assert (healthy.health, one_down.health, two_down.health) == (UP, DEGRADED, DOWN)
    assert "degraded (node(s) 2 down)" in status_line(one_down)
    assert "down (node(s) 1, 2 down)" in status_line(two_down)
    assert [exit_code([UP, h]) for h in (UP, DEGRADED, DOWN)] == [0, 2, 1]
    assert exit_code([DEGRADED, DOWN]) == 1  # the worst wins


def test_a_single_node_cluster_with_its_node_down_is_down() -> None:
    from vitrina.cluster.kafka import serving

    assert serving({1: False}, min_insync=1) == (False, (1,))
    assert serving({1: True}, min_insync=1) == (True, ())
