"""The limits every entry point and every worker applies: one rule, one place.

A record that breaks one of them could not flow through the platform (orjson cannot
serialise it, the producer cannot send it, the lake cannot store it), so the doors (SHOP
API, `vitrina shop load`) reject it with the rule's name and the workers dead-letter it —
the search index and the lake always agree on what is valid.
"""

from __future__ import annotations

import re
from typing import Any

# 64 levels of objects/arrays (the record itself is level 1). orjson serialises at most 254
# and parses at most 1024; no real product needs more than a handful.
MAX_DEPTH = 64
# 960 KiB: librdkafka's message.max.bytes is 1,000,000 bytes for key + value + headers;
# the rest is room for the key, the headers and a dead letter's extra headers.
MAX_RECORD_BYTES = 960 * 1024
# Integers are stored as int64 in the lake (Parquet) and the index.
MAX_INT64 = 2**63 - 1

# A product id is an ASCII token: letters, digits, `-`, `_`, `.`, 1..64 characters. Ids are
# compared as text: `00090002` and `90002` are two different products.
PRODUCT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
PRODUCT_ID_CHARS = "letters, digits, '-', '_' or '.', at most 64"
_PRODUCT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def is_product_id(text: object) -> bool:
    """True for a valid product id (the whole string; no surrounding whitespace)."""
    return isinstance(text, str) and _PRODUCT_ID.fullmatch(text) is not None


def nesting_depth_over(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when objects/arrays in `value` nest deeper than `limit` levels (iterative)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def may_nest_deeper(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Cheap pre-check on raw JSON: fewer brackets than `limit` cannot nest deeper."""
    return raw.count(b"{") + raw.count(b"[") > limit
