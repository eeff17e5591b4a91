"""What the CLI prints of text from outside (stores' products, ban reasons, dead letters):
never a control character the terminal would act on, never rich markup it would render.

A hostile-input review found `vitrina search`, `vitrina client search` and `vitrina ban list`
printing a brand's escape sequences raw (the terminal stayed recoloured when the table cut
off the reset), and `vitrina search` rendering a name's rich markup."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support import run_vitrina

from vitrina.cli.common import shown, spelt
from vitrina.cli.dlq import _preview
from vitrina.domain.generator import generate_catalog
from vitrina.kafka.dlq import reason_of
from vitrina.search.embedded import EmbeddedSearch
from vitrina.settings import load_settings


def test_search_prints_a_products_escapes_and_markup_as_text(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    product = {
        **next(iter(generate_catalog(1, seed=3))),
        "product_id": "esc-1",
        "name": "Чайник [link=https://example.com]клик[/link]",
        "brand": "\x1b[31mRed\x1b[0m",
    }
    index = EmbeddedSearch(settings.search_path)
    index.upsert([product])
    index.commit()
    index.close()
    env = {**os.environ, "VITRINA__DATA_DIR": str(tmp_path), "COLUMNS": "250"}
    done = run_vitrina("search", "чайник", env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "esc-1" in done.stdout
    assert "\x1b" not in done.stdout
    assert "\\x1b[31mRed\\x1b[0m" in done.stdout
    assert "[link=https://example.com]клик[/link]" in done.stdout


def test_control_characters_are_spelt_and_markup_escaped() -> None:
    assert spelt("a\tb\x00c\x7f\x9bd") == "a\\x09b\\x00c\\x7f\\x9bd"
    assert shown("[bold]x\x1b[0m") == "\\[bold]x\\x1b[0m"  # [0m is no tag: left as it is
    assert shown("Сковорода 28 см") == "Сковорода 28 см"
    # a direction control reorders what the terminal shows after it (a store's brand)
    assert spelt("Acme\u202emoc.elpmaxe\u2066x\u200f") == "Acme\\u202emoc.elpmaxe\\u2066x\\u200f"
    assert spelt("עברית العربية") == "עברית العربية"  # right-to-left letters are text


def test_a_dead_letters_bytes_are_previewed_without_their_control_characters() -> None:
    preview = _preview(b"garbage \x1b]0;title\x07 \xff end", 200)
    assert "\x1b" not in preview and "\x07" not in preview
    assert "\\x1b]0;title\\x07" in preview and "\ufffd" in preview


def test_loader_errors_group_by_what_went_wrong_not_by_where() -> None:
    """`vitrina dlq list` grouped a loader's dead letters by `item 3`, `line 1`: the text
    before the first colon was where the record sat in its file."""
    assert reason_of("item 3: the array is not closed with ']': the file ends after item 2") == (
        "the array is not closed with ']'"
    )
    assert reason_of("item 7: the array is not closed with ']': the file ends after item 6") == (
        reason_of("item 3: the array is not closed with ']': the file ends after item 2")
    )
    assert (
        reason_of(
            "line 1: the text is UTF-16 (what PowerShell writes), not UTF-8; save it as UTF-8"
        )
        == "the text is UTF-16 (what PowerShell writes), not UTF-8"
    )
    assert reason_of(
        "item 1: the record nests deeper than 64 levels (rule: depth); flatten it"
    ) == ("the record nests deeper than 64 levels")
    assert reason_of("line 4: malformed JSON: unexpected end of data") == "malformed JSON"
    assert reason_of("product: field price.amount: -1 is less than 0 (rule: minimum)") == (
        "price.amount: minimum"
    )


def test_a_dead_letter_written_again_after_a_kill_counts_once() -> None:
    """A worker killed after its dead letter and before its commit writes the letter again:
    a chaos review counted 1,011 letters for 800 rejected records. Each rejection counts
    once; a replayed record rejected again, a second service's rejection and two rejections
    at the door (no source offset) count apart, as letters; as records, the two services'
    letters for one record are one."""
    from vitrina.kafka.dlq import DeadLetter, distinct, records, summarize

    def letter(offset: int, source_offset: str, service: str = "filter", **more: str) -> Any:
        headers = {
            "source_topic": "shop-products",
            "source_partition": "2" if source_offset else "",
            "source_offset": source_offset,
            "service": service,
            "error": "malformed JSON: x",
            **more,
        }
        return DeadLetter(0, offset, b"k", b"v", headers)

    letters = [
        letter(1, "143874"),
        letter(2, "143874"),  # written again after the kill
        letter(3, "143874", "lake-sink"),  # another service's rejection of the same record
        letter(4, "143874", replay_count="1", replay_root="shop-products:2:143874"),
        letter(5, ""),  # at the door (shop load): no source offset
        letter(6, ""),
    ]
    assert [d.offset for d in distinct(letters)] == [1, 3, 4, 5, 6]
    assert sum(summarize(distinct(letters)).values()) == 5
    # The filter's and the lake sink's letters stand for one record (a blind review saw
    # `dlq list` count a bad product twice): 4 records, the replayed copy one of them.
    assert records(distinct(letters)) == 4
