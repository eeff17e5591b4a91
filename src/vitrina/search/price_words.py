"""A price typed into the query («планшет до 15000», «часы дешевле 5 тысяч», «кроссовки от
3000 рублей»): a bound on the price, not words to match. Prices are no product's text, so
the number found only products whose specifications happened to have it (15000 mAh) and
the bound was lost. Pure functions over the query, for both backends, which read the bound
as the price filter of `SearchFilters` (the narrower of it and the caller's).
"""

from __future__ import annotations

import re
from dataclasses import replace

from vitrina.domain.search_document import query_words
from vitrina.search.analysis import is_counted_noun, is_dictionary_word
from vitrina.search.base import SearchFilters
from vitrina.search.number_units import NUMBER_UNITS, SPELT_UNITS, split_number_units

# Words before a number that make it a ceiling or a floor. «до» and «от» also bound ages,
# distances and counts (от 8 лет, до 30 км, от 1000 деталей): a unit after the number
# makes it that, not a price.
# «за 50000» (ноутбук за 50000) is what a shopper means to pay: read as a ceiling.
# «меньше», «больше» and the like compare sizes as often (больше 50 дюймов): a number of a
# price's size and no unit after it make it a price, as after до/от.
CEILING_WORDS = frozenset({"до", "дешевле", "за", "меньше", "менее", "ниже", "максимум"})
FLOOR_WORDS = frozenset({"от", "дороже", "больше", "более", "выше", "свыше", "минимум"})
# «не» before a comparison turns it round: не дороже 5000 is a ceiling, не дешевле a floor.
NEGATION = "не"
COMPARATIVES = frozenset({"дешевле", "дороже"})
NEGATABLE = COMPARATIVES | {"меньше", "менее", "ниже", "больше", "более", "выше"}
# A price said roughly (смартфон около 20000, примерно за 20к, в районе 5000): the band
# APPROXIMATE_SHARE either side of it.
APPROXIMATE_WORDS = frozenset({"около", "примерно", "приблизительно", "порядка"})
APPROXIMATE_SHARE = 0.2
# Two words that say one bound: в пределах 50000 is до 50000.
BOUND_PHRASES = {
    ("в", "пределах"): "до",
    ("в", "районе"): "около",
    ("примерно", "за"): "около",
    ("приблизительно", "за"): "около",
    ("около", "за"): "около",
}
CURRENCY_WORDS = frozenset(
    {"р", "руб", "рубль", "рубля", "рублей", "рублях", "rub", "rur", "₽", "тр", "тыр"}
)
# A price after до/от/за is at least this: «до 50» is a size, a speed or an age far more
# often, and the catalogues sell nothing under 100 ₽. After a comparative any number is one.
MIN_PRICE = 100
# Counted things after a number that NUMBER_UNITS lacks in the forms typed after «до/от»
# and that are no genitive plural (see `analysis.is_counted_noun`).
_UNIT_WORDS = frozenset({"деталь", "детали", "человек", "размер", "люмен", "лм"})
# A bound typed the short way: 5к / 5k / 5тыс (thousands), 5000р / 5000руб (the currency
# glued on), 5 000 (digits grouped by a space).
_GLUED_THOUSANDS = re.compile(r"(\d+)(?:к|k|тыс|тыщ|тр|тыр)")
# The same apart (до 5 к), and тр / тыр, «тысяч рублей» (до 5 тр).
THOUSANDS_APART = frozenset({"к", "k", "тр", "тыр"})
# Kopecks typed after a bound word: до 4999,99 / от 1999.90 (not a size: 6,1 дюйма has no
# bound word before it, and 5.000 — three digits — groups thousands).
_BOUND_WORDS = CEILING_WORDS | FLOOR_WORDS | APPROXIMATE_WORDS
_KOPECKS = re.compile(
    rf"(?<![\w])((?:{'|'.join(sorted(_BOUND_WORDS))})\s+\d+)[.,]\d{{1,2}}(?!\d)",
    re.IGNORECASE,
)
_GLUED_CURRENCY = re.compile(r"(\d+)(?:р|руб)")
_DIGIT_GROUP = re.compile(r"\d{3}")
# A bound typed as a sign (<50000, ≤ 50000, >10000) or a range (10000-50000, 10 000 – 50 000,
# 10-50к): rewritten as the words before the query is split into words, which drop signs
# and hyphens. A sign binds only right before a number; a range only between two numbers.
_SIGNS = re.compile(r"(<=|=<|≤|<|>=|=>|≥|>)\s*(?=\d)")
_RANGE = re.compile(
    r"(?<![\w.,])(\d{1,3}(?: \d{3})*|\d+)\s*[-–—]\s*(\d{1,3}(?: \d{3})*|\d+)"
    r"(?=\s|$|к\b|k\b|тыс|р\b|руб|₽)"
)


def is_currency(word: str) -> bool:
    """A currency word, or a slip of рублей (рублй, рубей: pymorphy3 guesses a counted
    noun, which made «до 5000 рублй» no price); not a word the dictionary has (рубашка)."""
    if word in CURRENCY_WORDS:
        return True
    return word.startswith(("руб", "рбл")) and len(word) <= 7 and not is_dictionary_word(word)


def _is_unit(word: str) -> bool:
    """A word after a number that makes it a size, an age or a count, not a price."""
    return not is_currency(word) and (
        word in NUMBER_UNITS
        or word in SPELT_UNITS
        or word in _UNIT_WORDS
        or (bool(word) and is_counted_noun(word))
    )


def _price_range(match: re.Match[str]) -> str:
    """A range as two bounds when it reads as prices: said in money or thousands, or both
    ends round hundreds (10000-50000); else as typed (rtx 3060-3070, 24-27 дюймов)."""
    low, high = match[1].replace(" ", ""), match[2].replace(" ", "")
    after = match.string[match.end() :].split(maxsplit=1)
    said = after[0].lower().rstrip(".") if after else ""
    money = said[:1] in ("к", "k", "р", "₽") or said.startswith("тыс") or said.startswith("руб")
    if not money and (_is_unit(said) or int(low) % 100 or int(high) % 100):
        return match[0]
    return f" от {low} до {high}"


def _signs_and_ranges(query: str) -> str:
    """«ноутбук <50000» → «ноутбук до 50000», «10000-50000» → «от 10000 до 50000»; kopecks
    after a bound word dropped (до 4999,99 → до 4999: split at the comma, the 99 was
    searched as a word)."""
    if "," in query or "." in query:
        query = _KOPECKS.sub(r"\1", query)
    if "<" in query or ">" in query or "≤" in query or "≥" in query:
        query = _SIGNS.sub(lambda m: " до " if m[1] in ("<", "<=", "=<", "≤") else " от ", query)
    if "-" in query or "–" in query or "—" in query:
        query = _RANGE.sub(_price_range, query)
    return query


def _thousands_on_both(words: list[str]) -> list[str]:
    """«от 50 до 100 тысяч» (one «тысяч» for both numbers, already 100000 after the split):
    the floor is 50000 too, when that keeps it below the ceiling."""
    for i in range(len(words) - 3):
        low, high = words[i + 1], words[i + 3]
        if (
            words[i] == "от"
            and words[i + 2] == "до"
            and low.isdecimal()
            and high.isdecimal()
            and int(low) < MIN_PRICE <= int(high)
            and int(high) % 1000 == 0
            and int(low) * 1000 < int(high)
        ):
            words[i + 1] = str(int(low) * 1000)
    return words


def _bound_words(words: list[str]) -> list[str]:
    """The query's words with a bound's short forms written out (до 5к and до 5 к → до 5000,
    от 5000р → от 5000 р, до 5 000 → до 5000, в пределах → до); only right after a bound
    word, so 4к in «телевизор 4к» and «5 000» elsewhere stay as typed."""
    for (first, second), bound in BOUND_PHRASES.items():
        for at in range(len(words) - 2, 0, -1):  # before a number only (в районе метро)
            if words[at - 1] == first and words[at] == second and words[at + 1][:1].isdecimal():
                words[at - 1 : at + 1] = [bound]
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        out.append(word)
        i += 1
        if word not in _BOUND_WORDS or i >= len(words):
            continue
        number = words[i]
        if m := _GLUED_THOUSANDS.fullmatch(number):
            out.append(str(int(m[1]) * 1000))
        elif number.isdecimal() and i + 1 < len(words) and words[i + 1] in THOUSANDS_APART:
            out.append(str(int(number) * 1000))
            i += 1
        elif m := _GLUED_CURRENCY.fullmatch(number):
            out.extend((m[1], "р"))
        elif number.isdecimal() and i + 1 < len(words) and _DIGIT_GROUP.fullmatch(words[i + 1]):
            out.append(number + words[i + 1])
            i += 1
        else:
            continue
        i += 1
    return out


def price_from_words(query: str) -> tuple[str, float | None, float | None] | None:
    """(the query without the price words, a floor, a ceiling), or None when the query
    names no price — then it is searched exactly as typed. A query of a price only («до
    5000», «дешевле 1000 рублей») leaves no words: every product within the bound, as an
    empty query lists every product. Kept as words, it found only products whose text
    happened to hold the number — none, for most bounds. «не дороже 5000» is a ceiling
    and «не дешевле 5000» a floor (read as «дороже 5000», it was the opposite bound)."""
    words = list(split_number_units(query_words(_signs_and_ranges(query))))
    words = _thousands_on_both(_bound_words(words))
    floor: float | None = None
    ceiling: float | None = None
    kept: list[str] = []
    i = 0
    while i < len(words):
        negated = words[i] == NEGATION and i + 1 < len(words) and words[i + 1] in NEGATABLE
        at = i + 1 if negated else i
        word = words[at]
        number = words[at + 1] if at + 1 < len(words) else ""
        after = words[at + 2] if at + 2 < len(words) else ""
        bound = word in _BOUND_WORDS
        unit = _is_unit(after)
        # «дешевле»/«дороже» compare prices only: any number after them is one (дешевле 50
        # finds what costs under 50 ₽, if anything; as words it found fitness bracelets).
        priced = word in COMPARATIVES or (number.isdecimal() and int(number) >= MIN_PRICE)
        if bound and number.isdecimal() and priced and not unit:
            if word in APPROXIMATE_WORDS and not negated:
                floor = round(float(number) * (1 - APPROXIMATE_SHARE), 2)
                ceiling = round(float(number) * (1 + APPROXIMATE_SHARE), 2)
            elif (word in CEILING_WORDS) != negated:
                ceiling = float(number)
            else:
                floor = float(number)
            i = at + (3 if is_currency(after) else 2)
            continue
        kept.append(words[i])
        i += 1
    if floor is None and ceiling is None:
        return None
    return " ".join(kept), floor, ceiling


def with_price_from_words(
    query: str, filters: SearchFilters | None
) -> tuple[str, SearchFilters | None]:
    """The query to search and the filters with the typed price bound added (the narrower
    of the typed bound and the caller's)."""
    found = price_from_words(query)
    if found is None:
        return query, filters
    text, floor, ceiling = found
    given = filters or SearchFilters()
    if floor is not None and (given.price_min is None or floor > given.price_min):
        given = replace(given, price_min=floor)
    if ceiling is not None and (given.price_max is None or ceiling < given.price_max):
        given = replace(given, price_max=ceiling)
    low, high = given.price_min, given.price_max
    if low is not None and high is not None and low > high:  # it contradicts the caller's
        return query, filters
    return text, given
