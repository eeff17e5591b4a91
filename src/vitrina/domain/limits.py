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

# A product id is an ASCII token: letters, digits, `-`, `_`, `.`, 1..64 characters, but not
# `.` or `..`: those are dot segments, which every browser and HTTP client resolves in a URL
# path, so /api/v1/products/.. could never reach the product. Spelt without a lookahead,
# so RE2 (the lake's vectorised check) reads the same pattern. Ids are compared as text:
# `00090002` and `90002` are two different products.
PRODUCT_ID_PATTERN = (
    r"^([A-Za-z0-9_-][A-Za-z0-9._-]{0,63}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}"
    r"|\.\.[A-Za-z0-9._-]{1,62})$"
)
PRODUCT_ID_CHARS = "letters, digits, '-', '_' or '.', at most 64 characters, not '.' or '..'"
_PRODUCT_ID = re.compile(PRODUCT_ID_PATTERN)

# Characters that show nothing: white space (Unicode's, not only ASCII's), zero-width and
# joiner characters, direction marks and embeddings, the soft hyphen, the byte-order mark.
# A name or category made only of them shows as blank on every page and in every list.
INVISIBLE = (
    "\t\n\x0b\x0c\r \x85\xa0\xad\u1680\u180e"
    + "".join(map(chr, range(0x2000, 0x2010)))
    + "".join(map(chr, range(0x2028, 0x2030)))
    + "".join(map(chr, range(0x205F, 0x2065)))
    + "\u3000\ufeff"
)
# "Somewhere a character that shows" (a JSON Schema `pattern` is found anywhere in the
# text), in ECMA-262 escapes as JSON Schema specifies; Rust's and Python's regexes read it
# alike, RE2 after `re2_pattern`.
VISIBLE_PATTERN = (
    r"[^\t\n\x0b\f\r \x85\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
)

# A product's name and category (product v4): no control character (C0, DEL, C1: NUL, an
# escape, a newline…, which broke the lines of logs and terminals and showed as nothing or
# as garbage on the page) and, somewhere, a character that shows. Anchored: the whole text.
SHOWN_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f]*"
    r"[^\x00-\x20\x7f-\xa0\xad\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff]"
    r"[^\x00-\x1f\x7f-\x9f]*$"
)


def re2_pattern(pattern: str) -> str:
    """An ECMA pattern's `\\uXXXX` escapes as RE2 writes them (`\\x{XXXX}`)."""
    return re.sub(r"\\u([0-9A-Fa-f]{4})", r"\\x{\1}", pattern)


# A customer id (orders' customer_id, events' and queries' user_id): any text of 1..100
# characters without a control character (C0, DEL, C1: a newline, a tab, NUL, an escape),
# which would break the lines of every log and terminal that prints it and cannot be typed
# back into a URL or the CLI. Anchored for JSON Schema (Rust's `$` is the end of the text);
# Python's code asks `has_control` instead: its `$` also matches before a final newline.
USER_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"  # the same, or empty (an optional parameter)
MAX_USER_ID_CHARS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# What a pattern means, for the error a sender reads instead of the regex.
PATTERN_MEANINGS = {
    PRODUCT_ID_PATTERN: f"is not a product id ({PRODUCT_ID_CHARS})",
    VISIBLE_PATTERN: "has no visible character (only spaces or invisible characters)",
    SHOWN_PATTERN: "has a control character (NUL, an escape, a newline…) or no visible "
    "character (only spaces or invisible characters)",
    USER_ID_PATTERN: "has a control character (a newline, a tab, NUL…)",
}


def is_product_id(text: object) -> bool:
    """True for a valid product id (the whole string; no surrounding whitespace)."""
    return isinstance(text, str) and _PRODUCT_ID.fullmatch(text) is not None


def has_control(text: str) -> bool:
    """True when `text` holds a control character (see USER_ID_PATTERN)."""
    return _CONTROL.search(text) is not None


def is_blank(text: str) -> bool:
    """True when no character of `text` shows (see INVISIBLE)."""
    return not text.strip(INVISIBLE)


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
