"""What the filter writes besides the product itself, and the partition rule its outputs keep.

- `blocked_audit`: the blocked-products record (the product as sent, plus its ban);
- `check_partitions`: filtered-products and withheld-products need at least the input's
  partitions, because the filter writes each product to its input partition number
  (co-partitioned by construction, see services/filter.py).
"""

from __future__ import annotations

from typing import Any

import orjson

from vitrina.contracts.codec import encode
from vitrina.domain.banlist import ban_info
from vitrina.errors import ConfigError
from vitrina.kafka.inspect import topic_partitions
from vitrina.settings import Settings

SERVICE = "filter"


def blocked_audit(raw: bytes, ban: dict[str, Any], product: dict[str, Any] | None) -> bytes:
    """The blocked-products record: the product as sent, plus the ban that blocked it.

    Spliced into the product's own bytes, never re-serialised: cheaper, and a product that
    orjson can parse but not write (nesting deeper than 255) still gets its audit record.
    """
    body = raw.rstrip()
    if body.endswith(b"}") and b'"ban"' not in body:
        head = body[:-1].rstrip()
        sep = b"" if head.endswith(b"{") else b","
        return head + sep + b'"ban":' + orjson.dumps(ban_info(ban)) + b"}"
    audit = dict(product if product is not None else orjson.loads(raw))
    audit["ban"] = ban_info(ban)
    return encode("blocked_product", audit)


def check_partitions(settings: Settings) -> None:
    """Co-partitioning by construction needs outputs with at least the input's partitions."""
    topics = settings.topics
    inputs = len(topic_partitions(settings, topics.shop_products, SERVICE))
    for name in (topics.filtered_products, topics.withheld_products):
        have = len(topic_partitions(settings, name, SERVICE))
        if have < inputs:
            raise ConfigError(
                f"{name} has {have} partitions but {topics.shop_products} has {inputs}",
                hint=f"add partitions to {name} (the filter writes "
                f"each product to its input partition number)",
            )
