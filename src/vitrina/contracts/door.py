"""The door: what every entry point (SHOP API, `vitrina shop load`) does to a product.

One function decides, so the index and the lake agree on validity: the shapes real stores
send rewritten into the contract's form (domain/product_shapes.py), the `product` contract
(schema + depth + real instants), the instants normalised to their canonical UTC form, and
the size of the bytes that will really be produced. What leaves the door is in the
contract's own form, so the workers check it with the contract alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import orjson

from vitrina.contracts.codec import (
    INSTANT_FIELDS,
    check_depth,
    check_instants,
    loads,
    validate,
    validator,
)
from vitrina.contracts.product_check import CanonicalProduct, canonical_product
from vitrina.domain.instants import canonical_instant, is_canonical
from vitrina.domain.limits import MAX_DEPTH, MAX_RECORD_BYTES, has_control, is_blank
from vitrina.domain.product_shapes import NOTHING_DECLARED, Declared, store_shapes
from vitrina.errors import ContractError

PRODUCT_INSTANTS = INSTANT_FIELDS["product"]
# The hint of a `required` refusal: what every product has (the Product schema: /docs).
NEEDED = "a product needs product_id, name, price {amount, currency}, category (see /docs)"
# The hint of a price that names no currency: nothing guesses one, the store may declare it.
BARE_PRICE = (
    "send price as {amount, currency}, or declare the currency of a catalogue whose prices "
    "name none: POST /api/v1/products?currency=RUB, vitrina shop load --currency RUB"
)
# The hint of a product without a category: nothing guesses one, the store may declare it.
NO_CATEGORY = (
    "send the product's category, or declare the category of a catalogue whose products "
    "name none: POST /api/v1/products?category=Одежда, vitrina shop load --category Одежда"
)


def too_large(size: int) -> ContractError:
    return ContractError(
        f"product: the record is {size:,} bytes, over the "
        f"{MAX_RECORD_BYTES:,}-byte limit (rule: size)",
        field="(root)",
        rule="size",
        hint="trim the description/images or split the record",
    )


def check_record_key(key: bytes | None, product_id: str, hint: str) -> None:
    """ContractError unless a product record is keyed by its own product_id: the topics are
    compacted by key and the index keyed by product_id, so a record under another key could
    never be withdrawn by its product's tombstone."""
    if key is None or key.decode("utf-8", "replace") != product_id:
        raise ContractError(
            f"record key {key!r} is not the product_id {product_id!r}",
            field="product_id",
            rule="key",
            hint=hint,
        )


def normalised(value: dict[str, Any]) -> dict[str, Any] | None:
    """A copy with canonical instants, or None when every instant is canonical already."""
    changed: dict[str, Any] = {}
    for field in PRODUCT_INSTANTS:
        instant = value.get(field)
        if instant is not None and not is_canonical(instant):
            changed[field] = canonical_instant(instant)
    return {**value, **changed} if changed else None


def _instants_after_schema(value: dict[str, Any]) -> dict[str, Any] | None:
    """`normalised` for a product whose schema check passed (the hot loop's fast path).

    The schema already enforced the pattern, so a 20- or 27-character text ending in `Z`
    with `T` at 10 is canonical and only needs to be a real day (fromisoformat).
    """
    changed: dict[str, Any] | None = None
    for field in PRODUCT_INSTANTS:
        instant = value.get(field)
        if instant is None:
            continue
        if (
            type(instant) is str
            and len(instant) in (20, 27)
            and instant[-1] == "Z"
            and instant[10] == "T"
        ):
            try:
                datetime.fromisoformat(instant)
                continue
            except ValueError:
                pass  # check_instants names the rule
        check_instants("product", value)
        changed = changed or {}
        changed[field] = canonical_instant(instant)
    return {**value, **changed} if changed else None


def admit_checked(value: dict[str, Any], raw: bytes | None) -> bytes:
    """Bytes to produce for a product whose schema check passed; ContractError otherwise.

    `raw` (the original bytes) is produced as-is when nothing needed normalising.
    """
    if raw is None or raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:  # else cannot nest deeper
        check_depth("product", value, raw)
    fixed = _instants_after_schema(value)
    if fixed is not None or raw is None:
        raw = orjson.dumps(fixed if fixed is not None else value)
    if len(raw) > MAX_RECORD_BYTES:
        raise too_large(len(raw))
    return raw


def admitted_product(
    value: Any, raw: bytes | None = None, declared: Declared = NOTHING_DECLARED
) -> tuple[Any, bytes]:
    """The full door: the product as admitted (store shapes rewritten) and its bytes.

    Callers take the product id and store from the returned product, not from what was
    sent (a store may send `productId`). `declared`: what the catalogue declared for
    products that do not say it (a currency, a category: product_shapes.store_shapes).
    ContractError naming the rule otherwise.
    """
    if isinstance(value, dict):
        fixed = store_shapes(value, declared)
        if fixed is not None:
            value, raw = fixed, None
    try:
        validate("product", value, raw)
    except ContractError as exc:
        if exc.hint is None and exc.field.startswith("price") and _bare_price(value):
            exc.hint = BARE_PRICE
        elif exc.hint is None and _no_category(value) and _about_category(exc):
            exc.hint = NO_CATEGORY
        elif exc.hint is None and exc.rule == "required":
            exc.hint = NEEDED
        raise
    return value, admit_checked(value, raw)


def _no_category(value: Any) -> bool:
    return isinstance(value, dict) and value.get("category") is None


def _about_category(exc: ContractError) -> bool:
    """The refusal is of the category: null, or missing (a `required` of the root)."""
    return exc.field == "category" or (exc.rule == "required" and '"category"' in exc.message)


def _bare_price(value: Any) -> bool:
    """A price without its currency: a bare amount, or an object with an amount only."""
    if not isinstance(value, dict) or "price" not in value:
        return False
    price = value["price"]
    if isinstance(price, dict):
        return "amount" in price and "currency" not in price
    return isinstance(price, int | float | str) and not isinstance(price, bool)


def admit_product(value: Any, raw: bytes | None = None) -> bytes:
    """The full door: rewrite, validate, normalise, size-check; ContractError naming the rule."""
    return admitted_product(value, raw)[1]


def _instants_canonical_and_real(value: dict[str, Any]) -> bool:
    """Every instant canonical (the door's output form) and a real day; False = look closer."""
    for field in PRODUCT_INSTANTS:
        instant = value.get(field)
        if instant is None:
            continue
        if type(instant) is not str or len(instant) not in (20, 27) or instant[-1] != "Z":
            return False
        try:
            datetime.fromisoformat(instant)
        except ValueError:
            return False
        if instant[10] != "T":
            return False
    return True


def check_product(value: Any, raw: bytes) -> None:
    """The whole `product` contract for a record from shop-products (the filter's hot path).

    The same rules as `codec.validate("product", ...)`, in the cheapest order for a record
    that passed a door already: one compiled schema check, the bracket count for depth, and
    canonical instants that only need to be real days. Anything else goes the slow way,
    which raises ContractError naming the rule.
    """
    if (
        raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH  # cannot nest deeper (limits.py)
        and _PRODUCT.is_valid(value)
        and _instants_canonical_and_real(value)
    ):
        return
    validate("product", value, raw)


def judge_product(raw: bytes | None) -> tuple[str, dict[str, Any] | None]:
    """The product_id of a shop-products record that keeps the whole `product` contract.

    One msgspec pass over the bytes accepts nearly every record (product_check.py), without
    building a dict; the rest are parsed and checked the slow way, and their parsed value is
    returned too. ContractError naming the rule when the record breaks the contract.
    """
    if raw is not None:
        if len(raw) > MAX_RECORD_BYTES:  # refused at the doors; produced around them here
            raise too_large(len(raw))
        product = canonical_product(raw)
        if product is not None:
            return product.product_id, None
    value = loads(raw)
    check_product(value, cast(bytes, raw))
    return value["product_id"], value


def check_store(store: object) -> None:
    """ContractError (rule `store`) for a `store_id` that names no store: a control
    character or nothing that shows. The product's id would be claimed for a store no token
    names ("store_001\\n" beside store_001), and the real store locked out of it; "" claimed
    nothing and the product was left without an owner (hostile-input review). `shop load`
    and `dlq replay` refuse it; the SHOP API refuses both as "another store" than its
    token's."""
    if isinstance(store, str) and (has_control(store) or is_blank(store)):
        raise ContractError(
            f"store_id {store!r} names no store: it has a control character or no visible "
            "character (rule: store)",
            field="store_id",
            rule="store",
            hint="name the store in visible text, e.g. store_001, or leave store_id out",
        )


def admit_canonical(raw: bytes) -> CanonicalProduct | None:
    """A product the door lets through with its bytes as they are; None: `admit_product` decides.

    Valid, every instant canonical already (nothing to rewrite) and within the size limit.
    """
    if len(raw) > MAX_RECORD_BYTES:
        return None
    return canonical_product(raw)


_PRODUCT = validator("product")
