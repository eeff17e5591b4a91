"""The `product` contract as ONE pass over the bytes, for the hot loops (filter, shop load).

`canonical_product(raw)` decodes and validates a record in a single C-level msgspec pass:
no dict of the whole product, no second walk by the schema validator, no bracket count for
depth. It answers only "surely valid, in the door's canonical form" or "look closer" (None):
the JSON Schema file stays the one authority (codec.validate), run on every record this
check does not accept. So the check may be STRICTER than the contract, never looser:

- every field of the schema is typed with the schema's own limits (maxLength counts code
  points in both; the instant pattern is anchored with `\\A…\\Z`, because Python's `$` also
  matches before a final newline and the schema's does not);
- unknown fields are refused here (the schema allows them): a skipped value would be neither
  typed nor depth-checked, so such records take the slow path; with only known fields the
  record nests at most 3 levels, far under MAX_DEPTH;
- a name and a category only of printable characters (`str.isprintable`: no control
  character, and no space but " ");
- instants only in the canonical `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` form, and real days
  (2025-02-30 is refused by `datetime.fromisoformat`); epoch numbers and other zones take
  the slow path, which accepts and (at the door) normalises them;
- msgspec refuses JSON that orjson refuses (lone surrogates, bad UTF-8, NaN, trailing
  commas), so accepted bytes can be forwarded as they are.

tests/unit/test_product_check.py holds this to the schema: fixtures, seed catalogues,
generated products and hypothesis-mutated records.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from vitrina.domain.limits import INVISIBLE, MAX_INT64

__all__ = ["CanonicalProduct", "canonical_product"]

# The schema's patterns (ids: `^[A-Za-z0-9._-]{1,64}$` but not `.` or `..`; `^[A-Z]{3}$`)
# as a length (msgspec) and "nothing left after stripping the allowed characters" (str.strip
# in C): the same texts, at half the cost of a regex search per record.
_PRODUCT_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
_CURRENCY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DOT_SEGMENTS = frozenset({".", ".."})
# The door's canonical instant (domain/instants.py), narrowed to the schema's hour/minute/
# second ranges: a subset of both the schema pattern and instants._CANONICAL.
_CANONICAL_INSTANT = (
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{6})?Z\Z"
)
# Matched here, not as msgspec's `Meta(pattern=...)`: msgspec calls back into Python's `re`
# for each, at ~0.6 µs an instant against ~0.2 µs for a compiled match (two per product:
# ~15 % of the check). The type of an instant is still text, or null, in the decode.
_IS_CANONICAL_INSTANT = re.compile(_CANONICAL_INSTANT).match


Text200 = Annotated[str, Meta(max_length=200)]
Instant = str
Count = Annotated[int, Meta(ge=0, le=MAX_INT64)]
SpecValue = str | int | float | bool | None


# gc=False: decoded from JSON, these never form reference cycles; untracked, they are
# cheaper to create and the cyclic GC never walks them.
class _Price(Struct, forbid_unknown_fields=True, gc=False):
    amount: Annotated[float, Meta(ge=0, le=1_000_000_000_000)]
    currency: Annotated[str, Meta(min_length=3, max_length=3)]  # and [A-Z]: see below


class _Stock(Struct, forbid_unknown_fields=True, gc=False):
    available: Count
    reserved: Count


class _Image(Struct, forbid_unknown_fields=True, gc=False):
    url: Annotated[str, Meta(max_length=2048)]
    alt: Annotated[str, Meta(max_length=1000)] | None = None


class CanonicalProduct(Struct, forbid_unknown_fields=True, gc=False):
    """A product that keeps the contract with every instant canonical (schemas/product.json)."""

    product_id: Annotated[str, Meta(min_length=1, max_length=64)]  # and its characters
    name: Annotated[str, Meta(min_length=1, max_length=500)]
    price: _Price
    category: Annotated[str, Meta(min_length=1, max_length=200)]
    brand: Text200 | None = None
    description: Annotated[str, Meta(max_length=20_000)] | None = None
    created_at: Instant | None = None
    updated_at: Instant | None = None
    images: Annotated[list[_Image], Meta(max_length=50)] | None = None
    index: Text200 | None = None
    sku: Text200 | None = None
    specifications: dict[str, SpecValue] | None = None
    stock: _Stock | None = None
    store_id: Text200 | None = None
    tags: Annotated[list[str], Meta(max_length=100)] | None = None


_DECODE = msgspec.json.Decoder(CanonicalProduct).decode


def canonical_product(raw: bytes) -> CanonicalProduct | None:
    """The product when `raw` surely keeps the contract in canonical form; None: look closer."""
    try:
        product = _DECODE(raw)
    except msgspec.DecodeError:  # ValidationError is a DecodeError too
        return None
    if product.product_id.strip(_PRODUCT_ID_CHARS) or product.price.currency.strip(_CURRENCY_CHARS):
        return None
    # Not `.` or `..`; a name and a category with a character that shows (the schema's
    # patterns, domain/limits.py).
    if product.product_id in _DOT_SEGMENTS:
        return None
    if not product.name.strip(INVISIBLE) or not product.category.strip(INVISIBLE):
        return None
    # No control character in them (str.isprintable, in C, is stricter: a no-break space
    # or a soft hyphen also sends the record to the schema, which accepts it).
    if not (product.name.isprintable() and product.category.isprintable()):
        return None
    # A store named with a control character or nothing visible: `shop load` refuses it
    # on the slow path.
    store = product.store_id
    if store is not None and not (store.isprintable() and store.strip(INVISIBLE)):
        return None
    try:
        for instant in (product.created_at, product.updated_at):
            if instant is not None:
                if _IS_CANONICAL_INSTANT(instant) is None:
                    return None  # another form (an offset, epoch text): the slow path
                datetime.fromisoformat(instant)
    except ValueError:  # no such day: codec.validate names the rule
        return None
    return product
