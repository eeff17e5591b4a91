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
# joiner characters, direction marks and embeddings, the soft hyphen, the byte-order mark;
# since product v5 also the fillers and blanks that fonts draw as nothing (the Hangul
# fillers U+115F, U+1160, U+3164, U+FFA0, the braille blank U+2800, the combining grapheme
# joiner U+034F, Khmer's inherent vowels U+17B4/5, the Arabic letter mark U+061C), the
# variation selectors (U+180B-180F, U+FE00-FE0F), the invisible operators and deprecated
# format characters (U+2060-206F), the interlinear annotation marks (U+FFF9-FFFB) and the
# noncharacters U+FFFE/FFFF (a blind review: names of only such characters were accepted
# and showed blank). A name or category made only of them shows as blank on every page and
# in every list.
def _span(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


INVISIBLE = (
    "\t\n\x0b\x0c\r \x85\xa0\xad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5"
    + _span(0x180B, 0x180F)
    + _span(0x2000, 0x200F)
    + _span(0x2028, 0x202F)
    + _span(0x205F, 0x206F)
    + "\u2800\u3000\u3164"
    + _span(0xFE00, 0xFE0F)
    + "\ufeff\uffa0"
    + _span(0xFFF9, 0xFFFB)
    + "\ufffe\uffff"
)
_CONTROLS = _span(0x00, 0x1F) + _span(0x7F, 0x9F)  # C0, DEL, C1


def ecma_class(chars: str) -> str:
    """The inside of a regex character class holding exactly `chars`, in escapes that
    ECMA-262 (JSON Schema's dialect), Rust's and Python's regexes and RE2 (after
    `re2_pattern`) all read alike: `\\xNN` below U+0100, `\\uXXXX` above; runs as ranges."""

    def escaped(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    codes = sorted({ord(c) for c in chars})
    parts = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        first, last = codes[i], codes[j]
        parts.append(escaped(first) if first == last else f"{escaped(first)}-{escaped(last)}")
        i = j + 1
    return "".join(parts)


# "Somewhere a character that shows" (a JSON Schema `pattern` is found anywhere in the
# text).
VISIBLE_PATTERN = f"[^{ecma_class(INVISIBLE)}]"

# A product's name and category (product v4): no control character (C0, DEL, C1: NUL, an
# escape, a newline…, which broke the lines of logs and terminals and showed as nothing or
# as garbage on the page) and, somewhere, a character that shows (v5: INVISIBLE grew).
# Anchored: the whole text.
SHOWN_PATTERN = (
    f"^[^{ecma_class(_CONTROLS)}]*"
    f"[^{ecma_class(_CONTROLS + INVISIBLE)}]"
    f"[^{ecma_class(_CONTROLS)}]*$"
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
