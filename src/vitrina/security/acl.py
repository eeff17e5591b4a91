"""ACLs as code: least privilege per service, computed from the topic registry.

The plan is pure data (`plan_acls`), so it can be read, diffed and checked by a small
evaluator (`allowed`) that follows Kafka's rules: LITERAL / PREFIXED patterns, `*`, ALL, and
the implications READ/WRITE/DELETE/ALTER ⇒ DESCRIBE, ALTER_CONFIGS ⇒ DESCRIBE_CONFIGS.
`apply_acls` (edge) reads the cluster's ACLs, adds what is missing and removes what is no
longer planned — only for the principals this plan manages; others are left alone.

Group ids and transactional ids are owned by prefix `vitrina-<service>`: StreamWorker's
transactional id is `<group_id>-<instance>`, and the CLI's readers use `vitrina-<principal>-…`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vitrina.errors import BrokerError, ConfigError
from vitrina.security import BROKER_PRINCIPAL
from vitrina.settings import Settings
from vitrina.topics import declared_topics

LITERAL, PREFIXED = "LITERAL", "PREFIXED"
TOPIC, GROUP, TXN, CLUSTER = "TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"
CLUSTER_NAME = "kafka-cluster"
# MirrorMaker 2 cluster aliases (deploy/compose/mirrormaker/mm2.properties).
MM2_SOURCE_ALIAS = "primary"
MM2_TARGET_ALIAS = "mirror"

_IMPLIES: dict[str, set[str]] = {
    "DESCRIBE": {"READ", "WRITE", "DELETE", "ALTER"},
    "DESCRIBE_CONFIGS": {"ALTER_CONFIGS"},
}


@dataclass(frozen=True, order=True)
class AclRule:
    """One ALLOW binding: principal may do operation on a resource pattern, from any host."""

    principal: str  # "User:filter"
    resource_type: str
    pattern_type: str
    name: str
    operation: str
    host: str = "*"
    permission: str = "ALLOW"

    def __str__(self) -> str:
        return (
            f"{self.principal} {self.permission} {self.operation} on {self.resource_type} "
            f"{self.name}{'*' if self.pattern_type == PREFIXED else ''}"
        )


@dataclass(frozen=True)
class ServiceAccess:
    """What one service does on Kafka, by topic role (TopicNames attribute)."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    consumer: bool = False  # owns consumer groups `vitrina-<service>*`
    transactional: bool = False  # owns transactional ids `vitrina-<service>*`


ALL_ROLES = "*"  # in `reads`: every declared topic

# The platform's data flow (DESIGN.md), as access rights. Every writer may dead-letter.
SERVICE_ACCESS: dict[str, ServiceAccess] = {
    # It folds product-owners (who owns an id) and claims new ids there.
    "shop-api": ServiceAccess(
        reads=("product_owners",),
        writes=("shop_products", "product_owners", "dead_letters"),
        consumer=True,
    ),
    # The filter rebuilds its per-partition state from its own compacted outputs.
    "filter": ServiceAccess(
        reads=("shop_products", "banned_products", "filtered_products", "withheld_products"),
        writes=("filtered_products", "blocked_products", "withheld_products", "dead_letters"),
        consumer=True,
        transactional=True,
    ),
    "indexer": ServiceAccess(
        reads=("filtered_products",), writes=("dead_letters",), consumer=True, transactional=True
    ),
    "lake-sink": ServiceAccess(
        reads=(
            "shop_products",
            "orders",
            "client_events",
            "client_queries",
            "blocked_products",
            "banned_products",
        ),
        writes=("dead_letters",),
        consumer=True,
        transactional=True,
    ),
    "analytics": ServiceAccess(
        reads=("banned_products", "filtered_products"),
        writes=("recommendations", "analytics_categories", "dead_letters"),
        consumer=True,
        transactional=True,
    ),
    # Serves recommendations from a view of the compacted topic, re-checked against bans
    # and stock; its operator view bans/unbans and shows dead letters.
    "client-api": ServiceAccess(
        reads=(
            "recommendations",
            "banned_products",
            "filtered_products",
            "analytics_categories",
            "dead_letters",
        ),
        writes=("client_queries", "client_events", "orders", "banned_products"),
        consumer=True,
    ),
    "traffic": ServiceAccess(
        reads=("filtered_products",),
        writes=("orders", "client_events", "client_queries"),
        consumer=True,
    ),
    "mirror": ServiceAccess(reads=(ALL_ROLES,), consumer=True),
    "admin": ServiceAccess(reads=(ALL_ROLES,), writes=("banned_products",), consumer=True),
}
# `vitrina shop load`: the SHOP API's door from the command line (same topics, own password).
SERVICE_ACCESS["shop-load"] = SERVICE_ACCESS["shop-api"]
# `vitrina dlq replay` re-produces dead letters to their source topics: any topic a service
# consumes (the operator reads the dead letters as admin).
SERVICE_ACCESS["dlq-replay"] = ServiceAccess(
    writes=tuple(
        sorted(
            {
                role
                for access in SERVICE_ACCESS.values()
                for role in access.reads
                if role not in (ALL_ROLES, "dead_letters")
            }
        )
    )
)


def readers_of(settings: Settings, topic: str) -> frozenset[str]:
    """The services that consume `topic` (by its role in SERVICE_ACCESS; not the operator
    nor the mirror, which read everything)."""
    role = next((r for r, name in settings.topics.model_dump().items() if name == topic), None)
    return frozenset(
        service
        for service, access in SERVICE_ACCESS.items()
        if role is not None and role in access.reads
    )


def user(principal: str) -> str:
    return f"User:{principal}"


def _topic_rules(principal: str, names: Iterable[str], ops: Iterable[str]) -> list[AclRule]:
    return [AclRule(user(principal), TOPIC, LITERAL, name, op) for name in names for op in ops]


def plan_acls(settings: Settings) -> list[AclRule]:
    """Every ACL the cluster should have for the managed principals, sorted."""
    topics = {spec.role: spec.name for spec in declared_topics(settings)}
    every = sorted(topics.values())
    rules: list[AclRule] = []
    for service, access in SERVICE_ACCESS.items():
        reads = (
            every if ALL_ROLES in access.reads else [topics[r] for r in access.reads if r in topics]
        )
        rules += _topic_rules(service, reads, ["READ"])
        rules += _topic_rules(service, [topics[r] for r in access.writes if r in topics], ["WRITE"])
        prefix = f"vitrina-{service}"
        if access.consumer:
            rules.append(AclRule(user(service), GROUP, PREFIXED, prefix, "READ"))
        if access.transactional:
            rules += [
                AclRule(user(service), TXN, PREFIXED, prefix, op) for op in ("WRITE", "DESCRIBE")
            ]
    rules += _admin_rules(every) + _mirror_rules(every) + _schema_registry_rules()
    return sorted(set(rules))


def _admin_rules(every: list[str]) -> list[AclRule]:
    """The operator: topics as code, ACLs as code, bans, inspection. It is also a super user
    (server.properties) so that the very first `acl apply` can run; these rules say what it
    needs, so removing it from super.users later keeps everything working."""
    admin = "admin"
    rules = [
        AclRule(user(admin), CLUSTER, LITERAL, CLUSTER_NAME, op)
        for op in ("CREATE", "ALTER", "DESCRIBE", "DESCRIBE_CONFIGS")
    ]
    rules += _topic_rules(admin, every, ["CREATE", "ALTER", "ALTER_CONFIGS", "DELETE"])
    rules.append(AclRule(user(admin), GROUP, PREFIXED, "vitrina-cli", "READ"))
    return rules


def _mirror_rules(every: list[str]) -> list[AclRule]:
    """MirrorMaker 2 (and the embedded `vitrina mirror`) as principal `mirror`.

    The same plan is applied to both clusters: on the source it reads every topic and its
    configs; on the target it creates the topics (same partitions, same configs) and writes
    them. MM2's own topics (heartbeats, checkpoints, offset syncs, its Connect state topics)
    and the consumer offsets it translates are covered explicitly.
    """
    mirror = "mirror"
    rules = _topic_rules(mirror, every, ["DESCRIBE_CONFIGS", "CREATE", "WRITE", "ALTER_CONFIGS"])
    # heartbeats on each cluster, and the source's heartbeats replicated to the target.
    internal = [
        "heartbeats",
        f"{MM2_SOURCE_ALIAS}.heartbeats",
        f"{MM2_SOURCE_ALIAS}.checkpoints.internal",
    ]
    rules += _topic_rules(mirror, internal, ["CREATE", "READ", "WRITE", "DESCRIBE_CONFIGS"])
    rules += [
        AclRule(user(mirror), TOPIC, PREFIXED, "mm2-", op)
        for op in ("CREATE", "READ", "WRITE", "DESCRIBE_CONFIGS")
    ]
    rules += [
        AclRule(user(mirror), GROUP, LITERAL, f"{alias}-mm2", "READ")
        for alias in (MM2_SOURCE_ALIAS, MM2_TARGET_ALIAS)
    ]
    # Checkpoints translate the offsets of Vitrina's consumer groups to the mirror, and
    # sync.group.offsets commits them there (an offset commit needs READ on the group).
    rules += [AclRule(user(mirror), GROUP, PREFIXED, "vitrina-", op) for op in ("DESCRIBE", "READ")]
    rules.append(AclRule(user(mirror), CLUSTER, LITERAL, CLUSTER_NAME, "DESCRIBE"))
    return rules


def _schema_registry_rules() -> list[AclRule]:
    sr = "schema-registry"
    rules = _topic_rules(sr, ["_schemas"], ["CREATE", "READ", "WRITE", "DESCRIBE_CONFIGS"])
    rules.append(AclRule(user(sr), GROUP, PREFIXED, "schema-registry", "READ"))
    rules.append(AclRule(user(sr), CLUSTER, LITERAL, CLUSTER_NAME, "DESCRIBE_CONFIGS"))
    return rules


def managed_principals() -> set[str]:
    from vitrina.security import ALL_PRINCIPALS

    return {user(p) for p in ALL_PRINCIPALS}


# -- the evaluator ------------------------------------------------------------------------


def _matches(rule: AclRule, resource_type: str, name: str) -> bool:
    if rule.resource_type != resource_type:
        return False
    if rule.pattern_type == LITERAL:
        return rule.name in (name, "*")
    return name.startswith(rule.name)


def allowed(
    rules: Iterable[AclRule], principal: str, operation: str, resource_type: str, name: str
) -> bool:
    """Would Kafka's StandardAuthorizer (no DENY rules, no super user) allow this?"""
    ops = {operation, "ALL"} | _IMPLIES.get(operation, set())
    who = {user(principal), "User:*"}
    return any(
        r.permission == "ALLOW"
        and r.principal in who
        and r.operation in ops
        and _matches(r, resource_type, name)
        for r in rules
    )


# -- diff and apply (edge) ----------------------------------------------------------------


@dataclass
class AclDiff:
    add: list[AclRule] = field(default_factory=list)
    remove: list[AclRule] = field(default_factory=list)
    unchanged: int = 0
    unmanaged: int = 0  # ACLs of principals this plan does not manage: left alone

    @property
    def changed(self) -> bool:
        return bool(self.add or self.remove)

    def lines(self) -> list[str]:
        return [f"+ {r}" for r in self.add] + [f"- {r}" for r in self.remove]


def diff_acls(
    planned: Iterable[AclRule], current: Iterable[AclRule], managed: set[str] | None = None
) -> AclDiff:
    """What to add and remove to turn `current` into `planned` (pure)."""
    managed = managed if managed is not None else managed_principals()
    want = set(planned)
    have = set(current)
    ours = {r for r in have if r.principal in managed}
    return AclDiff(
        add=sorted(want - have),
        remove=sorted(ours - want),
        unchanged=len(want & have),
        unmanaged=len(have - ours),
    )


# confluent-kafka names Kafka's CLUSTER resource type (code 4) BROKER.
_TO_CLIENT = {CLUSTER: "BROKER"}
_FROM_CLIENT = {"BROKER": CLUSTER}


def describe_cluster_acls(admin: object, timeout: float = 15.0) -> list[AclRule]:
    """Every ACL on the cluster, as AclRule."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    # None = any name / principal / host (the stubs say str, the API takes None).
    anything: Any = None
    flt = AclBindingFilter(
        ResourceType.ANY,
        anything,
        ResourcePatternType.ANY,
        anything,
        anything,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    try:
        bindings = admin.describe_acls(flt, request_timeout=timeout).result()  # type: ignore[attr-defined]
    except KafkaException as exc:
        raise _acl_error("describe ACLs", exc) from None
    return [
        AclRule(
            b.principal,
            _FROM_CLIENT.get(b.restype.name, b.restype.name),
            b.resource_pattern_type.name,
            b.name,
            b.operation.name,
            b.host,
            b.permission_type.name,
        )
        for b in bindings
    ]


def _binding(rule: AclRule, *, as_filter: bool = False) -> Any:
    """The confluent-kafka binding (create) or exact filter (delete) for one rule."""
    from confluent_kafka.admin import (
        AclBinding,
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    cls = AclBindingFilter if as_filter else AclBinding
    return cls(
        ResourceType[_TO_CLIENT.get(rule.resource_type, rule.resource_type)],
        rule.name,
        ResourcePatternType[rule.pattern_type],
        rule.principal,
        rule.host,
        AclOperation[rule.operation],
        AclPermissionType[rule.permission],
    )


def _acl_error(what: str, exc: Exception) -> BrokerError:
    text = str(exc)
    if "SECURITY_DISABLED" in text or "No Authorizer" in text:
        return BrokerError(
            f"cannot {what}: the cluster has no authorizer configured",
            hint="ACLs need Apache Kafka with authorizer.class.name set; the "
            "embedded broker has none (use `vitrina acl plan`)",
        )
    if "AUTHORIZATION" in text:
        return BrokerError(
            f"cannot {what}: not authorized ({text})",
            hint="run as the admin principal (super user), see docs/operations.md",
        )
    return BrokerError(f"cannot {what}: {text}", hint="is the cluster reachable?")


def _refuse_embedded(settings: Settings, dry_run: bool) -> None:
    """The embedded broker (Tansu) has no authorizer, and its CreateAcls reply aborts
    librdkafka: refuse before sending anything."""
    broker = settings.broker
    embedded = {
        f"{h}:{p}" for h in (broker.host, "localhost") for p in (broker.port, broker.mirror_port)
    }
    if broker.embedded and not dry_run and settings.kafka.bootstrap_servers in embedded:
        raise ConfigError(
            "the embedded broker has no ACLs to apply",
            hint="use `vitrina acl plan` / `acl apply --dry-run` here, and "
            "`--profile distributed` against Apache Kafka",
        )


def apply_acls(settings: Settings, *, dry_run: bool = False, timeout: float = 15.0) -> AclDiff:
    """Make the cluster's ACLs match the plan (idempotent). Returns the diff it applied."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    from vitrina.kafka.clients import admin_config, identity
    from vitrina.kafka.errors import fetch_metadata

    _refuse_embedded(settings, dry_run)
    admin = AdminClient(admin_config(settings))
    # A wrong password, an untrusted CA or no broker: said in ~1 s, not after a 15 s timeout.
    fetch_metadata(admin, identity(settings, "admin"), timeout=timeout)
    diff = diff_acls(plan_acls(settings), describe_cluster_acls(admin, timeout))
    if dry_run or not diff.changed:
        return diff
    try:
        if diff.add:
            for fut in admin.create_acls(
                [_binding(r) for r in diff.add], request_timeout=timeout
            ).values():
                fut.result()
        if diff.remove:
            for fut in admin.delete_acls(
                [_binding(r, as_filter=True) for r in diff.remove], request_timeout=timeout
            ).values():
                fut.result()
    except KafkaException as exc:
        raise _acl_error("apply ACLs", exc) from None
    return diff


__all__ = [
    "BROKER_PRINCIPAL",
    "AclDiff",
    "AclRule",
    "allowed",
    "apply_acls",
    "diff_acls",
    "plan_acls",
]
