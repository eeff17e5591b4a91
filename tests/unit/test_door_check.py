"""The filter's fast contract check (door.check_product) agrees with codec.validate."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from vitrina.contracts.codec import validate
from vitrina.contracts.door import check_product
from vitrina.domain.generator import generate_catalog
from vitrina.errors import ContractError

BAD = Path(__file__).parent.parent / "fixtures" / "bad-records"


def rule_of(check: object, value: object, raw: bytes) -> str | None:
    try:
        if check is validate:
            validate("product", value, raw)
        else:
            check_product(value, raw)
    except ContractError as exc:
        return exc.rule
    return None


def bad_values() -> list[tuple[str, object, bytes]]:
    cases = []
    for path in sorted(BAD.iterdir()):
        for line in (
            path.read_bytes().splitlines() if path.suffix == ".jsonl" else [path.read_bytes()]
        ):
            try:
                cases.append((path.name, orjson.loads(line), line))
            except orjson.JSONDecodeError:
                continue  # malformed JSON never reaches the contract check
    return cases


@pytest.mark.parametrize(("name", "value", "raw"), bad_values())
def test_bad_records_break_the_same_rule(name: str, value: object, raw: bytes) -> None:
    assert rule_of(check_product, value, raw) == rule_of(validate, value, raw), name


def test_generated_products_and_odd_but_valid_instants_pass() -> None:
    for product in generate_catalog(200, seed=3):
        check_product(product, orjson.dumps(product))
    base = next(iter(generate_catalog(1, seed=3)))
    for instant in ("2025-08-01 16:33:58+03:00", "2025-08-01T16:33:58.123456789Z", 1754000000):
        value = {**base, "created_at": instant}
        check_product(value, orjson.dumps(value))


@pytest.mark.parametrize("instant", ["2025-02-30T10:00:00Z", "2025-08-01T16:33:60Z", "вчера"])
def test_instants_that_are_no_day_are_refused(instant: str) -> None:
    value = {**next(iter(generate_catalog(1, seed=3))), "updated_at": instant}
    with pytest.raises(ContractError) as caught:
        check_product(value, orjson.dumps(value))
    assert caught.value.rule == rule_of(validate, value, orjson.dumps(value))
