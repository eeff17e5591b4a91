"""`shop load` against the real embedded broker: seed catalogues in, broken records to DLQ."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import FIXTURES, SEED_DIR, free_port
from tests.support import settings_env

from vitrina.errors import BrokerError
from vitrina.kafka.deadletter import headers_dict
from vitrina.kafka.inspect import read_to_end
from vitrina.services.ownership import load_owners
from vitrina.services.shop_load import ensure_broker, load_paths

pytestmark = pytest.mark.integration
BAD = FIXTURES / "bad-records"


def _product_ids(path: Path) -> list[str]:
    """Product ids of a seed file, or [] for JSON Schema files."""
    value = orjson.loads(path.read_bytes())
    items = value if isinstance(value, list) else [value]
    return [p["product_id"] for p in items if isinstance(p, dict) and "product_id" in p]


def test_every_seed_catalogue_reaches_shop_products(make_settings) -> None:
    if not SEED_DIR.is_dir():
        pytest.skip(f"seed catalogues not present at {SEED_DIR}")
    settings = make_settings()
    # The seeds are samples of unrelated projects: their ids collide across files with
    # different stores (67890 is store_002's in one, store_001's in another). Each catalogue
    # is loaded as its own marketplace (own ownership topic), so the owner rule stays on.
    files = []
    for index, seed in enumerate(sorted(SEED_DIR.iterdir())):
        alone = make_settings(topics={"product_owners": f"owners-{index}-{uuid.uuid4().hex}"})
        report = load_paths(alone, [seed])
        assert report.rejected == 0, (seed.name, report.reasons)
        files += report.files
    expected = [pid for f in sorted(SEED_DIR.iterdir()) for pid in _product_ids(f)]
    assert sum(f.sent for f in files) == len(expected) > 40
    skipped = {Path(f.path).name for f in files if f.shape == "schema"}
    assert skipped == {
        "AndreyMinenDev_KafkaFinalProject__product_schema.json",
        "Sergeev-77_Kafka_final_project__good.schema.json",
    }
    records = list(read_to_end(settings, [settings.topics.shop_products]))
    assert sorted(m.key().decode() for m in records) == sorted(expected)
    for msg in records:
        assert orjson.loads(msg.value())["product_id"] == msg.key().decode()


def test_every_broken_record_lands_in_dead_letters_with_a_reason(
    make_settings, tmp_path: Path
) -> None:
    settings = make_settings()
    # Huge inputs are generated here rather than committed.
    huge = tmp_path / "huge"
    huge.mkdir()
    base = {
        "product_id": "300001",
        "price": {"amount": 1.0, "currency": "RUB"},
        "category": "Книги",
    }
    (huge / "long-name.json").write_bytes(orjson.dumps({**base, "name": "Я" * 600}))
    (huge / "long-description.json").write_bytes(
        orjson.dumps({**base, "name": "Книга", "description": "слово " * 5000})
    )
    (huge / "over-one-mib.jsonl").write_bytes(
        orjson.dumps({**base, "name": "Книга", "extra": "x" * (1 << 20)}) + b"\n"
    )
    report = load_paths(settings, [BAD, huge])
    files = sorted(BAD.iterdir()) + sorted(huge.iterdir())
    assert len(files) >= 15
    assert report.sent == 0
    assert report.rejected == report.dead_lettered >= len(files)
    letters = list(read_to_end(settings, [settings.topics.dead_letters]))
    assert len(letters) == report.rejected
    assert list(read_to_end(settings, [settings.topics.shop_products])) == []
    seen_files = set()
    for msg in letters:
        headers = headers_dict(msg.headers())
        assert headers["source_topic"] == settings.topics.shop_products
        assert headers["service"] == "shop-load"
        assert headers["source_offset"] == "-1"
        assert headers["source_position"].split()[0] in {"item", "line"}
        assert len(headers["error"]) > 10, headers
        seen_files.add(headers["source_file"])
    assert seen_files == {str(f) for f in files}
    reasons = dict(report.reasons)
    assert reasons["malformed JSON"] >= 3
    assert reasons["not UTF-8"] == 1  # bad-records/not-utf8.json, named for what it is
    assert reasons["price.amount: minimum"] == 1
    assert reasons["product_id: pattern"] == 1
    assert reasons["name: maxLength"] == 1
    assert reasons["record too large"] == 1
    assert reasons["nested too deep"] == 1
    assert reasons["stock.available: maximum"] == 1
    assert reasons["created_at: pattern"] == 2  # "вчера" and the leap second
    assert reasons["array not closed"] == 1  # a file cut between two items


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(levels - 1):
        node = {"a": node}
    return node


def test_records_that_cannot_flow_are_rejected_and_the_load_carries_on(
    make_settings, tmp_path: Path
) -> None:
    """Issue 12 item 4: a 300-deep record (orjson's limit) or one over the producer's max
    message size stopped the load with a traceback and skipped the valid records after it."""
    settings = make_settings()
    base = {"name": "Книга", "price": {"amount": 1.0, "currency": "RUB"}, "category": "Книги"}
    array = tmp_path / "array.json"
    array.write_bytes(
        orjson.dumps(
            [{**base, "product_id": "500001"}, {**base, "product_id": "500002", "x": _deep(100)}]
        )
        .replace(b'"x":', b'"x":' + b'{"a":' * 200, 1)
        .replace(b"}]", b"}" * 200 + b"}]", 1)
    )
    lines = tmp_path / "lines.jsonl"
    lines.write_bytes(
        b"\n".join(
            [
                orjson.dumps({**base, "product_id": "500003", "x": _deep(80)}),
                # Under the old 1 MiB limit, over librdkafka's 1,000,000-byte message.max.bytes.
                orjson.dumps({**base, "product_id": "500004", "x": "y" * 990_000}),
                orjson.dumps({**base, "product_id": "500005", "created_at": "2025-08-01 16:33:58"}),
            ]
        )
        + b"\n"
    )
    report = load_paths(settings, [array, lines])
    assert (report.sent, report.rejected) == (2, 3), report.as_dict()
    assert report.reasons == {"nested too deep": 2, "record too large": 1}
    written = {
        m.key().decode(): orjson.loads(m.value())
        for m in read_to_end(settings, [settings.topics.shop_products])
    }
    assert set(written) == {"500001", "500005"}
    assert written["500005"]["created_at"] == "2025-08-01T16:33:58Z"  # normalised at the door
    assert report.dead_lettered == 3


def run_shop_load(
    settings: Any, *args: str, prefix: list[str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`vitrina shop load ARGS` in its own process (after `prefix`, e.g. prlimit)."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "vitrina", "shop", "load", *args],
        capture_output=True,
        text=True,
        env=settings_env(settings),
        timeout=timeout,
        check=False,
    )


def test_cli_reports_poison_records_without_a_traceback(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    path = tmp_path / "deep.json"
    path.write_bytes(
        b'[{"product_id": "600001", "name": "x", "category": "y", "price": '
        b'{"amount": 1, "currency": "RUB"}, "x": '
        + b"[" * 300
        + b"]" * 300
        + b'}, {"product_id": "600002", "name": "x", "category": "y", "price": '
        b'{"amount": 1, "currency": "RUB"}}]'
    )
    result = run_shop_load(settings, "--json", str(path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = orjson.loads(result.stdout)
    assert (summary["sent"], summary["rejected"]) == (1, 1)
    assert summary["reasons"] == {"nested too deep": 1}


def test_a_store_cannot_take_another_stores_product_by_loading_it(
    make_settings, tmp_path: Path
) -> None:
    """Issue 12 item 7 at the loader door: ownership is folded from product-owners."""
    settings = make_settings()
    base = {"name": "Книга", "price": {"amount": 1.0, "currency": "RUB"}, "category": "Книги"}
    first = tmp_path / "first.json"
    first.write_bytes(orjson.dumps([{**base, "product_id": "85123A", "store_id": "store_001"}]))
    assert load_paths(settings, [first]).sent == 1
    second = tmp_path / "second.json"
    second.write_bytes(
        orjson.dumps(
            [
                {**base, "product_id": "85123A", "store_id": "store_002", "name": "подмена"},
                {**base, "product_id": "085123A", "store_id": "store_002"},
            ]
        )
    )  # a distinct id
    report = load_paths(settings, [second])
    assert (report.sent, report.rejected) == (1, 1)
    assert report.reasons == {"product_id: owner": 1}
    assert load_owners(settings).by_product == {"85123A": "store_001", "085123A": "store_002"}


def test_html_in_a_name_is_valid_data(make_settings, tmp_path: Path) -> None:
    settings = make_settings()
    product = {
        "product_id": "400001",
        "name": "<script>alert('x')</script> Чайник",
        "price": {"amount": 990.0, "currency": "RUB"},
        "category": "Бытовая техника",
    }
    path = tmp_path / "html.json"
    path.write_bytes(orjson.dumps([product]))
    report = load_paths(settings, [path])
    assert (report.sent, report.rejected) == (1, 0)
    [msg] = read_to_end(settings, [settings.topics.shop_products])
    assert orjson.loads(msg.value())["name"] == product["name"]


def test_broker_away_is_a_clear_error_naming_the_address(make_settings) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = make_settings(create_topics=False, kafka={"bootstrap_servers": address})
    with pytest.raises(BrokerError) as info:
        ensure_broker(settings, settings.topics.shop_products, timeout=2.0)
    assert address in info.value.message
    assert "vitrina broker status" in (info.value.hint or "")


def test_cli_prints_a_summary_and_exits_zero(make_settings) -> None:
    settings = make_settings()
    result = run_shop_load(
        settings,
        "--json",
        str(BAD / "negative-price.json"),
        str(SEED_DIR / "arigatory_kafka-final__products.json"),
    )
    assert result.returncode == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert (summary["sent"], summary["rejected"]) == (2, 1)
    assert summary["reasons"] == {"price.amount: minimum": 1}


def test_a_file_over_the_size_limit_is_refused_unread_and_fails_strict(
    make_settings, tmp_path: Path
) -> None:
    """A catalogue over the 1 GiB limit was read whole into memory before being refused (a
    20 GB file would not fit), and `--strict` exited 0 for it: only rejected records
    counted, not a file refused whole. Its size is now checked before it is read, and
    `--strict` exits 2 when any file was refused."""
    from vitrina.domain.catalog import MAX_CATALOG_BYTES

    settings = make_settings()
    big = tmp_path / "huge.json"
    with open(big, "wb") as f:
        f.truncate(MAX_CATALOG_BYTES + 1)  # sparse: no disk used, nothing worth reading
    result = run_shop_load(
        settings,
        "--json",
        "--strict",
        str(big),
        str(SEED_DIR / "arigatory_kafka-final__products.json"),
        # Address space of 1 GiB: reading the whole file would fail.
        prefix=["prlimit", f"--as={MAX_CATALOG_BYTES}"],
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    summary = orjson.loads(result.stdout)
    assert (summary["sent"], summary["refused_files"]) == (2, 1)
    (refused,) = [f for f in summary["files"] if f["path"] == str(big)]
    assert refused["shape"] == "invalid" and "over the" in refused["skipped"]


def test_a_load_that_sends_nothing_exits_2_even_without_strict(make_settings) -> None:
    """A load whose every record was rejected exited 0, as a successful one does: a script
    could not tell "loaded" from "nothing loaded" without `--strict` (which also fails a
    load with one bad record of thousands). Now it exits 2 and says so; a mixed one still
    exits 0."""
    settings = make_settings()
    result = run_shop_load(
        settings, "--json", str(BAD / "negative-price.json"), str(BAD / "two-bad-lines.jsonl")
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    summary = orjson.loads(result.stdout)
    assert (summary["sent"], summary["rejected"]) == (0, 3)
    said = " ".join(result.stderr.split())  # the terminal's width wraps it
    assert "nothing was sent" in said and "vitrina dlq list" in said
    mixed = run_shop_load(
        settings,
        str(BAD / "negative-price.json"),
        str(SEED_DIR / "arigatory_kafka-final__products.json"),
    )
    assert mixed.returncode == 0, mixed.stderr


def test_a_load_declares_the_currency_of_bare_prices(make_settings, tmp_path) -> None:
    """`vitrina shop load --currency`: without it a bare price is rejected (dead-letters,
    saying how); with it the same file is admitted in that currency."""
    settings = make_settings()
    path = tmp_path / "flat.jsonl"
    flat = {"id": "p9001", "name": "Чай", "category": "Food", "price": 1.25}
    path.write_bytes(orjson.dumps(flat) + b"\n")
    report = load_paths(settings, [path])
    assert (report.sent, report.rejected) == (0, 1), report.as_dict()
    result = run_shop_load(settings, "--currency", "byn", str(path))
    assert result.returncode == 2 and "not a currency" in result.stderr, result.stderr
    result = run_shop_load(settings, "--json", "--currency", "BYN", str(path))
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["sent"] == 1
    [message] = read_to_end(settings, [settings.topics.shop_products])
    assert message.key() == b"p9001"
    assert orjson.loads(message.value())["price"] == {"amount": 1.25, "currency": "BYN"}


def test_a_load_declares_the_category_of_products_without_one(make_settings, tmp_path) -> None:
    """`vitrina shop load --category`: without it a product with no category is rejected
    (saying how); with it the same file is admitted in that category."""
    settings = make_settings()
    path = tmp_path / "minimal.json"
    minimal = {"product_id": "34567", "name": "Ручка", "price": {"amount": 35, "currency": "BYN"}}
    path.write_bytes(orjson.dumps(minimal))
    report = load_paths(settings, [path])
    assert (report.sent, report.rejected) == (0, 1), report.as_dict()
    result = run_shop_load(settings, "--category", " ", str(path))
    assert result.returncode == 2 and "--category" in result.stderr, result.stderr
    result = run_shop_load(settings, "--json", "--category", "Канцелярия", str(path))
    assert result.returncode == 0, result.stderr
    assert orjson.loads(result.stdout)["sent"] == 1
    [message] = read_to_end(settings, [settings.topics.shop_products])
    assert message.key() == b"34567"
    assert orjson.loads(message.value())["category"] == "Канцелярия"
