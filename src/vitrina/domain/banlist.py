"""The ban list and the filter's decisions, as plain functions over plain data.

Why a pure core: the rules that keep banned products away from customers (route a product,
retract it when a ban arrives after publication, republish it on unban, repair after a crash)
are the riskiest logic of the platform, so they are testable without a broker.

Vocabulary:
- ban list: ``{product_id: ban}`` folded from the compacted ``banned-products`` topic
  (a record sets a ban, a tombstone removes it);
- shelf: what the filter knows about the products of ONE input partition — ``visible``
  (published in ``filtered-products``) and ``withheld`` (latest version of a banned product,
  remembered so an unban can republish it) — as WHERE each latest version can be read
  again, not its bytes;
- effects: what must be written. ``phase`` orders them: phase-1 effects must be durable before
  phase-2 effects are written, so a crash between the two never loses a product version
  (the copy is kept before the original is removed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from vitrina.domain.limits import is_product_id

BanList = dict[str, dict[str, Any]]
EffectKind = Literal["publish", "retract", "withhold", "release", "block"]


@dataclass(frozen=True)
class BanChange:
    """What folding one ban-list record changed."""

    product_id: str
    kind: Literal["banned", "unbanned", "updated", "unchanged"]


def fold_ban(ban_list: BanList, product_id: str, ban: Mapping[str, Any] | None) -> BanChange:
    """Apply one `banned-products` record (None = tombstone = unban) to the ban list in place."""
    had = product_id in ban_list
    if ban is None:
        if had:
            del ban_list[product_id]
            return BanChange(product_id, "unbanned")
        return BanChange(product_id, "unchanged")
    ban_list[product_id] = dict(ban)
    return BanChange(product_id, "updated" if had else "banned")


@dataclass(frozen=True)
class Route:
    """Where one product goes: allowed, or blocked by `ban`."""

    allowed: bool
    ban: dict[str, Any] | None = None


def route(product: Mapping[str, Any], ban_list: BanList) -> Route:
    """Judge one (already validated) product against the ban list."""
    ban = ban_list.get(str(product["product_id"]))
    return Route(True) if ban is None else Route(False, ban)


def ban_info(ban: Mapping[str, Any]) -> dict[str, Any]:
    """The `ban` object of a blocked-product audit record."""
    return {"reason": ban["reason"], "banned_by": ban["banned_by"], "banned_at": ban["banned_at"]}


def parse_product_ids(values: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Normalise product ids (ints become strings, duplicates dropped, order kept).

    Returns (valid, malformed); malformed ones are shown back to the user verbatim.
    """
    valid: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int):
            bad.append(repr(value))
            continue
        text = str(value).strip()
        if not is_product_id(text):  # one rule: domain/limits.py
            bad.append(repr(value))
        elif text not in seen:
            seen.add(text)
            valid.append(text)
    return valid, bad


def ids_from_document(document: Any) -> list[Any] | None:
    """Product ids from an import file: ``{"product_id": [...]}``, a plain list, or a list of
    ``{"product_id": ...}`` objects. None when the shape is none of these."""
    if isinstance(document, dict):
        ids = document.get("product_id", document.get("product_ids"))
        if isinstance(ids, list):
            return ids
        if isinstance(ids, str | int):
            return [ids]
        return None
    if isinstance(document, list):
        # An object without a product_id stays itself: the error then shows it, not None.
        return [
            item.get("product_id", item) if isinstance(item, dict) else item for item in document
        ]
    return None


# -- the shelf of one partition, and the effects that keep filtered-products right ----------

# Where a product version's bytes can be read again (the filter encodes a topic and an
# offset in one int: services/filter_versions.py). The shelf keeps these, not the bytes: a
# 1 KB product costs ~100 bytes of state instead of ~1.1 KB, and retraction re-reads the
# few versions a ban or an unban needs.
Where = int


@dataclass
class Shelf:
    """What one filter replica knows about the products of one input partition: where the
    latest version of each published (`visible`) and banned (`withheld`) product is."""

    visible: dict[str, Where] = field(default_factory=dict)
    withheld: dict[str, Where] = field(default_factory=dict)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.visible or product_id in self.withheld

    def __len__(self) -> int:
        return len(self.visible) + len(self.withheld)


class Effect(NamedTuple):
    """One record to write, about the product version at `at`.

    `raw` is the version's bytes when they are at hand (a product that just arrived); None
    for tombstones and for effects of a ban, an unban or a repair, whose bytes the filter
    re-reads from `at` before writing (`needs_bytes`).
    A NamedTuple, not a dataclass: one is built per product on the hot path.
    """

    kind: EffectKind
    product_id: str
    at: Where = -1
    raw: bytes | None = None
    ban: dict[str, Any] | None = None
    phase: int = 1

    @property
    def needs_bytes(self) -> bool:
        return self.raw is None and self.kind in ("publish", "withhold", "block")


def on_product(
    shelf: Shelf, product_id: str, raw: bytes, verdict: Route, at: Where
) -> list[Effect]:
    """A new version of a product (its bytes `raw`, readable again at `at`) arrived: publish
    it, or block and withhold it.

    These effects are guarded by the input offset (committed only after they are durable),
    so they need no phases: a crash replays the whole record.
    """
    if verdict.allowed:
        effects = [Effect("publish", product_id, at, raw)]
        if product_id in shelf.withheld:
            effects.append(Effect("release", product_id))
        return effects
    effects = [
        Effect("block", product_id, at, raw, verdict.ban),
        Effect("withhold", product_id, at, raw),
    ]
    if product_id in shelf.visible:
        effects.append(Effect("retract", product_id))
    return effects


def on_ban(shelf: Shelf, product_id: str, ban: Mapping[str, Any]) -> list[Effect]:
    """A ban arrived: retract the product if it is published here (copy first, then remove)."""
    at = shelf.visible.get(product_id)
    if at is None:
        return []
    return [
        Effect("withhold", product_id, at),
        Effect("block", product_id, at, ban=dict(ban)),
        Effect("retract", product_id, phase=2),
    ]


def on_unban(shelf: Shelf, product_id: str) -> list[Effect]:
    """An unban arrived: republish the withheld latest version (publish first, then release)."""
    at = shelf.withheld.get(product_id)
    if at is None:
        return []
    return [Effect("publish", product_id, at), Effect("release", product_id, phase=2)]


def reconcile(shelf: Shelf, ban_list: BanList) -> list[Effect]:
    """Repair a shelf rebuilt after a restart or rebalance against the current ban list.

    Covers every crash point between the phases of on_ban / on_unban: a banned product still
    visible is retracted, an unbanned product still withheld is republished or released.
    """
    effects: list[Effect] = []
    for product_id, at in shelf.visible.items():
        ban = ban_list.get(product_id)
        if ban is not None:
            if product_id not in shelf.withheld:
                # Banned while no replica owned it (e.g. the filter was down): as on_ban.
                effects.append(Effect("withhold", product_id, at))
                effects.append(Effect("block", product_id, at, ban=dict(ban)))
            effects.append(Effect("retract", product_id, phase=2))
        elif product_id in shelf.withheld:
            effects.append(Effect("release", product_id, phase=2))
    for product_id, at in shelf.withheld.items():
        if product_id not in ban_list and product_id not in shelf.visible:
            effects.append(Effect("publish", product_id, at))
            effects.append(Effect("release", product_id, phase=2))
    return effects


def apply_effect(shelf: Shelf, effect: Effect) -> None:
    """Update the in-memory shelf to what the effect writes."""
    pid = effect.product_id
    if effect.kind == "publish":
        shelf.visible[pid] = effect.at
    elif effect.kind == "retract":
        shelf.visible.pop(pid, None)
    elif effect.kind == "withhold":
        shelf.withheld[pid] = effect.at
    elif effect.kind == "release":
        shelf.withheld.pop(pid, None)


def fold_shelf(
    shelf: Shelf, kind: Literal["visible", "withheld"], product_id: str, at: Where | None
) -> None:
    """Rebuild a shelf from its compacted sources, record by record (None = tombstone)."""
    target = shelf.visible if kind == "visible" else shelf.withheld
    if at is None:
        target.pop(product_id, None)
    else:
        target[product_id] = at
