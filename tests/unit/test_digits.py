"""Digits that are not decimal digits: str.isdigit() is true for ❶, ² and ₃, which int()
refuses. A search for «до ❶» raised ValueError (found by hypothesis,
`test_any_text_is_a_clean_result`); a dead letter whose partition header was «²» passed
the check and failed in int(). Every digit check that guards an int() is isdecimal()."""

from __future__ import annotations

import pytest

from vitrina.kafka.deadletter import HEADER_OFFSET, HEADER_PARTITION, HEADER_REPLAYS
from vitrina.kafka.dlq import DeadLetter, replays_of
from vitrina.search.price_words import price_from_words


@pytest.mark.parametrize("query", ["до ❶", "дешевле ❶", "цена до ❶❷❸ руб", "от ² до ₃"])
def test_a_price_of_digit_symbols_is_no_price_and_no_error(query: str) -> None:
    assert price_from_words(query) is None


def test_decimal_digits_of_any_script_are_a_price() -> None:
    assert price_from_words("до ٥٠٠٠") == ("", None, 5000.0)  # Arabic-Indic digits


def test_a_dead_letter_with_digit_symbols_in_its_headers_is_read_as_having_none() -> None:
    headers = {HEADER_PARTITION: "²", HEADER_OFFSET: "❶", HEADER_REPLAYS: "³"}
    letter = DeadLetter(0, 7, b"k", b"v", headers)
    assert letter.at_the_door and letter.source_partition == -1
    assert letter.source_offset == -1
    assert replays_of(headers) == 0
