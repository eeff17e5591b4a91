"""`dlq list|show|replay` against the real embedded broker."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer, Message, TopicPartition
from tests.conftest import FIXTURES, wait_for
from tests.support import run_vitrina, settings_env

from vitrina.contracts import decode
from vitrina.errors import NotFoundError
from vitrina.kafka.deadletter import Output, headers_dict
from vitrina.kafka.dlq import DeadLetter, Selection, find, read_dead_letters, replay, summarize
from vitrina.kafka.inspect import read_to_end
from vitrina.kafka.worker import Step, StreamWorker
from vitrina.services.ownership import load_owners
from vitrina.services.shop_load import load_paths

pytestmark = pytest.mark.integration
BAD = FIXTURES / "bad-records"


@pytest.fixture
def rejected(make_settings):
    settings = make_settings()
    report = load_paths(
        settings,
        [
            BAD / "negative-price.json",
            BAD / "bad-currency.json",
            BAD / "malformed-json.json",
            BAD / "two-bad-lines.jsonl",
        ],
    )
    assert report.dead_lettered == 5
    return settings


def test_list_summarises_by_topic_service_and_reason(rejected) -> None:
    letters = read_dead_letters(rejected)
    assert len(letters) == 5
    counts = summarize(letters)
    topic = rejected.topics.shop_products
    assert counts[(topic, "shop-load", "price.amount: minimum")] == 1
    assert counts[(topic, "shop-load", "price.currency: pattern")] == 1
    assert counts[(topic, "shop-load", "malformed JSON")] == 2
    assert counts[(topic, "shop-load", "category: minLength")] == 1
    one = find(letters, letters[0].ref)
    assert one == letters[0]
    with pytest.raises(NotFoundError):
        find(letters, "0:999999")


def test_replay_reproduces_original_bytes_with_replay_count(rejected) -> None:
    settings = rejected
    # unchecked: the record still breaks the contract (a test of the copy, not the check)
    dry = replay(settings, Selection(reason="minimum"), dry_run=True, unchecked=True)
    assert len(dry.chosen) == 1 and dry.dry_run
    assert list(read_to_end(settings, [settings.topics.shop_products])) == []
    report = replay(settings, Selection(reason="minimum"), unchecked=True)
    assert report.by_topic == {settings.topics.shop_products: 1}
    [msg] = read_to_end(settings, [settings.topics.shop_products])
    original = (BAD / "negative-price.json").read_bytes()
    assert orjson.loads(msg.value()) == orjson.loads(original)
    assert msg.key() == b"200005"
    headers = headers_dict(msg.headers())
    assert headers["replay_count"] == "1" and headers["replayed_from"]
    # Nothing is deleted: dead-letters still holds all five.
    assert len(read_dead_letters(settings)) == 5
    # Selecting by offset (P:O) picks exactly that record (one not replayed yet: the one
    # replayed above is left as already replayed; keyless letters land in any partition,
    # so a fixed position in the list was sometimes that one).
    target = next(d for d in read_dead_letters(settings) if d.key != b"200005")
    assert [
        d.ref
        for d in replay(
            settings, Selection(refs=(target.ref,)), dry_run=True, unchecked=True
        ).chosen
    ] == [target.ref]


def test_cli_list_and_show(rejected) -> None:
    settings = rejected
    env = settings_env(settings)

    def vitrina(*args: str) -> subprocess.CompletedProcess[str]:
        return run_vitrina("dlq", *args, env=env, timeout=60)

    listed = vitrina("list", "--json")
    assert listed.returncode == 0, listed.stderr
    body = orjson.loads(listed.stdout)
    assert body["total"] == 5 and len(body["latest"]) == 5
    ref = body["latest"][0]["ref"]
    shown = vitrina("show", ref)
    assert shown.returncode == 0 and "source_file" in shown.stdout and "error" in shown.stdout
    missing = vitrina("show", "0:424242")
    assert missing.returncode == 1 and "no dead letter at 0:424242" in missing.stderr


class _ValidateProducts(Step):
    """The smallest real consumer of shop-products: decode and validate, write nothing."""

    service = "dlq-test-validator"

    def process(self, message: Message) -> list[Output]:
        decode("product", message.value())
        return []


def test_replayed_record_is_validated_again_and_keeps_its_replay_count(rejected) -> None:
    settings = rejected
    replay(settings, Selection(reason="minimum"), unchecked=True)  # rules newer than the CLI's
    worker = StreamWorker(
        settings,
        _ValidateProducts(),
        [settings.topics.shop_products],
        group_id=f"dlq-test-{uuid.uuid4().hex[:8]}",
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:

        def failed_again() -> list[DeadLetter]:
            return [d for d in read_dead_letters(settings) if d.service == worker.service]

        [again] = wait_for(failed_again, 30, message="the replayed record to fail validation")
    finally:
        worker.stop()
        thread.join(20)
    assert again.replay_count == 1
    assert again.source_topic == settings.topics.shop_products
    assert "price.amount" in again.error


def test_replay_of_a_still_invalid_record_is_dead_lettered_once_per_replay(make_settings) -> None:
    """Filter and lake sink both reject a record; each replay adds ONE letter, not one per
    service, and a second replay does not re-send the re-rejections."""
    from vitrina.services.filter import build as build_filter
    from vitrina.services.lake_sink import build_worker as build_lake_sink

    settings = make_settings(lake={"flush_seconds": 0.3})
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config

    producer = Producer(producer_config(settings, "test"))
    producer.produce(settings.topics.shop_products, orjson.dumps({"product_id": "77"}), b"77")
    assert producer.flush(30) == 0
    _, filter_worker = build_filter(settings, group_id=f"f-{uuid.uuid4().hex[:6]}")
    workers = [filter_worker, build_lake_sink(settings, group_id=f"l-{uuid.uuid4().hex[:6]}")]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    try:

        def count(n: int) -> list[DeadLetter] | None:
            found = read_dead_letters(settings)
            return found if len(found) >= n else None

        first = wait_for(lambda: count(2), 30, message="both services reject the record")
        assert {d.service for d in first} == {"filter", "lake-sink"}
        everything = Selection(topic=settings.topics.shop_products)
        assert len(replay(settings, everything, unchecked=True).chosen) == 1
        wait_for(lambda: count(3), 30, message="the replayed copy rejected again")
        assert len(replay(settings, everything, unchecked=True).chosen) == 1
        after = wait_for(lambda: count(4), 30, message="the second replay rejected again")

        def processed(worker: StreamWorker) -> bool:  # all 3 records handled and committed
            from vitrina.kafka.clients import consumer_config

            # Its own consumer: a consumer is not to be used from two threads.
            reader = Consumer(consumer_config(settings, "test", worker.group_id))
            try:
                tps = [
                    TopicPartition(settings.topics.shop_products, p)
                    for p in range(settings.kafka.partitions)
                ]
                return sum(max(0, tp.offset) for tp in reader.committed(tps, timeout=10)) == 3
            finally:
                reader.close()

        wait_for(lambda: all(processed(w) for w in workers), 30, message="both committed")
        assert len(read_dead_letters(settings)) == 4, [d.headers for d in after]
        assert [d.replay_count for d in read_dead_letters(settings)] == [0, 0, 1, 2]
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(30)


def test_replay_of_a_door_rejection_keeps_the_owner_rule(make_settings, tmp_path) -> None:
    """A product the door refused because another store owns its id stays refused when an
    operator replays the dead letters: before, `dlq replay` wrote it straight to
    shop-products, which nothing downstream checks for ownership, and the other store's copy
    was published over the owner's. A door rejection the owner rule allows (a new id, or
    the owner's own) is replayed, and claimed for its store as the door would."""
    settings = make_settings()

    def product(pid: str, store: str, name: str) -> dict[str, object]:
        return {
            "product_id": pid,
            "name": name,
            "category": "Электроника",
            "price": {"amount": 100.0, "currency": "RUB"},
            "store_id": store,
        }

    owner = tmp_path / "owner.json"
    owner.write_bytes(orjson.dumps([product("300001", "store_001", "Чайник владельца")]))
    assert load_paths(settings, [owner]).dead_lettered == 0
    intruder = tmp_path / "intruder.json"
    intruder.write_bytes(
        orjson.dumps(
            [
                product("300001", "store_002", "Чайник чужой"),  # owned by store_001: refused
                {**product("300002", "store_002", "Утюг"), "price": {"amount": -1}},  # invalid
                {  # names no store: may not replace an owned product either
                    k: v
                    for k, v in product("300001", "", "Чайник без магазина").items()
                    if k != "store_id"
                },
            ]
        )
    )
    assert load_paths(settings, [intruder]).dead_lettered == 3
    # A valid product of a new id refused at the door for a reason that has passed (a door
    # letter written here by hand: the doors admit every valid new id).
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    letter = dead_letter(
        settings.topics.dead_letters,
        service="shop-load",
        error="the broker was away",
        key=b"300003",
        value=orjson.dumps(product("300003", "store_003", "Тостер")),
        source_topic=settings.topics.shop_products,
    )
    producer = Producer(producer_config(settings, "test"))
    producer.produce(letter.topic, letter.value, letter.key, headers=letter.headers)
    assert producer.flush(10) == 0
    report = replay(settings, Selection(service="shop-load"))
    stores = {
        (msg.key(), orjson.loads(msg.value()).get("store_id"))
        for msg in read_to_end(settings, [settings.topics.shop_products])
    }
    assert (b"300001", "store_002") not in stores  # the owner's product was not overwritten
    assert (b"300001", None) not in stores
    assert (b"300001", "store_001") in stores
    assert (b"300002", "store_002") not in stores  # still invalid: not replayed
    assert (b"300003", "store_003") in stores
    assert report.by_topic == {settings.topics.shop_products: 1}
    assert [d.key for d, _ in report.invalid] == [b"300002"]
    assert len(report.refused) == 2
    for refused, why in report.refused:
        assert refused.key == b"300001" and "belongs to store_001" in why
    # A product the door admits is claimed for its store, as at the door; the invalid one not.
    owners = load_owners(settings)
    assert owners.get("300003") == "store_003" and owners.get("300002") is None


def test_replay_of_a_product_that_names_no_store_keeps_it_refused(make_settings, tmp_path) -> None:
    """A blind review: `shop load` refused products whose store_id was "" or "store_001\\n"
    (rule `store`), and `dlq replay --reason "names no store"` published both; they were
    then served and searchable. The replay applies the door's store rule too."""
    settings = make_settings()
    base = {"name": "Чайник", "category": "Электроника", "price": {"amount": 10, "currency": "RUB"}}
    catalogue = tmp_path / "stores.json"
    catalogue.write_bytes(
        orjson.dumps(
            [
                {**base, "product_id": "rev-78", "store_id": "store_001\n"},
                {**base, "product_id": "rev-79", "store_id": ""},
            ]
        )
    )
    assert load_paths(settings, [catalogue]).dead_lettered == 2
    report = replay(settings, Selection(reason="names no store"))
    assert report.by_topic == {}
    assert sorted(d.key for d, _ in report.invalid) == [b"rev-78", b"rev-79"]
    assert all("rule: store" in why for _, why in report.invalid)
    assert list(read_to_end(settings, [settings.topics.shop_products])) == []


def test_replay_never_puts_back_a_version_older_than_its_topic_holds(make_settings) -> None:
    """A rejected version replayed after its product was sent again would become the
    latest record of its id: the older price published over the newer one (or an old ban
    over a later unban). Such a letter is not replayed; one whose id has nothing newer is.
    Both kinds of letter: a worker's (source offset) and the door's (no offset: its time)."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = make_settings()
    topic = settings.topics.shop_products
    producer = Producer(producer_config(settings, "test"))
    where: dict[bytes, tuple[int, int]] = {}

    def product(pid: str, amount: float) -> bytes:
        return orjson.dumps(
            {
                "product_id": pid,
                "name": f"Товар {pid}",
                "category": "Электроника",
                "price": {"amount": amount, "currency": "RUB"},
                "store_id": "store_001",
            }
        )

    clock = iter(range(int(time.time() * 1000) - 60_000, 10**15, 1000))  # a second apart

    def send(pid: str, amount: float) -> tuple[int, int]:
        def delivered(err: object, msg: Message) -> None:
            assert err is None, err
            where[msg.key()] = (msg.partition(), msg.offset())

        producer.produce(
            topic, product(pid, amount), pid.encode(), on_delivery=delivered, timestamp=next(clock)
        )
        assert producer.flush(10) == 0
        return where[pid.encode()]

    def letter(pid: str, amount: float, at: tuple[int, int] | None) -> None:
        partition, offset = at or (-1, -1)
        out = dead_letter(
            settings.topics.dead_letters,
            service="filter" if at else "shop-load",
            error="rejected for a reason since fixed",
            key=pid.encode(),
            value=product(pid, amount),
            source_topic=topic,
            partition=partition,
            offset=offset,
        )
        producer.produce(out.topic, out.value, out.key, headers=out.headers, timestamp=next(clock))
        assert producer.flush(10) == 0

    letter("400001", 100.0, send("400001", 100.0))  # the filter refused v1 ...
    send("400001", 200.0)  # ... and the store sent v2 since: v1 stays out
    letter("400002", 100.0, send("400002", 100.0))  # refused, nothing newer: replayed
    send("400003", 100.0)  # an older version, then the door refused v2: replayed
    letter("400003", 200.0, None)
    letter("400004", 100.0, None)  # the door refused v1 ...
    send("400004", 300.0)  # ... and v2 got in after it: v1 stays out
    report = replay(settings, Selection())
    assert sorted(d.key for d, _ in report.superseded) == [b"400001", b"400004"]
    for _, why in report.superseded:
        assert "newer" in why, why
    replayed = [
        (msg.key(), orjson.loads(msg.value())["price"]["amount"])
        for msg in read_to_end(settings, [topic])
        if dict(msg.headers() or []).get("replay_count")
    ]
    assert sorted(replayed) == [(b"400002", 100.0), (b"400003", 200.0)]
    assert report.by_topic == {topic: 2}
    assert report.as_dict()["superseded"] == [
        {"ref": d.ref, "why": why} for d, why in report.superseded
    ]


def test_a_second_replay_of_the_same_letters_sends_nothing_again(make_settings) -> None:
    """Replaying the same dead letters twice (an operator's second run, or a rerun after a
    kill -9 in the middle of the first) sent every record again: an order counted twice by
    the analytics, which deduplicate by Kafka position. A letter whose copy its topic already
    holds is not sent again; one whose copy failed again (a newer letter) is."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = make_settings()
    orders = settings.topics.orders
    producer = Producer(producer_config(settings, "test"))
    landed: list[tuple[int, int]] = []

    def delivered(err: object, msg: Message) -> None:
        assert err is None, err
        landed.append((msg.partition(), msg.offset()))

    order = orjson.dumps({"order_id": "o-1", "customer_id": "c-1", "items": []})
    producer.produce(orders, order, b"c-1", on_delivery=delivered)
    assert producer.flush(10) == 0
    [(partition, offset)] = landed
    for out in (
        dead_letter(  # a worker's letter of that order
            settings.topics.dead_letters,
            service="lake-sink",
            error="a reason since fixed",
            key=b"c-1",
            value=order,
            source_topic=orders,
            partition=partition,
            offset=offset,
        ),
        dead_letter(  # a door's letter (no offset)
            settings.topics.dead_letters,
            service="shop-load",
            error="a reason since fixed",
            key=b"500001",
            value=orjson.dumps(
                {
                    "product_id": "500001",
                    "name": "Лампа",
                    "category": "Дом",
                    "price": {"amount": 10.0, "currency": "RUB"},
                }
            ),
            source_topic=settings.topics.shop_products,
        ),
    ):
        producer.produce(out.topic, out.value, out.key, headers=out.headers)
    assert producer.flush(10) == 0
    # A first run that got only as far as the order (as a kill -9 would leave it) ...
    [order_letter] = [d for d in read_dead_letters(settings) if d.source_topic == orders]
    # unchecked: the order is a stub that breaks its contract (a test of the copies)
    partial = replay(settings, Selection(refs=(order_letter.ref,)), unchecked=True)
    assert partial.by_topic == {orders: 1}
    # ... then a run over everything sends the rest, and the order not again
    first = replay(settings, Selection(), unchecked=True)
    assert first.by_topic == {settings.topics.shop_products: 1}
    assert [d.key for d, _ in first.replayed_before] == [b"c-1"]
    again = replay(settings, Selection(), unchecked=True)
    assert again.by_topic == {} and again.chosen == []
    assert sorted(d.key for d, _ in again.replayed_before) == [b"500001", b"c-1"]
    assert all("already replayed" in why for _, why in again.replayed_before)

    def copies(topic: str) -> int:
        return sum(
            1
            for msg in read_to_end(settings, [topic])
            if dict(msg.headers() or []).get("replay_root")
        )

    assert copies(orders) == 1 and copies(settings.topics.shop_products) == 1
    # --again: an operator's escape hatch, for a copy a consumer lost
    assert replay(settings, Selection(), again=True, unchecked=True).by_topic == {
        orders: 1,
        settings.topics.shop_products: 1,
    }
    assert copies(orders) == 2


def test_a_replay_does_not_compare_every_letter_with_every_other(
    make_settings, monkeypatch
) -> None:
    """The replay split its letters with `d not in replayable` (dataclass equality against
    the whole list): 37 s for 10,000 letters, about an hour for 100,000 — the size of the
    backlog an outage leaves. Counted here, not timed: letter equality is not needed."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = make_settings()
    producer = Producer(producer_config(settings, "test"))
    n = 300
    for i in range(n):
        out = dead_letter(
            settings.topics.dead_letters,
            service="lake-sink",
            error="a reason since fixed",
            key=f"c-{i}".encode(),
            value=orjson.dumps({"order_id": f"o-{i}"}),
            source_topic=settings.topics.orders if i % 10 else "a-topic-that-is-gone",
            partition=0,
            offset=i,
        )
        producer.produce(out.topic, out.value, out.key, headers=out.headers)
    assert producer.flush(10) == 0
    compared = []
    equal = DeadLetter.__eq__

    def counted(self: DeadLetter, other: object) -> bool:
        compared.append(1)
        return equal(self, other)

    monkeypatch.setattr(DeadLetter, "__eq__", counted)
    report = replay(settings, Selection(), dry_run=True, unchecked=True)  # stub orders
    assert len(report.chosen) == n - n // 10 and len(report.unreplayable) == n // 10
    assert len(compared) < n, f"{len(compared)} comparisons of letters for {n} letters"


def test_a_letter_without_a_key_is_replayed_beside_keyless_records(make_settings) -> None:
    """A door letter without a key (a line that was no JSON) and a keyless record written to
    its topic after it: the replay has no version to compare (no key) and sends the letter.
    The first version of the superseded check crashed here (AttributeError on the key)."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = make_settings()
    topic = settings.topics.shop_products
    producer = Producer(producer_config(settings, "test"))
    now = int(time.time() * 1000)
    letter = dead_letter(
        settings.topics.dead_letters,
        service="shop-load",
        error="malformed JSON",
        key=None,
        value=b"{not json",
        source_topic=topic,
    )
    producer.produce(letter.topic, letter.value, None, headers=letter.headers, timestamp=now)
    producer.produce(topic, b"{}", None, timestamp=now + 1000)  # keyless, written after it
    assert producer.flush(10) == 0
    report = replay(settings, Selection(), unchecked=True)  # "{not json" breaks the contract
    assert report.by_topic == {topic: 1} and report.superseded == []


def test_replay_publishes_nothing_when_its_claims_are_refused(make_settings, monkeypatch) -> None:
    """A new id replayed from the door is claimed first; when the broker refuses that claim,
    its product must not be published unclaimed. Before, the replay only waited for the
    claims' flush, which returns once a refused record is gone, and then wrote the product.
    The refusal is simulated (the claim's delivery report carries an authorisation error):
    the embedded broker refuses no record of a topic it has."""
    from confluent_kafka import KafkaError, Producer

    from vitrina.errors import BrokerError
    from vitrina.kafka import worker
    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = make_settings()
    owners_topic = settings.topics.product_owners
    real_make_producer = worker.make_producer

    class RefusingClaims:
        def __init__(self, producer: Any, on_delivery: Any) -> None:
            self.producer, self.on_delivery = producer, on_delivery

        def produce(self, topic: str, *args: Any, **kwargs: Any) -> None:
            if topic == owners_topic:
                self.on_delivery(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED), None)
                return
            self.producer.produce(topic, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.producer, name)

    def make_producer(settings: Any, principal: str, **extra: Any) -> Any:
        return RefusingClaims(
            real_make_producer(settings, principal, **extra), extra["on_delivery"]
        )

    letter = dead_letter(
        settings.topics.dead_letters,
        service="shop-load",
        error="the broker was away",
        key=b"300011",
        value=orjson.dumps(
            {
                "product_id": "300011",
                "name": "Тостер",
                "category": "Электроника",
                "price": {"amount": 100.0, "currency": "RUB"},
                "store_id": "store_003",
            }
        ),
        source_topic=settings.topics.shop_products,
    )
    producer = Producer(producer_config(settings, "test"))
    producer.produce(letter.topic, letter.value, letter.key, headers=letter.headers)
    assert producer.flush(10) == 0
    monkeypatch.setattr(worker, "make_producer", make_producer)
    with pytest.raises(BrokerError, match="claims"):
        replay(settings, Selection(service="shop-load"))
    assert list(read_to_end(settings, [settings.topics.shop_products])) == []


def test_a_record_that_still_breaks_its_contract_is_not_replayed(rejected) -> None:
    """`dlq replay` re-sent records as invalid as when they were rejected: every run added
    as many dead letters again (a blind review saw 4 -> 12 -> 20: a door rejection is
    dead-lettered by the filter and the lake sink both). Now they are listed with the rule
    they break and not sent; a valid record rejected for a passing reason still is."""
    from confluent_kafka import Producer

    from vitrina.kafka.clients import producer_config
    from vitrina.kafka.deadletter import dead_letter

    settings = rejected
    topic = settings.topics.shop_products
    valid = {
        "product_id": "600001",
        "name": "Лампа",
        "category": "Дом",
        "price": {"amount": 10.0, "currency": "RUB"},
    }
    letter = dead_letter(
        settings.topics.dead_letters,
        service="shop-load",
        error="the broker was away",
        key=b"600001",
        value=orjson.dumps(valid),
        source_topic=topic,
    )
    producer = Producer(producer_config(settings, "test"))
    producer.produce(letter.topic, letter.value, letter.key, headers=letter.headers)
    assert producer.flush(10) == 0
    report = replay(settings, Selection())
    assert [d.key for d in report.chosen] == [b"600001"]
    assert len(report.invalid) == 5
    whys = " | ".join(why for _, why in report.invalid)
    assert "still breaks the product contract" in whys
    assert "price.amount" in whys and "malformed JSON" in whys
    sent = [msg.key() for msg in read_to_end(settings, [topic])]
    assert sent == [b"600001"]
    # The CLI says which and why, and a second run sends nothing (the valid one was sent)
    out = run_vitrina("dlq", "replay", env=settings_env(settings), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "replayed 0" in out.stdout and out.stdout.count("still breaks the product") == 5
    assert "--unchecked" in out.stdout
    assert [msg.key() for msg in read_to_end(settings, [topic])] == [b"600001"]
    # --unchecked sends them (for services whose rules are newer than this command's)
    forced = replay(settings, Selection(reason="minimum"), unchecked=True)
    assert len(forced.chosen) == 1 and forced.invalid == []
