"""The product positions of a catalogue, each with the door's one-pass verdict.

For JSON Lines the lines are not parsed into dicts: each line's bytes go through the
one-pass product check (contracts/product_check.py) and, when it accepts them, are produced
as they are; a line is parsed (catalog.jsonl_record) only when it takes the loader's slow
path (the full door, which normalises instants or names the rule broken). Records parsed
already (an array, one object) are checked on their re-serialised bytes.

Checking in a forked second process while the loader produces was measured and dropped:
the broker, librdkafka's thread and the loader already keep both cores busy (100k products:
2.0 s with the child vs 1.7 s without).
"""

from __future__ import annotations

from collections.abc import Iterator

from vitrina.contracts.door import admit_canonical
from vitrina.domain.catalog import Catalog, Record, jsonl_lines

# (position, bytes to produce as they are or to check slowly, the parsed record if any,
#  product_id and store_id when the one-pass check accepted the bytes)
Candidate = tuple[int, bytes | None, Record | None, str | None, str | None]


def candidates(catalog: Catalog) -> Iterator[Candidate]:
    """Every product position of `catalog`, in order, with the one-pass check's verdict."""
    body = catalog.body
    if body is None:  # parsed already (array, one object): check the re-serialised bytes
        for record in catalog.records:
            raw = record.raw if record.error is None else None
            product = admit_canonical(raw) if raw is not None else None
            if product is None:
                yield record.position, raw, record, None, None
            else:
                yield record.position, raw, record, product.product_id, product.store_id
        return
    for line_no, line in jsonl_lines(body):
        product = admit_canonical(line)
        if product is None:
            yield line_no, line, None, None, None
        else:
            yield line_no, line, None, product.product_id, product.store_id
