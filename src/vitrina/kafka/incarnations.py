"""Which incarnation of its input topics a sink read, checked before it writes.

A topic deleted and created again while a worker runs is not told to its consumer:
librdkafka does not follow topic ids, so there is no rebalance and no error; it reads the
new topic on from the old positions (skipping the records below them), or from 0 when those
are out of range. A sink that asks each topic's incarnation (`inspect.topic_incarnation`) at
assignment checks it again before every write: on a change it raises TopicRecreated, and
the worker rewinds (`vitrina_worker_rewinds_total{reason="topic_recreated"}`) to the new
topic's start (not to the group's committed offsets: those may still be the old topic's).
What was read before a check that found the topic unchanged is the old topic's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaException

from vitrina.errors import BrokerError, UnavailableError
from vitrina.kafka.inspect import TopicRecreated, has_id, incarnation_of, topic_ids
from vitrina.kafka.lifecycle import release
from vitrina.kafka.offsets import TRANSIENT
from vitrina.settings import Settings


class IncarnationCheck:
    """One admin client (the sink's principal) that asks topic ids before writes: one
    DescribeTopics request a check (~1-2 ms), the cluster id asked once (a new cluster gives
    its topics new ids, which the check sees)."""

    def __init__(self, settings: Settings, principal: str, service: str) -> None:
        self.settings, self.principal, self.service = settings, principal, service
        self._admin: list[Any] = []
        self._cluster_id = ""

    def __call__(self, known: dict[str, str]) -> None:
        """TopicRecreated when a topic of `known` (topic → incarnation read) is another
        incarnation now; UnavailableError when the broker cannot say (the worker pauses and
        retries the write); a topic deleted and not created again passes (all that was read
        is the old one's)."""
        known = {topic: inc for topic, inc in known.items() if inc}
        if not known:
            return
        ids = self._ids(list(known), "before writing")
        for topic, incarnation in known.items():
            topic_id = ids.get(topic)
            if topic_id is None:
                continue
            now = incarnation_of(self._cluster_id, topic_id)
            if now != incarnation:
                raise TopicRecreated(
                    f"{self.service}: {topic} was deleted and created again (incarnation "
                    f"{incarnation} → {now}); what was read since the last commit is dropped "
                    "and the new topic read from its start",
                    topic=topic,
                )

    def current(
        self, topics: list[str], wait_s: float = 10.0, sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, str]:
        """Each topic's incarnation now, in one request ("" for a topic that does not exist
        or a broker that gives no topic ids: not checked); asked again for up to `wait_s`
        while the broker cannot say, then UnavailableError."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                ids = self._ids(topics, "when assigned")
                break
            except UnavailableError:
                if time.monotonic() >= deadline:
                    raise
                sleep(0.5)
        return {
            topic: incarnation_of(self._cluster_id, topic_id)
            if topic_id is not None and has_id(topic_id)
            else ""
            for topic, topic_id in ids.items()
        }

    def _ids(self, topics: list[str], when: str) -> dict[str, str | None]:
        if not self._admin:
            from confluent_kafka.admin import AdminClient

            from vitrina.kafka.clients import admin_config

            self._admin.append(AdminClient(admin_config(self.settings, self.principal)))
        try:
            if not self._cluster_id:
                self._cluster_id = self._admin[0].list_topics(timeout=10).cluster_id or ""
            return topic_ids(self._admin[0], topics, timeout=5.0)
        except KafkaException as exc:
            err = exc.args[0]
            what = f"{self.service}: cannot check {', '.join(topics)} {when}: {err}"
            if err.code() in TRANSIENT or err.retriable():
                # The next check asks with a new client: librdkafka sends DescribeTopics to
                # the broker its metadata names controller (on KRaft, any live broker) and
                # does not ask for metadata again when that one is killed (seen: 7 checks
                # timed out in 70 s, the filter's commit waited past its transaction's
                # timeout, and its producer failed for good).
                release(self._admin, f"{self.service}: admin client", timeout=2.0)
                raise UnavailableError(what) from None
            raise BrokerError(what, hint=f"check {self.principal}'s ACLs (DESCRIBE)") from None

    def close(self) -> None:
        if self._admin:
            release(self._admin, f"{self.service}: admin client")
