"""The indexed fields of a product, once for both search backends (embedded and OpenSearch).

`search_document` (domain) says what is searchable; `index_fields` turns it into the fields
both indexes store under the same names: normalised text per field (stemmed by the index's
Russian analyzer), lemma fields (pymorphy3, whitespace-analysed), exact filter keys, price
and stock. `BOOSTS` are the field weights both backends rank with.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any

from vitrina.domain.search_document import lacking_glued, normalize_text, search_document
from vitrina.search.analysis import (
    is_genitive,
    lemmas,
    normalized_lemma_text,
    raw_stem_and_lemma_text,
    stem_text,
)
from vitrina.search.lookalikes import one_script_text
from vitrina.search.query_understanding import compound_kinds
from vitrina.search.word_lists import DEVICE_KINDS, DEVICE_NOUNS

# Field boosts: a word in the name says far more about what the product *is* than the same
# word in a description; brand/category/tags sit in between. Tuned on the judged set.
BOOSTS: dict[str, float] = {
    "name": 4.0,
    "brand": 2.0,
    "category": 2.0,
    "tags": 1.5,
    "description": 1.0,
    "specifications": 0.5,
}
TEXT_FIELDS = tuple(BOOSTS)
# What a name says the product serves (`name_served`, schema v4): below the name's own
# words, above the description's; a word the query says the product is for (Y of «X для
# Y») found there counts as a name's word (крем для рук: the hand cream, not a body cream
# whose description mentions hands). Tuned on the blind reviews and the judged set.
SERVED_BOOST = 2.5
SERVED_PURPOSE_BOOST = BOOSTS["name"]
BODY_FIELDS = ("brand", "category", "tags", "description", "specifications")


# «Чехол для iPhone 15»: the Latin words right after a purpose preposition name the device
# the product is FOR, not the product. In the name they ranked every case above the phone
# for «iphone» (a blind review); they are indexed with the description instead, so the
# case is still found by them (чехол iphone 15), below the products they name.
_LATIN_WORD = r"(?:[A-Za-z][\w'.+-]*|\d[\w.+-]*)"
_FOR_LATIN = re.compile(
    rf"(?<![^\W\d_])(для|под|к)\s+({_LATIN_WORD}(?:\s+{_LATIN_WORD})*)", re.IGNORECASE
)


# Whether a lower-cased name may have a match of `_FOR_LATIN` with к (a literal first:
# ~0.2 µs where that pattern, whose lookbehind defeats the prefix scan, costs ~1.5).
_K_AHEAD = re.compile(r"к\s")


def device_kinds(device: str) -> str:
    """The kinds of the devices `device` names (iPhone 15 → смартфон телефон); "" for none."""
    words = re.findall(r"[a-z0-9]+", device.lower())
    return " ".join(dict.fromkeys(DEVICE_KINDS[w] for w in words if w in DEVICE_KINDS))


# The same after a device's noun in the genitive (Чехол для наушников AirPods Pro 2, Фильтр
# для пылесоса Dyson V8; `DEVICE_NOUNS`): a blind review's «airpods» and «айрподс» ranked
# the case above the AirPods. Never the product's own brand (Насадка для щетки Oral-B by
# Oral-B); after other nouns the Latin words are mostly the product's own line (Средство для
# мытья посуды Fairy, Корм для собак Pro Plan), and stay.
_FOR_NOUN_LATIN = re.compile(
    rf"(?<![^\W\d_])(для|под)\s+([а-яё]+)\s+([A-Za-z][\w'.+-]*(?:\s+{_LATIN_WORD})*)",
    re.IGNORECASE,
)


def purpose_apart(name: str, brand: str = "") -> tuple[str, str]:
    """The name without the Latin words a purpose preposition names (чехол для iPhone 15 →
    чехол для; чехол для наушников AirPods Pro → чехол для наушников, unless they name
    `brand`), and those words; the name and "" when it has none."""
    lowered = name.lower()
    if "для" not in lowered and "под" not in lowered and _K_AHEAD.search(lowered) is None:
        return name, ""  # most names (~85 %): no regex scan (~1 µs of a product's ~35)
    moved: list[str] = []

    def keep_preposition(found: re.Match[str]) -> str:
        moved.append(found[2])
        return found[1]

    def keep_noun(found: re.Match[str]) -> str:
        latin = found[3]
        noun = found[2].lower()
        device = is_genitive(noun) and not DEVICE_NOUNS.isdisjoint(lemmas(noun))
        if not device or not set(brand.lower().split()).isdisjoint(latin.lower().split()):
            return found[0]
        moved.append(latin)
        return f"{found[1]} {found[2]}"

    kept = _FOR_LATIN.sub(keep_preposition, name)
    if "для" in lowered or "под" in lowered:
        kept = _FOR_NOUN_LATIN.sub(keep_noun, kept)
    return kept, " ".join(moved)


# «Футляр для очков жесткий»: the Russian words in the genitive after для name what the
# product serves, as the Latin ones above do. In the name they ranked the case above the
# glasses for «очки», a phone holder above the phone, a charging station above the cable
# (a blind review); they are indexed apart (`name_served`), weighing less than the name's
# own words and more than the description's (for «футляр для очков», «чем почистить
# ковер»). The run is cut at the first word with no likely genitive reading (жесткий: the
# case's own).
_FOR_RUSSIAN = re.compile(
    r"(?<![^\W\d_])(для)\s+([а-яё]+(?:-[а-яё]+)?(?:\s+[а-яё]+(?:-[а-яё]+)?)*)", re.IGNORECASE
)


def _genitive_run(words: str) -> tuple[str, str]:
    """The leading words of `words` that read as genitive (и between two of them too), and
    the rest."""
    parts = words.split()
    taken = 0
    while taken < len(parts):
        word = parts[taken].lower().replace("-", "")
        if word == "и" and 0 < taken < len(parts) - 1:
            if not is_genitive(parts[taken + 1].lower().replace("-", "")):
                break
            taken += 2
            continue
        if not is_genitive(word):
            break
        taken += 1
    return " ".join(parts[:taken]), " ".join(parts[taken:])


def served_apart(name: str) -> tuple[str, str]:
    """The name without the Russian words that say what it serves (футляр для очков
    жесткий → футляр для жесткий), and those words; the name and "" when it has none."""
    if "для" not in name.lower():  # most names: no regex to run
        return name, ""
    served: list[str] = []

    def keep_the_rest(found: re.Match[str]) -> str:
        words, rest = _genitive_run(found[2])
        if not words:
            return found[0]
        served.append(words)
        return f"{found[1]} {rest}" if rest else found[1]

    return _FOR_RUSSIAN.sub(keep_the_rest, name), " ".join(served)


# 100k texts: far more brands, categories, tag sets and specification sets than a catalogue
# has (the generated one: a few thousand); texts over 200 characters are not kept.
SHORT_FIELD_CACHE = 100_000
SHORT_FIELD_CHARS = 200


class _ShortFields(dict[str, tuple[str, str, str]]):
    """Raw text of a field with few distinct values (brand, category, tags, specifications)
    → (normalised text, its lemma string, its stem string): each distinct value analysed
    once. The normalised text is also the filter key (`filter_key` of the value as sent),
    so a word typed in two scripts is read in one (`lookalikes`) only by the lemma and stem
    strings, whose caches do it. Bounded: emptied when full."""

    def __missing__(self, raw: str) -> tuple[str, str, str]:
        normalized = normalize_text(raw)
        analysed = (normalized, normalized_lemma_text(normalized), stem_text(normalized))
        if len(raw) <= SHORT_FIELD_CHARS:
            if len(self) >= SHORT_FIELD_CACHE:
                self.clear()
            self[raw] = analysed
        return analysed


_SHORT = _ShortFields()


def index_fields(
    product: dict[str, Any], *, stemmed: bool = False, served: bool = True
) -> dict[str, Any]:
    """Every indexed field of one product (the stored copy of the product is the backend's).

    `served` off (an index of schema v3 or older): what the name says the product serves
    stays in the name, and `name_served` is empty.

    `stemmed`: the TEXT_FIELDS hold their `stem_text` (the embedded index's schema v3, whose
    text fields are split at spaces), not the normalised text the index's analyzer stems."""
    doc = search_document(product)
    brand, brand_lemmas, brand_stems = _SHORT[doc["brand"]]
    category, category_lemmas, category_stems = _SHORT[doc["category"]]
    tags, tags_lemmas, tags_stems = _SHORT[doc["tags"]]
    specifications, specifications_lemmas, specifications_stems = _SHORT[doc["specifications"]]
    # what a title says the product lacks (без сахара) is one word with без: not a word it has
    name_kept, device = purpose_apart(doc["name"], doc["brand"])
    description = " ".join(filter(None, (doc["description"], device, device_kinds(device))))
    name_said, description_said = lacking_glued(name_kept), lacking_glued(description)
    served_said = ""
    if served:
        name_said, served_said = served_apart(name_said)
    if stemmed:
        served_text, served_lemmas = raw_stem_and_lemma_text(served_said)
        name_text, name_lemmas = raw_stem_and_lemma_text(name_said)
        description_text, description_lemmas = raw_stem_and_lemma_text(description_said)
        brand_text, category_text = brand_stems, category_stems
        tags_text, specs_text = tags_stems, specifications_stems
    else:
        name = one_script_text(normalize_text(name_said))
        description = one_script_text(normalize_text(description_said))
        name_text, name_lemmas = name, normalized_lemma_text(name)
        served_text = one_script_text(normalize_text(served_said))
        served_lemmas = normalized_lemma_text(served_text)
        description_text, description_lemmas = description, normalized_lemma_text(description)
        short_texts = (brand, category, tags, specifications)
        brand_text, category_text, tags_text, specs_text = map(one_script_text, short_texts)
    # body_lemma is the lemma text of the BODY_FIELDS joined by spaces: a space never joins
    # or splits a word, so it is the non-empty per-field lemma strings joined the same way.
    # A compound of the name also goes by its kind, weighed as a body word (газонокосилка:
    # косилка; электровелосипед: велосипед, электрический): found, below the names that say it.
    compounds = [kinds for kinds in map(compound_kinds, name_lemmas.split()) if kinds]
    kinds = " ".join(dict.fromkeys(chain.from_iterable(compounds))) if compounds else ""
    body = (
        brand_lemmas,
        category_lemmas,
        tags_lemmas,
        description_lemmas,
        specifications_lemmas,
        kinds,
        served_lemmas,
    )
    return {
        "name": name_text,
        "name_served": served_text,
        "brand": brand_text,
        "category": category_text,
        "tags": tags_text,
        "description": description_text,
        "specifications": specs_text,
        "product_id": doc["product_id"],
        "name_lemma": name_lemmas,
        "body_lemma": " ".join(filter(None, body)),
        "category_key": category.strip(),  # filter_key: normalised and trimmed
        "brand_key": brand.strip(),
        "price": doc["price"],
        "in_stock": doc["in_stock"],
    }
