"""Typed write failures of a search backend, for the indexer to route.

`UnavailableError` (vitrina.errors): the backend is away or busy — retry the same batch.
`RejectedDocuments`: the backend refused some documents for good; every other document of
the batch was written. The indexer dead-letters each rejected product with its reason and
commits — retrying would fail the same way forever.
"""

from __future__ import annotations

from vitrina.errors import VitrinaError


class RejectedDocuments(VitrinaError):
    """Documents the search backend will never accept as they are (product_id → reason)."""

    status_code = 422

    def __init__(self, reasons: dict[str, str]) -> None:
        first = next(iter(reasons.items()), ("?", "?"))
        super().__init__(
            f"the search index refused {len(reasons)} document(s), "
            f"e.g. product {first[0]}: {first[1]}",
            hint="dead-letter them with the reason; fix the product and resend it",
        )
        self.reasons = dict(reasons)
