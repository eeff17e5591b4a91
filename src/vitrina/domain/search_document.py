"""Product → search document, and the rules that make a customer's query safe to run.

Pure functions over plain dicts: both search backends (embedded tantivy, OpenSearch) build
their index records from `search_document` and clean queries with `clean_query`, so the
two deployments find the same products for the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

# 256 characters: longer than any real product query (the longest judged query is ~40),
# short enough that a pasted 10 KB blob costs microseconds, not a full-index scan.
MAX_QUERY_CHARS = 256
# 12 words: the longest judged query has 7 (a product named with its brand, model and two
# attributes; a sentence with its filler). Every word costs its alternatives (forms, fuzzy,
# compounds): a made-up word ~1.7 ms here, so 32 of them cost ~60 ms of a server process.
MAX_QUERY_WORDS = 12

# A word is a run of letters and digits, or a decimal number (13.3, 0,5 — `normalize_text`
# writes its comma as a point): one word, so a typed 5 is not the fraction of 0.5 л (split
# at the point, «вода 5 литров» listed a 0.5 l bottle first). One or two digits after the
# point only, and not a part of a longer dotted run (5.000 groups thousands; 1.2.3, a date).
DECIMAL = re.compile(r"\d+\.\d\d?")
_WORD = re.compile(rf"(?<!\d\.){DECIMAL.pattern}(?!\.?\d)|[^\W_]+", re.UNICODE)
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_CONTROL = {"Cc", "Cs", "Co", "Cn"}
# Characters a text copied from a page carries inside its words that are not seen and
# separate nothing: the soft hyphen (нау\xadшни\xadки), zero-width space, joiners and
# marks, the word joiner and invisible operators, bidi controls, variation selectors, the
# BOM — format characters (Cf) — and the combining marks NFKC leaves uncomposed, as a stress
# mark on a Russian vowel (нау\u0301шники; й and ё compose and stay). Removed, as ICU's
# NFKC_Casefold removes default-ignorable characters, so the word stays one word; they
# were word breaks (нау + шни + ки), and such a product was found only fuzzily.
_UNSEEN_IN_WORDS = re.compile(
    "[\u00ad\u034f\u061c\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufe00-\ufe0f\ufeff\u0300-\u036f]"
)


def normalize_text(text: str) -> str:
    """NFKC, lower case, ё → е: the spelling variants customers mix freely; a decimal comma
    as a point (1,5 → 1.5); characters unseen inside words (a soft hyphen, a stress mark)
    removed."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    if "," in text:
        text = _DECIMAL_COMMA.sub(".", text)
    return _UNSEEN_IN_WORDS.sub("", text) if not text.isascii() else text


# «Хлебцы без глютена», «Напиток без сахара»: what a title says a product lacks is not what
# it has. The word after без is indexed glued to it (без безглютена), so «глютен» does not
# find the product and «хлебцы без глютена», which leaves out what has глютен, finds it.
_LACKING = re.compile(r"(?<![^\W_])(без|безо)\s+(?=[^\W\d_])", re.IGNORECASE)
LACKING_PREFIX = "без"


def lacking_glued(text: str) -> str:
    """The text with each word after без (безо) glued to it: «без сахара» → «без безсахара».
    A text without без costs three substring searches (~0.1 µs), not a regex scan."""
    if "без" not in text and "Без" not in text and "БЕЗ" not in text:
        return text
    return _LACKING.sub(lambda found: f"{found[1]} {LACKING_PREFIX}", text)


def is_decimal(word: str) -> bool:
    """A decimal number, one word (`_WORD`: 2.5); a word without a point costs no match."""
    return "." in word and DECIMAL.fullmatch(word) is not None


def is_number(word: str) -> bool:
    """A word of digits, or a decimal."""
    return word.isdecimal() or is_decimal(word)


def clean_query(query: str | None, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Drop control/unassigned characters and surrogates (each a space) and format ones (a
    soft hyphen, a zero-width space: nothing, they sit inside words), collapse spaces,
    truncate.

    Never raises: whatever a customer types becomes a (possibly empty) plain string.
    """
    if not query:
        return ""
    head = query[: max_chars * 4]  # bound the work before normalisation
    kept = "".join(_kept(ch) for ch in head)
    return " ".join(kept.split())[:max_chars].strip()


def _kept(ch: str) -> str:
    category = unicodedata.category(ch)
    return " " if category in _CONTROL else "" if category == "Cf" else ch


def query_words(query: str | None) -> list[str]:
    """The words of a cleaned query (letters and digits only; syntax characters are gone)."""
    return _WORD.findall(normalize_text(clean_query(query)))[:MAX_QUERY_WORDS]


def decimals(text: str) -> list[re.Match[str]]:
    """The decimal numbers of a `normalize_text`-ed text, as its words read them (2.5)."""
    return [word for word in _WORD.finditer(text) if "." in word[0]]


def text_words(text: str) -> list[str]:
    """The words of a document field, with the same rules as queries."""
    return _WORD.findall(normalize_text(text))


def normalized_words(text: str) -> list[str]:
    """`text_words` of a text that is already `normalize_text`-ed (no second normalisation)."""
    return _WORD.findall(text)


def in_stock(product: dict[str, Any]) -> bool:
    stock = product.get("stock") or {}
    return int(stock.get("available") or 0) > 0


def price_of(product: dict[str, Any]) -> float:
    price = product.get("price") or {}
    return float(price.get("amount") or 0.0)


def _scalar_text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


# Values that say a product lacks what the key names ("Влажная уборка: нет", "Подсветка:
# нет") and that it has it ("Влажная уборка: да"): on their own they say nothing a shopper
# types, the key does.
_SPEC_ABSENT = frozenset(("нет", "no", "false", "none", "отсутствует"))
_SPEC_PRESENT = frozenset(("да", "yes", "true", "есть"))


def specification_text(key: Any, value: Any) -> str:
    """What one specification says a shopper may search for: the key with its value
    (Подсветка RGB, Отделение для ноутбука 15.6"), the key alone for a yes (Влажная уборка),
    nothing for a no — the key of a feature the product lacks must not find it (probe round
    10: клавиатура с подсветкой found keyboards without one as often as with)."""
    name = _scalar_text(key)
    if value is True:
        return name
    text = _scalar_text(value)
    said = normalize_text(text).strip()
    if not said or said in _SPEC_ABSENT:
        return ""
    return name if said in _SPEC_PRESENT else f"{name} {text}".strip()


def _specifications_text(items: Iterable[tuple[Any, Any]]) -> str:
    return " ".join(filter(None, (specification_text(k, v) for k, v in items)))


# 10,000 specification sets: a catalogue has far fewer distinct ones (the generated one 2,503
# in 100k products), each entry a few short pairs and their text (~1 KB) — ~10 MB at worst.
SPECIFICATIONS_CACHE = 10_000


class _SpecificationTexts(dict[tuple[tuple[Any, Any], ...], str]):
    """A product's specifications (their items, in order) → `specifications_text`: each
    distinct set worked out once (~2.4 µs a product, a tuple and a dict hit ~0.3), as
    products of one kind share theirs. Only sets of string keys and values are kept: 1,
    1.0 and True are equal as keys yet read differently (Вес 1, Вес 1.0, Вес), and a string
    equals only a string. Bounded: emptied when full."""

    def __missing__(self, items: tuple[tuple[Any, Any], ...]) -> str:
        text = _specifications_text(items)
        if all(type(key) is str and type(value) is str for key, value in items):
            if len(self) >= SPECIFICATIONS_CACHE:
                self.clear()
            self[items] = text
        return text


_SPECIFICATION_TEXTS = _SpecificationTexts()


def specifications_text(specs: dict[Any, Any]) -> str:
    """What a product's specifications say a shopper may search for: each one's
    `specification_text`, joined by spaces."""
    try:
        return _SPECIFICATION_TEXTS[tuple(specs.items())]
    except TypeError:  # an unhashable value (validation allows none): worked out each time
        return _specifications_text(specs.items())


def search_document(product: dict[str, Any]) -> dict[str, Any]:
    """The searchable view of one (validated) product.

    Text fields are what customers type against; `category`/`brand` are also kept as exact
    keys for filters; `price`/`in_stock` feed range filters and sorting.
    """
    tags = [t for t in (product.get("tags") or []) if isinstance(t, str)]
    specs = product.get("specifications") or {}
    return {
        "product_id": str(product["product_id"]),
        "name": product.get("name") or "",
        "description": product.get("description") or "",
        "brand": product.get("brand") or "",
        "category": product.get("category") or "",
        "tags": " ".join(tags),
        "specifications": specifications_text(specs),
        "price": price_of(product),
        "in_stock": in_stock(product),
    }


def filter_key(value: str) -> str:
    """Exact-match key for category/brand filters: case- and ё-insensitive, trimmed."""
    return normalize_text(value).strip()
