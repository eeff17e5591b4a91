"""Shapes of a product that real stores send and the door rewrites into the contract's form.

Pure: a product in, a rewritten copy out (None when nothing needed rewriting), never an
error — what cannot be rewritten is left as sent, so the contract check names the rule
broken. Each shape was found in stores' catalogues (docs/contracts.md, "Shapes the door
rewrites"); shapes refused on purpose (a numeric product_id, tags as one text, nested
specifications) stay refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CAMEL_CASE",
    "NOTHING_DECLARED",
    "Declared",
    "is_category",
    "is_currency",
    "store_shapes",
    "text_amount",
    "text_count",
]


@dataclass(frozen=True)
class Declared:
    """What a catalogue declares for its products that do not say it themselves (the SHOP
    API's `?currency=` and `?category=`, `vitrina shop load --currency --category`):
    nothing is guessed, and a product that says its own keeps it."""

    currency: str | None = None  # of a bare price, or a price without `currency`
    category: str | None = None  # of a product without `category` (or with null)


NOTHING_DECLARED = Declared()

# A Java store's default JSON names the top-level fields in camelCase (productId, createdAt,
# updatedAt, storeId); the other fields of the format are one word in both spellings.
CAMEL_CASE = {
    "productId": "product_id",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "storeId": "store_id",
}
# An amount as text: plain digits with a `.` fraction ("4999.99"), or thousands grouped by
# spaces and a `.` or `,` fraction of 1-2 digits ("1 299,00"), or a `,` fraction ("4999,99").
# "1,299" is not one: a comma before three digits may be a thousands separator.
_AMOUNT = re.compile(
    r"(?:[0-9]+(?:\.[0-9]+)?"
    r"|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+(?:[.,][0-9]{1,2})?"
    r"|[0-9]+,[0-9]{1,2})"
)
_GROUP = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, ",": "."})
_COUNT = re.compile(r"[0-9]+")
_CURRENCY = re.compile(r"[A-Z]{3}")  # the contract's price.currency
# 32 characters: far above any price or stock (the contract caps them at 1e12 and 2^63 - 1),
# far below Python's 4,300-digit limit for int() of a text.
_MAX_TEXT = 32


def is_category(text: Any) -> bool:
    """A category a catalogue may declare: visible text of at most 200 characters (the
    contract's `category` checks the rest per product)."""
    return isinstance(text, str) and bool(text.strip()) and len(text) <= 200


def is_currency(text: Any) -> bool:
    """A currency as the contract's `price.currency` spells it: three capital letters."""
    return isinstance(text, str) and _CURRENCY.fullmatch(text) is not None


def text_amount(text: str) -> int | float | None:
    """The number an amount sent as text stands for; None when it is no plain amount."""
    text = text.strip()
    if len(text) > _MAX_TEXT or not _AMOUNT.fullmatch(text):
        return None
    number = text.translate(_GROUP)
    return int(number) if number.isdecimal() else float(number)


def text_count(text: str) -> int | None:
    """The count a stock figure sent as text stands for ("119"); None otherwise."""
    text = text.strip()
    if len(text) > _MAX_TEXT or not _COUNT.fullmatch(text):
        return None
    return int(text)


def _amount_fixed(price: Any, currency: str | None) -> dict[str, Any] | None:
    if not isinstance(price, dict):
        return None
    fixed: dict[str, Any] = {}
    if isinstance(price.get("amount"), str):
        amount = text_amount(price["amount"])
        if amount is not None:
            fixed["amount"] = amount
    if currency is not None and "currency" not in price and "amount" in price:
        fixed["currency"] = currency  # the catalogue's declared currency (store_shapes)
    return {**price, **fixed} if fixed else None


def _stock_fixed(stock: Any) -> dict[str, Any] | None:
    if not isinstance(stock, dict):
        return None
    changed = {}
    for field in ("available", "reserved"):
        if isinstance(stock.get(field), str):
            count = text_count(stock[field])
            if count is not None:
                changed[field] = count
    return {**stock, **changed} if changed else None


def _flat_fixed(product: dict[str, Any], declared: str | None) -> dict[str, Any] | None:
    """A flat product (`id`, a bare `price` with a top-level `currency`, `quantity`) with
    those fields in the contract's form; None when it has none of them to rewrite. Each
    field only when the contract's own one is absent and the value is unambiguous: a text
    id, an amount with its currency (the product's own, else the one its catalogue
    declared; none is guessed), a whole non-negative count beside one of the others."""
    fixed: dict[str, Any] = {}
    if "product_id" not in product and isinstance(product.get("id"), str):
        fixed["product_id"] = product["id"]
    price = product.get("price")
    # A product that names a currency of its own is taken at its word, even a wrong one
    # (then the contract refuses the bare price): the declared one is for products without.
    currency = product.get("currency", declared)
    if is_currency(currency):
        amount = text_amount(price) if isinstance(price, str) else price
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            fixed["price"] = {"amount": amount, "currency": currency}
    quantity = product.get("quantity")
    # Only beside another flat field: a product in the contract's form may send `quantity`
    # for something else (the units in a pack), so it stays an extra field there.
    if fixed and "stock" not in product:
        count = text_count(quantity) if isinstance(quantity, str) else quantity
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            fixed["stock"] = {"available": count, "reserved": 0}
    if not fixed:
        return None
    moved = {"product_id": "id", "price": "currency", "stock": "quantity"}
    rest = {k: v for k, v in product.items() if k not in {moved[f] for f in fixed}}
    return {**rest, **fixed}


def store_shapes(
    product: dict[str, Any], declared: Declared = NOTHING_DECLARED
) -> dict[str, Any] | None:
    """A copy of `product` in the contract's form, or None when it is in that form already.

    `declared`: what its catalogue declared (Declared): a bare `price` and a `price`
    without `currency` get the declared currency, a product without `category` the
    declared category; what a product says itself it keeps.
    """
    currency = declared.currency
    if (
        "id" in product
        or "currency" in product
        or "quantity" in product
        or (currency is not None and not isinstance(product.get("price"), dict))
    ):  # rare: 3 lookups (and a type check when a currency was declared)
        flat = _flat_fixed(product, currency)
        if flat is not None:
            return store_shapes(flat, declared) or flat
    renamed = [
        (camel, snake) for camel, snake in CAMEL_CASE.items() if camel in product
    ]  # rare: one dict lookup per name is all a snake_case product costs
    price = _amount_fixed(product.get("price"), currency)
    stock = _stock_fixed(product.get("stock"))
    category = (
        declared.category
        if declared.category is not None and product.get("category") is None
        else None
    )
    if not renamed and price is None and stock is None and category is None:
        return None
    fixed = dict(product)
    for camel, snake in renamed:
        # Both spellings sent: the snake_case one is the product's, unless it is null, and
        # the other goes (a blind review: `"store_id": null, "storeId": "store_002"` from
        # store_001 was stored as store_001's product showing "storeId": "store_002").
        value = fixed.pop(camel)
        if fixed.get(snake) is None:
            fixed[snake] = value
    if price is not None:
        fixed["price"] = price
    if stock is not None:
        fixed["stock"] = stock
    if category is not None:
        fixed["category"] = category
    return fixed
