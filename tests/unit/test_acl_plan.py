"""The ACL plan: each service can do exactly its job, nothing more (checked by an evaluator)."""

from __future__ import annotations

import pytest

from vitrina.security import SERVICE_PRINCIPALS
from vitrina.security.acl import (
    CLUSTER,
    CLUSTER_NAME,
    GROUP,
    LITERAL,
    PREFIXED,
    TOPIC,
    TXN,
    AclRule,
    allowed,
    diff_acls,
    plan_acls,
)
from vitrina.settings import Settings, load_settings

TOPIC_OPS = (
    "READ",
    "WRITE",
    "DESCRIBE",
    "CREATE",
    "DELETE",
    "ALTER",
    "ALTER_CONFIGS",
    "DESCRIBE_CONFIGS",
)
CLUSTER_OPS = (
    "CREATE",
    "ALTER",
    "DESCRIBE",
    "ALTER_CONFIGS",
    "DESCRIBE_CONFIGS",
    "IDEMPOTENT_WRITE",
)

# The job of each service, written down independently of the plan (from DESIGN.md):
# the READ and WRITE topics it needs. Everything else on data topics must be refused.
JOBS: dict[str, tuple[set[str], set[str]]] = {
    "shop-api": ({"product-owners"}, {"shop-products", "product-owners", "dead-letters"}),
    "filter": (
        {"shop-products", "banned-products", "filtered-products", "withheld-products"},
        {"filtered-products", "blocked-products", "withheld-products", "dead-letters"},
    ),
    "indexer": ({"filtered-products"}, {"dead-letters"}),
    "lake-sink": (
        {
            "shop-products",
            "orders",
            "client-events",
            "client-queries",
            "blocked-products",
            "banned-products",
        },
        {"dead-letters"},
    ),
    "analytics": (
        {"banned-products", "filtered-products"},
        {"recommendations", "analytics-categories", "dead-letters"},
    ),
    "client-api": (
        {
            "recommendations",
            "banned-products",
            "filtered-products",
            "analytics-categories",
            "dead-letters",
        },
        {"client-queries", "client-events", "orders", "banned-products"},
    ),
    "traffic": ({"filtered-products"}, {"orders", "client-events", "client-queries"}),
    # `vitrina shop load`: the SHOP API's door from the command line.
    "shop-load": ({"product-owners"}, {"shop-products", "product-owners", "dead-letters"}),
    # `vitrina dlq replay`: back to any topic some service consumes (reads them as admin).
    "dlq-replay": (
        set(),
        {
            "shop-products",
            "banned-products",
            "filtered-products",
            "withheld-products",
            "blocked-products",
            "orders",
            "client-events",
            "client-queries",
            "recommendations",
            "analytics-categories",
            "product-owners",
        },
    ),
}


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def rules(settings: Settings) -> list[AclRule]:
    return plan_acls(settings)


def _topics(settings: Settings) -> list[str]:
    return list(settings.topics.model_dump().values())


@pytest.mark.parametrize("service", sorted(JOBS))
def test_service_can_do_exactly_its_job(
    rules: list[AclRule], settings: Settings, service: str
) -> None:
    reads, writes = JOBS[service]
    for topic in _topics(settings):
        for op in TOPIC_OPS:
            expected = (
                (op == "READ" and topic in reads)
                or (op == "WRITE" and topic in writes)
                or (op == "DESCRIBE" and topic in reads | writes)
            )
            assert allowed(rules, service, op, TOPIC, topic) == expected, (service, op, topic)
    for op in CLUSTER_OPS:
        assert not allowed(rules, service, op, CLUSTER, CLUSTER_NAME), (service, op)


@pytest.mark.parametrize("service", sorted(JOBS))
def test_groups_and_transactional_ids_are_owned_by_prefix(
    rules: list[AclRule], service: str
) -> None:
    others = [s for s in JOBS if s != service]
    consumes = bool(JOBS[service][0])
    assert allowed(rules, service, "READ", GROUP, f"vitrina-{service}") == consumes
    for other in others:
        assert not allowed(rules, service, "READ", GROUP, f"vitrina-{other}")
        assert not allowed(rules, service, "WRITE", TXN, f"vitrina-{other}-host-1")
    stream_worker = service in {"filter", "indexer", "lake-sink", "analytics"}
    assert allowed(rules, service, "WRITE", TXN, f"vitrina-{service}-host-1") == stream_worker


def test_admin_manages_topics_acls_and_bans_but_writes_no_product_data(
    rules: list[AclRule], settings: Settings
) -> None:
    for op in ("CREATE", "ALTER", "DESCRIBE"):
        assert allowed(rules, "admin", op, CLUSTER, CLUSTER_NAME)
    for topic in _topics(settings):
        for op in ("READ", "CREATE", "DELETE", "ALTER_CONFIGS", "DESCRIBE_CONFIGS"):
            assert allowed(rules, "admin", op, TOPIC, topic)
        assert allowed(rules, "admin", "WRITE", TOPIC, topic) == (topic == "banned-products")


def test_mirror_reads_everything_and_owns_only_its_internal_topics(
    rules: list[AclRule], settings: Settings
) -> None:
    for topic in _topics(settings):
        for op in ("READ", "DESCRIBE_CONFIGS", "CREATE", "WRITE"):
            assert allowed(rules, "mirror", op, TOPIC, topic)
        assert not allowed(rules, "mirror", "DELETE", TOPIC, topic)
    assert allowed(rules, "mirror", "WRITE", TOPIC, "mm2-offset-syncs.mirror.internal")
    assert allowed(rules, "mirror", "DESCRIBE", GROUP, "vitrina-filter")
    # sync.group.offsets commits translated offsets on the target: READ on the groups.
    assert allowed(rules, "mirror", "READ", GROUP, "vitrina-filter")
    assert allowed(rules, "mirror", "WRITE", TOPIC, "primary.heartbeats")
    assert not allowed(rules, "mirror", "ALTER", CLUSTER, CLUSTER_NAME)


def test_plan_follows_topic_names_from_settings() -> None:
    renamed = load_settings(topics={"shop_products": "shop-products-v2"})
    rules = plan_acls(renamed)
    assert allowed(rules, "filter", "READ", TOPIC, "shop-products-v2")
    assert not allowed(rules, "filter", "READ", TOPIC, "shop-products")


def test_every_service_principal_has_rules(rules: list[AclRule]) -> None:
    assert {r.principal for r in rules} >= {f"User:{p}" for p in SERVICE_PRINCIPALS}
    assert all(r.permission == "ALLOW" and r.host == "*" for r in rules)


def test_evaluator_follows_kafka_pattern_rules() -> None:
    rules = [
        AclRule("User:a", TOPIC, PREFIXED, "orders-", "READ"),
        AclRule("User:b", TOPIC, LITERAL, "*", "ALL"),
        AclRule("User:c", TOPIC, LITERAL, "x", "ALTER_CONFIGS"),
    ]
    assert allowed(rules, "a", "READ", TOPIC, "orders-eu")
    assert allowed(rules, "a", "DESCRIBE", TOPIC, "orders-eu")  # READ implies DESCRIBE
    assert not allowed(rules, "a", "READ", TOPIC, "orders")
    assert not allowed(rules, "a", "READ", GROUP, "orders-eu")
    assert allowed(rules, "b", "DELETE", TOPIC, "anything")
    assert allowed(rules, "c", "DESCRIBE_CONFIGS", TOPIC, "x")
    assert not allowed(rules, "c", "DESCRIBE", TOPIC, "x")


def test_diff_adds_missing_removes_stale_and_leaves_unmanaged_alone(rules: list[AclRule]) -> None:
    assert not diff_acls(rules, rules).changed  # idempotent: applying twice changes nothing
    stale = AclRule("User:filter", TOPIC, LITERAL, "orders", "WRITE")
    foreign = AclRule("User:someone-else", TOPIC, LITERAL, "orders", "READ")
    current = [*rules[1:], stale, foreign]
    diff = diff_acls(rules, current)
    assert diff.add == [rules[0]]
    assert diff.remove == [stale]
    assert diff.unmanaged == 1
    assert diff.lines() == [f"+ {rules[0]}", f"- {stale}"]


def test_apply_refuses_the_embedded_broker_before_connecting(settings: Settings) -> None:
    from vitrina.errors import ConfigError
    from vitrina.security.acl import apply_acls

    with pytest.raises(ConfigError, match="embedded broker has no ACLs"):
        apply_acls(settings)


# -- every principal the code connects as exists (issue 11, item 2) ---------------------------

_CLIENT_CALLS = {
    "producer_config",
    "consumer_config",
    "admin_config",
    "make_producer",
    "read_to_end",
    "topic_partitions",
    "read_partitions_to_end",
    "load_owners",
    "BanService",
    "StreamWorker",
    "OwnersView",
    "TopicFollower",
}


def _principals_named_in_code() -> dict[str, set[str]]:
    """String principals the source passes to Kafka clients, and `SERVICE = "…"` constants."""
    import ast
    from pathlib import Path

    import vitrina

    found: dict[str, set[str]] = {}
    for path in Path(vitrina.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names: list[ast.expr] = []
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called in _CLIENT_CALLS:
                    names += [kw.value for kw in node.keywords if kw.arg == "principal"]
                    if called.endswith("_config") or called == "make_producer":
                        names += node.args[1:2]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in {"SERVICE", "PRINCIPAL"} for t in node.targets
            ):
                names.append(node.value)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                # defaults of `principal` parameters ("admin", "shop-api", …)
                args = node.args.args + node.args.kwonlyargs
                defaults = (
                    [None] * (len(node.args.args) - len(node.args.defaults))
                    + list(node.args.defaults)
                    + list(node.args.kw_defaults)
                )
                names += [
                    d
                    for a, d in zip(args, defaults, strict=True)
                    if a.arg == "principal" and d is not None
                ]
            for name in names:
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    found.setdefault(name.value, set()).add(path.name)
    return found


def test_every_principal_the_code_connects_as_is_created_and_planned(rules: list[AclRule]) -> None:
    """`shop load` connected as shop-load and `dlq replay` as dlq-replay, which `security
    init` never created (so they failed on SASL); the client API banned as admin."""
    from vitrina.security import ALL_PRINCIPALS

    named = _principals_named_in_code()
    assert {"shop-load", "dlq-replay", "client-api", "filter"} <= set(named)
    unknown = {p: sorted(files) for p, files in named.items() if p not in ALL_PRINCIPALS}
    assert not unknown, f"principals without a SCRAM user from `security init`: {unknown}"
    planned = {r.principal for r in rules}
    assert not {p for p in named if f"User:{p}" not in planned}
