"""Errors that tell the truth, fast, on the secured cluster (issue 11, items 2–4).

Real `vitrina` processes against the 3-broker SASL_SSL cluster: a wrong password, an
untrusted CA and an ACL denial each end in < 10 s with a message naming the cause and the
fix; every command connects as its own principal; status shows the external cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from tests.distributed.conftest import SecuredCluster
from tests.distributed.services_support import (
    new_suffix,
    platform_env,
    platform_settings,
    prepare,
    secrets_subset,
    suffix_of,
    vitrina,
)

from vitrina.orchestrate import sample_catalog
from vitrina.settings import Settings

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

FAST_S = 10.0  # the bound: a plain client gets the precise error in 0.3 s
RAW_LIBRDKAFKA = ("[thrd:", "FAIL", "sasl_ssl://", "rdkafka")


@pytest.fixture
def platform(healthy_cluster: SecuredCluster, tmp_path: Path) -> Settings:
    settings = platform_settings(healthy_cluster, tmp_path / "data", new_suffix())
    prepare(healthy_cluster, settings)
    return settings


def _assert_clean(stderr: str) -> None:
    assert not [line for line in stderr.splitlines() if any(m in line for m in RAW_LIBRDKAFKA)]


def test_wrong_password_fails_fast_naming_principal_and_fix(platform: Settings) -> None:
    env = platform_env(platform, KAFKA__SASL_PASSWORD="not-the-password")
    for args, principal in (
        (["topics", "list"], "admin"),
        (["acl", "apply", "--dry-run"], "admin"),
        (["ban", "add", "100042", "--reason", "test"], "admin"),
        (["shop", "load", str(sample_catalog())], "shop-load"),
    ):
        result, took = vitrina(args, env)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert f"authentication failed for principal {principal}" in result.stderr, args
        assert "fix:" in result.stderr and "security init" in result.stderr
        assert "broker status" not in result.stderr  # not "is it running?"
        assert took < FAST_S, (args, took)
        _assert_clean(result.stderr)


def test_run_indexer_and_lake_sink_exit_on_a_refused_login(platform: Settings) -> None:
    env = platform_env(
        platform, KAFKA__SASL_PASSWORD="not-the-password", PORTS__INDEXER="0", PORTS__LAKE_SINK="0"
    )
    for service in ("indexer", "lake-sink"):
        result, took = vitrina(["run", service], env, timeout=60)
        assert result.returncode != 0, service
        assert f"authentication failed for principal {service}" in result.stderr, service
        assert took < FAST_S, (service, took)
        assert len(result.stderr.splitlines()) < 15  # not ~12 lines a second


def test_untrusted_ca_fails_fast_naming_ssl_ca_location(platform: Settings, tmp_path: Path) -> None:
    from vitrina.security.pki import make_ca

    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(make_ca(datetime.now(UTC), "someone else's CA").cert_pem)
    env = platform_env(platform, KAFKA__SSL_CA_LOCATION=str(other_ca))
    for args in (["topics", "list"], ["ban", "add", "100042", "--reason", "test"]):
        result, took = vitrina(args, env)
        assert result.returncode == 1, args
        # Whitespace-blind: the console wraps the long path anywhere, even mid-name (a
        # longer tmp_path, as under pytest-xdist, moved the break into the path).
        expected = f"TLS handshake failed: certificate not trusted (ssl.ca.location {other_ca})"
        assert "".join(expected.split()) in "".join(result.stderr.split()), result.stderr
        assert "VITRINA__KAFKA__SSL_CA_LOCATION" in result.stderr.replace("\n", "")
        assert took < FAST_S, (args, took)
        _assert_clean(result.stderr)


def test_acl_denial_names_principal_operation_and_topic(platform: Settings) -> None:
    """The client-api principal producing to shop-products was told the topic is missing."""
    env = platform_env(platform, KAFKA__SASL_USERNAME="client-api")
    result, took = vitrina(["shop", "load", str(sample_catalog())], env)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    topic = platform.topics.shop_products
    assert f"principal client-api is not allowed to WRITE topic {topic}" in message
    assert "vitrina acl plan" in message and "does not exist" not in message
    assert took < FAST_S


def test_client_api_producer_is_refused_with_a_clear_error(
    healthy_cluster: SecuredCluster, platform: Settings
) -> None:
    """The same refusal at the producer level (a delivery report), as a service sees it."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import identity, producer_config
    from vitrina.kafka.errors import KafkaAccessDenied, explain

    errors = []
    producer = Producer(
        producer_config(platform, "client-api", on_delivery=lambda err, _m: errors.append(err))
    )
    producer.produce(platform.topics.shop_products, b"{}", b"1")
    producer.flush(15)
    assert errors and errors[0] is not None
    problem = explain(
        errors[0],
        identity(platform, "client-api"),
        operation="WRITE",
        topic=platform.topics.shop_products,
    )
    assert isinstance(problem, KafkaAccessDenied)
    assert problem.message == (
        f"principal client-api is not allowed to WRITE topic {platform.topics.shop_products}"
    )


def test_commands_connect_as_their_own_principal(
    healthy_cluster: SecuredCluster, platform: Settings, tmp_path: Path
) -> None:
    """Only shop-load's password: `shop load` works (it used to need admin and shop-load,
    which `security init` never created); `dlq replay` needs only admin (to read) and
    dlq-replay (to write)."""
    only_loader = secrets_subset(healthy_cluster, tmp_path / "s1", ["shop-load"])
    env = platform_env(platform, KAFKA__SECRETS_DIR=str(only_loader))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"product_id": "1", "name": "no price"}\n')
    result, _ = vitrina(["shop", "load", "--json", str(sample_catalog()), str(bad)], env)
    assert result.returncode == 0, result.stderr
    rejected = orjson.loads(result.stdout)["rejected"]
    assert rejected >= 1
    replayers = secrets_subset(healthy_cluster, tmp_path / "s2", ["admin", "dlq-replay"])
    result, _ = vitrina(  # --unchecked: the rejected lines still break the contract
        ["dlq", "replay", "--unchecked"],
        platform_env(platform, KAFKA__SECRETS_DIR=str(replayers)),
    )
    assert result.returncode == 0, result.stderr
    assert f"replayed {rejected}" in result.stdout


def test_dlq_replay_keeps_the_owner_rule_under_the_clusters_acls(
    healthy_cluster: SecuredCluster, platform: Settings, tmp_path: Path
) -> None:
    """`dlq replay` with only the admin and dlq-replay passwords, on the secured cluster:
    a product the door refused because another store owns its id stays out of shop-products
    (admin reads product-owners), and a door letter of a new id is claimed for its store
    before it is replayed (dlq-replay writes product-owners under its ACLs); a door letter
    whose product was sent again since is left (admin reads shop-products past it)."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter
    from vitrina.kafka.inspect import read_to_end
    from vitrina.services.ownership import load_owners

    def product(pid: str, store: str) -> bytes:
        return orjson.dumps(
            {
                "product_id": pid,
                "name": f"Чайник {store}",
                "category": "Бытовая техника",
                "price": {"amount": 1000.0, "currency": "RUB"},
                "store_id": store,
            }
        )

    loader = platform_env(
        platform,
        KAFKA__SECRETS_DIR=str(secrets_subset(healthy_cluster, tmp_path / "s1", ["shop-load"])),
    )
    for name, pid, store in (("owner", "400001", "store_001"), ("intruder", "400001", "store_002")):
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(product(pid, store) + b"\n")
        result, _ = vitrina(["shop", "load", "--json", str(path)], loader)
        # the intruder's only product is refused: a load that sent nothing exits 2
        assert result.returncode == (2 if name == "intruder" else 0), result.stderr
    producer = Producer(producer_config(platform, "admin"))
    # A door letter of a new id, refused for a reason that has passed (replayed), and one
    # whose product the store sent again since (the replay leaves it).
    for pid in ("400002", "400003"):
        letter = dead_letter(
            platform.topics.dead_letters,
            service="shop-load",
            error="the broker was away",
            key=pid.encode(),
            value=product(pid, "store_003"),
            source_topic=platform.topics.shop_products,
        )
        producer.produce(letter.topic, letter.value, letter.key, headers=letter.headers)
    assert producer.flush(30) == 0
    newer = tmp_path / "newer.jsonl"
    newer.write_bytes(
        orjson.dumps({**orjson.loads(product("400003", "store_003")), "name": "Чайник новый"})
    )
    result, _ = vitrina(["shop", "load", "--json", str(newer)], loader)
    assert result.returncode == 0, result.stderr
    replayers = secrets_subset(healthy_cluster, tmp_path / "s2", ["admin", "dlq-replay"])
    result, _ = vitrina(
        ["dlq", "replay", "--service", "shop-load"],
        platform_env(platform, KAFKA__SECRETS_DIR=str(replayers)),
    )
    assert result.returncode == 0, result.stderr
    assert "replayed 1" in result.stdout
    assert "belongs to store_001, not store_002" in " ".join(result.stdout.split())
    assert "holds a newer record of 400003" in " ".join(result.stdout.split())
    records = [
        (msg.key(), orjson.loads(msg.value())["store_id"], orjson.loads(msg.value())["name"])
        for msg in read_to_end(platform, [platform.topics.shop_products], timeout=60)
    ]
    assert {(key, store) for key, store, _ in records} == {
        (b"400001", "store_001"),
        (b"400002", "store_003"),
        (b"400003", "store_003"),
    }
    assert [name for key, _, name in records if key == b"400003"] == ["Чайник новый"]
    assert load_owners(platform).get("400002") == "store_003"


def test_client_api_bans_with_its_own_principal(
    healthy_cluster: SecuredCluster, platform: Settings, tmp_path: Path
) -> None:
    """With only client-api's password the operator's ban answered 500 (it banned as admin)."""
    import httpx
    from tests.conftest import free_port, wait_for
    from tests.support import UvicornThread

    from vitrina.services.bans import BanService
    from vitrina.services.client_api import create_app

    only_api = secrets_subset(healthy_cluster, tmp_path / "s", ["client-api"])
    settings = platform_settings(
        healthy_cluster,
        tmp_path / "api",
        suffix_of(platform),
        secrets=only_api,
        api={"admin_token": "t0ken"},
    )
    with UvicornThread(create_app(settings), free_port()) as server:
        response = httpx.post(
            f"{server.url}/api/v1/bans/100042",
            headers={"Authorization": "Bearer t0ken"},
            json={"reason": "counterfeit"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
    wait_for(
        lambda: "100042" in BanService(platform).current(),
        20,
        message="the ban to be on the ban list",
    )


def test_status_shows_the_external_cluster(
    healthy_cluster: SecuredCluster, platform: Settings
) -> None:
    env = platform_env(platform)
    result, _ = vitrina(["broker", "status"], env)
    assert result.returncode == 0, result.stderr
    assert "3 broker(s)" in result.stdout
    for address in healthy_cluster.bootstrap.split(","):
        assert address in result.stdout
    result, _ = vitrina(["status"], env)  # exits 1: no service runs here
    assert "kafka       up  3 broker(s)" in result.stdout
    assert "19092" not in result.stdout
    assert "kafka" not in result.stderr  # the cluster is not among the "down" ones


def test_topics_apply_exits_nonzero_when_a_topic_differs(
    healthy_cluster: SecuredCluster, platform: Settings
) -> None:
    from vitrina.kafka.admin import create_topic

    odd = platform.model_copy(
        update={
            "topics": platform.topics.model_copy(update={"orders": f"{platform.topics.orders}-odd"})
        }
    )
    create_topic(odd, odd.topics.orders, partitions=1)  # declared: 3
    result, _ = vitrina(["topics", "apply"], platform_env(odd))
    assert result.returncode == 1
    assert "partitions: declared 3, actual 1" in result.stdout
    result, _ = vitrina(["topics", "apply"], platform_env(platform))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broker_away_is_said_once_while_the_worker_retries(tmp_path: Path) -> None:
    """Was ~12 log lines a second from `run indexer` / `run lake-sink`, forever."""
    import subprocess
    import time

    from tests.conftest import free_port, wait_for
    from tests.distributed.services_support import VITRINA

    from vitrina.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path / "data",
        broker={"embedded": False},
        kafka={"bootstrap_servers": f"127.0.0.1:{free_port()}"},
    )
    log = tmp_path / "indexer.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*VITRINA, "run", "indexer"],
            env=platform_env(settings, PORTS__INDEXER=str(free_port())),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "cannot reach the Kafka broker" in log.read_text(),
            20,
            message="the first report",
        )
        time.sleep(8)  # an observation window: the client retries ~12 times a second
        assert proc.poll() is None  # still retrying, not crashed
    finally:
        proc.terminate()
        proc.wait(20)
    text = log.read_text()
    assert text.count("cannot reach the Kafka broker") == 1, text[-2000:]
    assert "[thrd:" not in text


def test_shop_api_writes_claims_before_products_under_the_clusters_acls(
    healthy_cluster: SecuredCluster, platform: Settings, tmp_path: Path
) -> None:
    """The SHOP API's writer, with only shop-api's password: every new claim is acknowledged
    by the cluster before the first product is produced (before 37e4dc7 both went out at
    once), and the products and claims are there afterwards."""
    from tests.conftest import wait_for
    from tests.support import WatchedClaims

    from vitrina.domain.generator import generate_catalog
    from vitrina.errors import UnavailableError
    from vitrina.kafka.inspect import read_to_end
    from vitrina.kafka.produce import make_producer
    from vitrina.services.ownership import load_owners
    from vitrina.services.shop_api import ProductWriter

    only_shop = secrets_subset(healthy_cluster, tmp_path / "s", ["shop-api"])
    settings = platform_settings(
        healthy_cluster, tmp_path / "shop", suffix_of(platform), secrets=only_shop
    )
    watched = WatchedClaims(make_producer(settings, "shop-api"), settings.topics.product_owners)
    writer = ProductWriter(settings, producer=watched)  # type: ignore[arg-type]
    products = [(p["product_id"], orjson.dumps(p)) for p in generate_catalog(10, seed=5)]

    def written() -> bool:
        """Written; False while a broker has not yet seen the ACLs just granted (the
        refusal must then have stopped the batch before any product)."""
        watched.events.clear()
        try:
            writer.write(products, 60, claims=[(key, "store_001") for key, _ in products])
        except UnavailableError as exc:
            if "authorization" not in str(exc).lower():
                raise
            assert "product produced" not in [kind for kind, _ in watched.events]
            return False
        return True

    try:
        wait_for(written, 60, interval=1.0, message="the ACLs granted to reach every broker")
    finally:
        writer.close()
    kinds = [kind for kind, _ in watched.events]
    assert kinds == ["claim acknowledged"] * 10 + ["product produced"] * 10, kinds
    assert all(err is None for _, err in watched.events)
    published = {m.key().decode() for m in read_to_end(platform, [platform.topics.shop_products])}
    assert published == {key for key, _ in products}
    owners = load_owners(platform).by_product
    assert {owners.get(key) for key, _ in products} == {"store_001"}
