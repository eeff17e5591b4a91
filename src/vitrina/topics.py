"""Every topic of the platform, declared once.

`vitrina topics apply` turns this registry into topics on the broker; nothing else creates
topics (clients run with auto-creation off, see kafka/clients.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vitrina.settings import Settings

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic's declared shape. `role` is the TopicNames attribute it comes from."""

    role: str
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    key: str = ""
    value: str = ""

    @property
    def compacted(self) -> bool:
        return self.configs.get("cleanup.policy") == "compact"


# role -> (cleanup policy configs, key, value schema)
_DECLARED: dict[str, tuple[dict[str, str], str, str]] = {
    "shop_products": (
        {"cleanup.policy": "delete", "retention.ms": str(7 * DAY_MS)},
        "product_id",
        "product",
    ),
    "banned_products": ({"cleanup.policy": "compact"}, "product_id", "ban"),
    "filtered_products": ({"cleanup.policy": "compact"}, "product_id", "product"),
    "blocked_products": (
        {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)},
        "product_id",
        "blocked_product",
    ),
    "orders": ({"cleanup.policy": "delete"}, "customer_id", "order"),
    "client_events": ({"cleanup.policy": "delete"}, "user_id", "client_event"),
    "client_queries": ({"cleanup.policy": "delete"}, "user_id", "client_query"),
    "recommendations": ({"cleanup.policy": "compact"}, "user_id", "recommendation"),
    "analytics_categories": ({"cleanup.policy": "compact"}, "category", "category_stats"),
    "dead_letters": (
        {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)},
        "original key",
        "original bytes",
    ),
    "withheld_products": ({"cleanup.policy": "compact"}, "product_id", "product"),
    "product_owners": (
        {"cleanup.policy": "compact"},
        "product_id, or claims:<unique id> for a batch",
        "store_id (text); a batch: JSON {product_id: store_id}",
    ),
}


def declared_topics(settings: Settings) -> list[TopicSpec]:
    """The topics this deployment must have, with names, partitions and configs from settings."""
    kafka = settings.kafka
    specs = []
    for role, (configs, key, value) in _DECLARED.items():
        cfg = dict(configs)
        if kafka.replication_factor > 1:
            cfg["min.insync.replicas"] = str(kafka.min_insync_replicas)
        # The ban list is small and read whole by every filter replica: one partition keeps
        # its order total and its load to end offsets cheap.
        partitions = 1 if role == "banned_products" else kafka.partitions
        specs.append(
            TopicSpec(
                role=role,
                name=getattr(settings.topics, role),
                partitions=partitions,
                replication_factor=kafka.replication_factor,
                configs=cfg,
                key=key,
                value=value,
            )
        )
    return specs


def topic_by_role(settings: Settings, role: str) -> TopicSpec:
    for spec in declared_topics(settings):
        if spec.role == role:
            return spec
    raise KeyError(role)
