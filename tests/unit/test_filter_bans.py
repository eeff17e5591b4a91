"""The filter acts on a poll's ban-list changes once per product, on its final state."""

from __future__ import annotations

from pathlib import Path

from vitrina.domain.banlist import Shelf, fold_ban
from vitrina.services.filter import FilterStep
from vitrina.settings import load_settings

BAN = {
    "product_id": "7",
    "reason": "подделка",
    "banned_by": "ops",
    "banned_at": "2026-01-01T00:00:00+00:00",
}


def step_with(tmp_path: Path, shelf: Shelf) -> FilterStep:
    step = FilterStep(load_settings(data_dir=tmp_path))  # no broker: nothing is read here
    step.shelves = {0: shelf}
    return step


def test_a_ban_and_its_unban_in_one_poll_leave_a_published_product_published(
    tmp_path: Path,
) -> None:
    step = step_with(tmp_path, Shelf(visible={"7": 4}))
    fold_ban(step.ban_list, "7", BAN)
    fold_ban(step.ban_list, "7", None)
    # Before: the ban's withhold/block/retract were computed, the unban found nothing
    # withheld yet, and the product ended retracted although not banned.
    assert step._act_on_bans(["7"]) == []


def test_an_unban_and_a_new_ban_in_one_poll_keep_a_withheld_product_withheld(
    tmp_path: Path,
) -> None:
    step = step_with(tmp_path, Shelf(withheld={"7": 4}))
    fold_ban(step.ban_list, "7", BAN)
    assert step._act_on_bans(["7"]) == []


def test_a_ban_retracts_from_the_shelf_that_holds_the_product(tmp_path: Path) -> None:
    step = step_with(tmp_path, Shelf(visible={"7": 4}))
    fold_ban(step.ban_list, "7", BAN)
    acted = step._act_on_bans(["7"])
    assert [(p, e.kind, e.at) for p, e in acted] == [
        (0, "withhold", 4),
        (0, "block", 4),
        (0, "retract", -1),
    ]
