"""The embedded index's tantivy schema, by schema version.

Version 2 indexes what the queries use and no more: the API builds term, fuzzy and regex
queries from words, never phrases, so text fields keep term frequencies (BM25) but no
positions; product_id keeps document ids only (term lookups and deletes); the category and
brand keys are indexed for filters but are no fast fields (nothing sorts or aggregates by
them). Same documents, same ranking; ~8 % less indexing CPU and ~11 % less disk on 100k
products (benchmarks/search.py). Version 1 (positions everywhere, fast keys) is still opened
as it was written, so an existing index keeps working until it is rebuilt.

Version 3 is version 2 with the six text fields stemmed before they reach tantivy
(`analysis.stem_text`, each distinct token once) and split at spaces: the same terms and
token counts, so the same ranking, with the stemmer off tantivy's per-occurrence path.
Versions 1 and 2 are still written as they were (tantivy stems their text fields).

Version 4 is version 3 with `name_served`: the words after для that say what the product
serves, taken out of the name (`fields.served_apart`), so a word of what the product is
scores above the same word in what another product is for. Older versions keep them in the
name, as they were written.
"""

from __future__ import annotations

from typing import Any

import tantivy

from vitrina.search.analysis import (
    KEY_TOKENIZER,
    LEMMA_TOKENIZER,
    STEM_TOKENIZER,
    STEMMED_TOKENIZER,
)
from vitrina.search.fields import TEXT_FIELDS

SCHEMA_VERSION = "4"  # written into new indexes
KNOWN_VERSIONS = ("1", "2", "3", "4")


def prestemmed(version: str) -> bool:
    """Whether the index's text fields take `stem_text` (v3 on) rather than normalised text."""
    return int(version) >= 3


def has_served(version: str) -> bool:
    """Whether the index has `name_served` (v4 on: what a name says the product serves,
    apart from the name)."""
    return int(version) >= 4


def build_schema(version: str = SCHEMA_VERSION) -> Any:
    lean = version != "1"
    text = "freq" if lean else "position"
    text_tokenizer = STEMMED_TOKENIZER if prestemmed(version) else STEM_TOKENIZER
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(
        "product_id", stored=True, tokenizer_name="raw", index_option="basic" if lean else text
    )
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=text_tokenizer, index_option=text)
    if has_served(version):
        sb.add_text_field("name_served", tokenizer_name=text_tokenizer, index_option=text)
    sb.add_text_field("name_lemma", tokenizer_name=LEMMA_TOKENIZER, index_option=text)
    sb.add_text_field("body_lemma", tokenizer_name=LEMMA_TOKENIZER, index_option=text)
    sb.add_text_field("category_key", fast=not lean, tokenizer_name=KEY_TOKENIZER)
    sb.add_text_field("brand_key", fast=not lean, tokenizer_name=KEY_TOKENIZER)
    sb.add_float_field("price", indexed=True, fast=True)
    sb.add_boolean_field("in_stock", indexed=True, fast=True)
    sb.add_bytes_field("stored", stored=True)
    return sb.build()
