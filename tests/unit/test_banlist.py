"""The filter's pure core: ban-list fold, routing, retraction / reinstatement, crash repair."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vitrina.domain.banlist import (
    Effect,
    Shelf,
    apply_effect,
    fold_ban,
    ids_from_document,
    on_ban,
    on_product,
    on_unban,
    parse_product_ids,
    reconcile,
    route,
)

BAN = {
    "product_id": "7",
    "reason": "counterfeit",
    "banned_by": "ops",
    "banned_at": "2026-01-01T00:00:00+00:00",
}


def kinds(effects: list[Effect]) -> list[tuple[str, int]]:
    return [(e.kind, e.phase) for e in effects]


def test_fold_ban_sets_updates_and_removes() -> None:
    bans: dict = {}
    assert fold_ban(bans, "7", BAN).kind == "banned"
    assert fold_ban(bans, "7", {**BAN, "reason": "fake"}).kind == "updated"
    assert bans["7"]["reason"] == "fake"
    assert fold_ban(bans, "7", None).kind == "unbanned"
    assert bans == {}
    assert fold_ban(bans, "7", None).kind == "unchanged"


def test_route_allows_unbanned_and_blocks_banned_with_the_ban() -> None:
    bans = {"7": BAN}
    assert route({"product_id": "8"}, bans).allowed
    verdict = route({"product_id": "7"}, bans)
    assert not verdict.allowed
    assert verdict.ban is not None and verdict.ban["reason"] == "counterfeit"


def test_new_allowed_product_is_published() -> None:
    shelf = Shelf()
    effects = on_product(shelf, "8", b"v1", route({"product_id": "8"}, {}), 1)
    assert kinds(effects) == [("publish", 1)]
    for e in effects:
        apply_effect(shelf, e)
    assert shelf.visible == {"8": 1}


def test_update_of_banned_product_stays_blocked_and_is_withheld() -> None:
    shelf = Shelf(withheld={"7": 1})
    effects = on_product(shelf, "7", b"v2", route({"product_id": "7"}, {"7": BAN}), 2)
    assert [e.kind for e in effects] == ["block", "withhold"]
    for e in effects:
        apply_effect(shelf, e)
    assert shelf.withheld == {"7": 2} and shelf.visible == {}


def test_ban_after_publication_copies_then_retracts() -> None:
    shelf = Shelf(visible={"7": 1})
    effects = on_ban(shelf, "7", BAN)
    assert kinds(effects) == [("withhold", 1), ("block", 1), ("retract", 2)]
    for e in effects:
        apply_effect(shelf, e)
    assert shelf.visible == {} and shelf.withheld == {"7": 1}


def test_ban_of_unseen_product_writes_nothing() -> None:
    assert on_ban(Shelf(), "7", BAN) == []


def test_unban_republishes_latest_then_releases() -> None:
    shelf = Shelf(withheld={"7": 2})
    effects = on_unban(shelf, "7")
    assert kinds(effects) == [("publish", 1), ("release", 2)]
    assert effects[0].at == 2 and effects[0].needs_bytes  # re-read from where it is
    for e in effects:
        apply_effect(shelf, e)
    assert shelf.visible == {"7": 2} and shelf.withheld == {}


def test_allowed_update_after_unban_releases_stale_withheld_copy() -> None:
    shelf = Shelf(withheld={"7": 1})
    assert [e.kind for e in on_product(shelf, "7", b"v2", route({"product_id": "7"}, {}), 2)] == [
        "publish",
        "release",
    ]


def test_reconcile_repairs_a_crash_between_ban_phases() -> None:
    # withhold landed, retract did not: the product is still visible although banned
    shelf = Shelf(visible={"7": 1}, withheld={"7": 1})
    assert kinds(reconcile(shelf, {"7": BAN})) == [("retract", 2)]
    # nothing landed at all
    shelf = Shelf(visible={"7": 1})
    assert kinds(reconcile(shelf, {"7": BAN})) == [("withhold", 1), ("block", 1), ("retract", 2)]


def test_reconcile_repairs_a_crash_between_unban_phases() -> None:
    # publish landed, release did not
    assert kinds(reconcile(Shelf(visible={"7": 5}, withheld={"7": 5}), {})) == [("release", 2)]
    # nothing landed
    assert kinds(reconcile(Shelf(withheld={"7": 5}), {})) == [("publish", 1), ("release", 2)]


def test_reconcile_leaves_a_consistent_shelf_alone() -> None:
    shelf = Shelf(visible={"8": 10}, withheld={"7": 11})
    assert reconcile(shelf, {"7": BAN}) == []


def test_parse_product_ids_normalises_and_reports_malformed() -> None:
    valid, bad = parse_product_ids(["12", 13, " 14 ", "12", "a b", "", None, True, "1" * 65])
    assert valid == ["12", "13", "14"]
    assert bad == ["'a b'", "''", "None", "True", repr("1" * 65)]


def test_ids_from_document_accepts_the_documented_shapes() -> None:
    assert ids_from_document({"product_id": ["1", 2]}) == ["1", 2]
    assert ids_from_document(["1", "2"]) == ["1", "2"]
    assert ids_from_document([{"product_id": "3"}]) == ["3"]
    assert ids_from_document({"something": 1}) is None
    assert ids_from_document("12") is None


def test_an_import_object_without_a_product_id_is_shown_as_it_is() -> None:
    """`ban import` of [{"id": 5}] said "malformed product id(s): None"."""
    ids = ids_from_document([{"product_id": "3"}, {"id": 5}])
    assert parse_product_ids(ids or []) == (["3"], ["{'id': 5}"])


events = st.lists(
    st.tuples(st.sampled_from(["product", "ban", "unban"]), st.sampled_from(["1", "2", "3"])),
    max_size=40,
)


@given(events)
def test_invariant_filtered_equals_latest_unbanned(sequence: list[tuple[str, str]]) -> None:
    """After any sequence of products, bans and unbans: visible == where the latest versions
    of the products that are not banned are, withheld == where those of the banned ones are."""
    shelf, bans, latest = Shelf(), {}, {}
    for n, (event, pid) in enumerate(sequence):
        if event == "product":
            latest[pid] = n  # where version n can be read again
            effects = on_product(shelf, pid, b"{}", route({"product_id": pid}, bans), n)
        elif event == "ban":
            fold_ban(bans, pid, {**BAN, "product_id": pid})
            effects = on_ban(shelf, pid, bans[pid])
        else:
            change = fold_ban(bans, pid, None)
            effects = on_unban(shelf, pid) if change.kind == "unbanned" else []
        for e in effects:
            apply_effect(shelf, e)
        assert reconcile(shelf, bans) == []
    assert shelf.visible == {p: v for p, v in latest.items() if p not in bans}
    assert shelf.withheld == {p: v for p, v in latest.items() if p in bans}
