"""The blocked-products audit record: the product's own bytes plus the ban, no re-encoding."""

from __future__ import annotations

import orjson

from vitrina.services.filter_outputs import blocked_audit

BAN = {
    "product_id": "7",
    "reason": "подделка",
    "banned_by": "ops",
    "banned_at": "2024-05-01T10:00:00+00:00",
}


def test_audit_is_the_product_plus_the_ban() -> None:
    raw = orjson.dumps({"product_id": "7", "name": "Часы", "price": {"amount": 1.5}})
    audit = orjson.loads(blocked_audit(raw, BAN, None))
    assert audit["name"] == "Часы" and audit["price"] == {"amount": 1.5}
    assert audit["ban"]["reason"] == "подделка" and audit["ban"]["banned_by"] == "ops"


def test_audit_of_a_product_too_deep_for_orjson_to_write() -> None:
    # A product nested 300 deep parses but cannot be re-serialised by orjson (255 levels):
    # the filter used to crash-loop on banning it (issue 12.4).
    deep = b'{"a":' * 300 + b'"x"' + b"}" * 300
    raw = b'{"product_id":"7","name":"n","extra":' + deep + b"}\n"
    audit = blocked_audit(raw, BAN, None)
    assert audit.startswith(raw.rstrip()[:-1]) and audit.endswith(b"}")
    assert b'"ban":{' in audit


def test_a_product_with_its_own_ban_field_is_re_encoded_not_spliced() -> None:
    raw = orjson.dumps(
        {
            "product_id": "7",
            "name": "n",
            "category": "Тест",
            "price": {"amount": 1.0, "currency": "RUB"},
            "ban": "store's own",
        }
    )
    audit = orjson.loads(blocked_audit(raw, BAN, None))
    assert audit["ban"]["reason"] == "подделка"
