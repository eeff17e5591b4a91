"""Broker failure on the secured 3-node cluster (RF 3, min.insync.replicas 2), real processes.

1. kill -9 one broker while 20k products flow through `vitrina shop load` and the filter
   (transactions on): the load goes on; afterwards filtered-products (read_committed) holds
   every allowed product exactly once and no banned one.
2. A second broker down (one of three left): an acks=all producer is not acknowledged
   (NOT_ENOUGH_REPLICAS / timeout): it fails loudly, and whatever it was told is written
   is readable after the restore.
3. Both brokers back: no under-replicated partition, every record readable.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from tests.conftest import wait_for
from tests.distributed.conftest import SecuredCluster
from tests.distributed.services_support import (
    VITRINA,
    new_suffix,
    platform_env,
    platform_settings,
    prepare,
    stacks_of,
)
from tests.distributed.test_services_exactly_once import Service, committed_outputs, small_catalogue

from vitrina.cli.cluster import exit_code, status_line
from vitrina.cluster.process import UP

pytestmark = [pytest.mark.distributed, pytest.mark.slow, pytest.mark.timeout(900)]

# 20k (was 50k): the broker still dies mid-load (once 2000 are published; an assertion below
# checks it was before the end) and most of the load flows with it down; the 30k more were
# volume, not coverage.
PRODUCTS = 20_000
BANNED = 500


def test_one_broker_killed_mid_load_then_a_second_then_restore(
    healthy_cluster: SecuredCluster, tmp_path: Path
) -> None:
    from vitrina.kafka.admin import describe_cluster
    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.inspect import read_to_end
    from vitrina.services.bans import BanService

    rng = random.Random(11)
    settings = platform_settings(healthy_cluster, tmp_path / "data", new_suffix())
    prepare(healthy_cluster, settings)
    chunks, ids = small_catalogue(tmp_path, PRODUCTS)
    banned = set(rng.sample(ids, BANNED))
    bans = BanService(settings)
    bans.ban(sorted(banned), "counterfeit", "test")
    allowed = set(ids) - banned

    env = platform_env(settings, PORTS__FILTER="0")
    logs = tmp_path / "logs"
    logs.mkdir()
    flt = Service("filter", env, logs)
    failures: list[str] = []
    loaded = threading.Event()

    def load() -> None:
        for chunk in chunks:
            proc = subprocess.Popen(
                [*VITRINA, "shop", "load", str(chunk)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            try:
                out, err = proc.communicate(timeout=240)
            except subprocess.TimeoutExpired:
                stacks = stacks_of(proc.pid)  # where it hangs, before it is killed
                proc.kill()
                out, err = proc.communicate()
                failures.append(
                    f"`shop load {chunk.name}` hung > 240 s after a broker was killed:\n"
                    f"{out[-1000:]}{err[-1500:]}\n{stacks}"
                )
                break
            if proc.returncode != 0:
                failures.append(out[-1000:] + err[-2000:])
        loaded.set()

    exits: list[str] = []

    def supervise() -> None:
        """Restart the filter if it exited, as `vitrina up`'s supervisor would — and count it:
        with two of three brokers up it must not exit. (It did, in every run before the fix:
        a killed broker's "connection reset" in a TLS handshake was taken for a TLS
        misconfiguration, "TLS handshake failed".)"""
        if flt.proc is not None and flt.proc.poll() is not None:
            # Its warnings say why (CI of stop 40 kept only the traceback's last line).
            log = flt.logs / f"{flt.name}-{flt.kills}.log"
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            warned = [line[:300] for line in lines if " WARNING " in line][-8:]
            exits.append("\n".join([*warned, *lines[-4:]]))
            flt.kills += 1  # a new log file per run
            flt.start()

    victim, second = 1, 2
    flow = threading.Thread(target=load)
    try:
        flow.start()
        wait_for(
            lambda: supervise() or _published(settings) >= 2000 or loaded.is_set(),
            timeout=120,
            interval=1.0,
            message="the first products through the filter",
        )
        killed_at = _published(settings)
        healthy_cluster.kill(victim)  # 1. mid-load
        while flow.is_alive():
            supervise()
            flow.join(2.0)
        assert not failures, failures[0]
        assert killed_at < len(allowed), "the broker was killed after the load, not during it"

        def exact() -> bool:
            supervise()
            _published, last = committed_outputs(settings)
            return {k for k, alive in last.items() if alive} == allowed

        try:
            wait_for(exact, timeout=240, interval=3.0, message="every allowed product published")
        except AssertionError as exc:
            stacks = stacks_of(flt.proc.pid) if flt.proc and flt.proc.poll() is None else ""
            raise AssertionError(
                f"{exc} with broker {victim} down; the filter's log:\n{flt.tail()}\n{stacks}"
            ) from None
        published, _last = committed_outputs(settings)
        duplicates = {k: n for k, n in published.items() if n > 1}
        assert not duplicates, f"{len(duplicates)} products published more than once"
        assert not set(published) & banned
        assert not exits, f"the filter exited with two of three brokers up:\n{exits[0]}"
        # What `vitrina status` reads: it said "kafka up 2 broker(s)" and hid the
        # under-replicated partitions; writes still go on with two of three.
        wait_for(
            lambda: describe_cluster(settings).under_replicated > 0,
            timeout=60,
            interval=2.0,
            message="status to report the under-replicated partitions",
        )
        assert not describe_cluster(settings).writes_wait

        # 2. a second broker down: one replica left, below min.insync.replicas = 2.
        healthy_cluster.kill(second)
        reports: list[tuple[bytes, Any]] = []
        conf = producer_config(settings, "admin", **{"message.timeout.ms": 15000})
        # Without Vitrina's error_cb: here the delivery reports must speak.
        conf.pop("error_cb", None)
        producer = Producer(conf)
        for i in range(60):
            producer.produce(
                settings.topics.orders,
                key=f"order-{i}".encode(),
                value=b"{}",
                on_delivery=lambda err, msg: reports.append((msg.key(), err)),
            )
        producer.flush(60)
        # With one broker left `status` said "up", exit 0, while every write waited.
        stalled = describe_cluster(settings)
        assert stalled.writes_wait, stalled
        assert stalled.health, stalled
        acknowledged = {key for key, err in reports if err is None}
        errors = {err.code() for key, err in reports if err is not None}
        assert len(reports) == 60
        assert not acknowledged, f"{len(acknowledged)} records acknowledged by one replica"
        assert errors <= {
            KafkaError.NOT_ENOUGH_REPLICAS,
            KafkaError._MSG_TIMED_OUT,
            KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            KafkaError.REQUEST_TIMED_OUT,
            KafkaError.NOT_LEADER_FOR_PARTITION,
        }, errors
        print(
            f"with 1 of 3 brokers: 0 of 60 acknowledged; errors {sorted(map(str, errors))}; "
            f"filter exits during the test: {len(exits)}"
        )
    finally:
        # 3. restore: both back, everything catches up.
        began = time.monotonic()
        down = [node for node in (second, victim) if healthy_cluster.pid(node) is None]
        healthy_cluster.restart(*down, timeout=180)
        print(f"restore: brokers back and in sync {time.monotonic() - began:.0f} s")
        flt.stop()
        bans.close()
        flow.join(60)
    orders = list(read_to_end(settings, [settings.topics.orders], timeout=60))
    assert {m.key() for m in orders} >= acknowledged
    published, last = committed_outputs(settings)
    assert {k for k, alive in last.items() if alive} == allowed
    assert max(published.values()) == 1


def _published(settings: Any) -> int:
    """Records in filtered-products (high watermarks), a cheap progress probe (0: no answer
    right now, e.g. while a partition leader moves)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    from vitrina.kafka.clients import base_config

    conf = {**base_config(settings, "admin"), "group.id": "vitrina-cli-probe"}
    conf.pop("logger", None)
    consumer = Consumer(conf)
    try:
        topic = settings.topics.filtered_products
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(settings.kafka.partitions)
        )
    except KafkaException:
        return 0
    finally:
        consumer.close()


def test_the_topic_check_asks_a_live_broker_once_its_controller_is_killed(
    healthy_cluster: SecuredCluster, tmp_path: Path
) -> None:
    """Every worker checks its input topics' ids before each commit (a topic created again
    under it). librdkafka sends that DescribeTopics to the broker its metadata names
    controller, and did not ask for metadata again once that broker was killed: in a CI run
    every check timed out for 70 s, the filter's transaction outlived its timeout and the
    filter exited. A check that failed makes the next one ask with a new client."""
    from vitrina.errors import UnavailableError
    from vitrina.kafka.incarnations import IncarnationCheck
    from vitrina.kafka.inspect import topic_incarnation

    settings = platform_settings(healthy_cluster, tmp_path / "data", new_suffix())
    prepare(healthy_cluster, settings)
    topic = settings.topics.shop_products
    known = {topic: topic_incarnation(settings, topic, "admin")}
    check = IncarnationCheck(settings, "admin", "filter")
    check(known)  # its client now holds the cluster's metadata, a "controller" among it
    controller = check._admin[0].list_topics(timeout=10).controller_id
    assert controller in (1, 2, 3), controller
    failed: list[str] = []

    def answered() -> bool:
        try:
            check(known)
        except UnavailableError as exc:
            failed.append(exc.message)
            return False
        return True

    healthy_cluster.kill(controller)
    try:
        wait_for(
            answered,
            timeout=60,
            interval=0.5,
            message=f"a check answered with broker {controller} (its controller) killed",
        )
        print(f"checks that failed before one answered: {len(failed)}")
        _status_says_degraded(healthy_cluster, controller)
    finally:
        check.close()
        healthy_cluster.restart(controller, timeout=180)
    assert healthy_cluster.kafka.status().health == UP


def _status_says_degraded(cluster: SecuredCluster, killed: int) -> None:
    """`cluster status` with one of three brokers killed said "kafka down" (operator review of
    9d56bff) while writes went on: it is degraded, names the node and exits 2."""
    seen: list[str] = []

    def degraded() -> bool:
        seen.append(status_line(cluster.kafka.status()))
        return f"degraded (node(s) {killed} down)" in seen[-1]

    wait_for(
        degraded,
        timeout=60,
        interval=1.0,
        message=f"`cluster status` to say degraded, node {killed} down",
        explain=lambda: f"it said: {seen[-1]}",
    )
    assert exit_code([cluster.kafka.status().health]) == 2
