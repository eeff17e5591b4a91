"""The indexed fields of a product, once for both search backends (embedded and OpenSearch).

`search_document` (domain) says what is searchable; `index_fields` turns it into the fields
both indexes store under the same names: normalised text per field (stemmed by the index's
Russian analyzer), lemma fields (pymorphy3, whitespace-analysed), exact filter keys, price
and stock. `BOOSTS` are the field weights both backends rank with.
"""

from __future__ import annotations

from typing import Any

from vitrina.domain.search_document import filter_key, normalize_text, search_document
from vitrina.search.analysis import normalized_lemma_text

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
BODY_FIELDS = ("brand", "category", "tags", "description", "specifications")


def index_fields(product: dict[str, Any]) -> dict[str, Any]:
    """Every indexed field of one product (the stored copy of the product is the backend's)."""
    doc = search_document(product)
    # Each field normalised once; the lemma fields reuse it (normalising a space-joined text
    # equals joining the normalised parts: NFKC and lower case do not cross a space).
    fields: dict[str, Any] = {name: normalize_text(doc[name]) for name in TEXT_FIELDS}
    fields.update(
        {
            "product_id": doc["product_id"],
            "name_lemma": normalized_lemma_text(fields["name"]),
            "body_lemma": normalized_lemma_text(" ".join([fields[n] for n in BODY_FIELDS])),
            "category_key": filter_key(doc["category"]),
            "brand_key": filter_key(doc["brand"]),
            "price": doc["price"],
            "in_stock": doc["in_stock"],
        }
    )
    return fields
