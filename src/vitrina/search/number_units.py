"""Numbers as shoppers type them, for both search backends: glued to their unit (512гб,
20л) or as a compound's numeral prefix (двухместная). Pure functions over query words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from vitrina.domain.search_document import is_number
from vitrina.search.analysis import is_counted_noun, is_singular_noun, lemmas, number_word
from vitrina.search.word_lists import CODE_LETTER_NAMES, LETTER_NAMES

# Units a number is typed glued to (16гб, 55дюймов, 1.5л, 2000вт): the catalogues write
# "16 ГБ", "2000 Вт", so the index has the number and the unit as two words and never the
# glued one. The units of the catalogues' specifications and the common ones beside them,
# Cyrillic and Latin; a letter run that is no unit (4к, x11, a60) stays glued: it is a
# model code or a resolution the index has as one word.
NUMBER_UNITS = frozenset(
    (
        *("гб", "тб", "мб", "кб", "гц", "ггц", "вт", "квт", "ватт", "в", "мач", "мп"),
        *("л", "литр", "литра", "литров", "мл", "см", "мм", "м", "км", "кг", "г", "гр"),
        *("мин", "ч", "час", "часа", "часов", "дюйм", "дюйма", "дюймов", "дюймы"),
        *("шт", "мес", "лет", "год", "года", "мест", "места", "деталей", "дней", "дня"),
        *("gb", "tb", "mb", "hz", "ghz", "w", "kw", "mah", "mp", "ml", "cm", "mm", "kg", "km"),
    )
)
_NUMBER_GLUED = re.compile(r"(\d+)([^\W\d_]+)")
# A unit spelt out after a number (40 часов, 25 литров, 1200 ватт) as the catalogues'
# specifications abbreviate it ("Время работы: 40 ч", "Объём: 25 л"): the spelt word is in
# no specification, and «часов» alone finds watches.
SPELT_UNITS: dict[str, str] = {
    **dict.fromkeys(("час", "часа", "часов"), "ч"),
    **dict.fromkeys(("минута", "минуты", "минут"), "мин"),
    **dict.fromkeys(("литр", "литра", "литров"), "л"),
    **dict.fromkeys(("миллилитр", "миллилитра", "миллилитров"), "мл"),
    **dict.fromkeys(("ватт", "ватта", "ваттов"), "вт"),
    **dict.fromkeys(("сантиметр", "сантиметра", "сантиметров"), "см"),
    **dict.fromkeys(("миллиметр", "миллиметра", "миллиметров"), "мм"),
    **dict.fromkeys(("килограмм", "килограмма", "килограммов"), "кг"),
    **dict.fromkeys(("гигабайт", "гигабайта", "гигабайтов"), "гб"),
    # clipped as said (256 гигов, 5 кило: probe round 24)
    **dict.fromkeys(("гиг", "гига", "гигов"), "гб"),
    **dict.fromkeys(("кило",), "кг"),
    **dict.fromkeys(("грамм", "грамма", "граммов", "гр"), "г"),  # blind probe round 53
    **dict.fromkeys(("терабайт", "терабайта", "терабайтов"), "тб"),
    **dict.fromkeys(("мегапиксель", "мегапикселя", "мегапикселей"), "мп"),
    **dict.fromkeys(("герц", "герца"), "гц"),
    **dict.fromkeys(("месяц", "месяца", "месяцев"), "мес"),
}
# Units a thousand of another (1,5 квт): the catalogues write power in watts ("1500 Вт").
KILO_UNITS: dict[str, str] = {
    **dict.fromkeys(("квт", "киловатт", "киловатта", "kw"), "вт"),
}
# A thousand said as a word after a number (5 тысяч, полторы тысячи, 15 тыс): prices are
# written in digits (5000), and «тысяч» is in no product's text.
THOUSANDS = frozenset(
    {"тысяча", "тысячи", "тысяч", "тыс", "тысячу", "тыща", "тыщи", "тыщ", "тыщу", "тыщь"}
)
# Numeral prefixes of Russian compounds (двухместная, трехспальное, четырехколесный) and
# the number each stands for: the catalogues write it as a digit ("2 места", "2-спальное").
NUMERAL_PREFIXES = (
    ("одно", "1"),
    ("двух", "2"),
    ("трех", "3"),
    ("четырех", "4"),
    ("пяти", "5"),
    ("шести", "6"),
    ("семи", "7"),
    ("восьми", "8"),
)
# What a numeral prefix counts in goods' names (двухместная палатка, трехспальное бельё,
# двухкамерный холодильник, четырехконфорочная плита, двухъярусная кровать): only these,
# since other words start with a numeral too (одноразовый, семинар, пятновыводитель).
COUNTED_STEMS = (
    *("мест", "спальн", "комнатн", "камерн", "конфорочн", "колесн", "ъярусн", "ядерн"),
    "процентн",  # пятипроцентный творог: 5 (the titles' 5%; blind probe round 53)
)


# Collective numerals (на двоих, на четверых): how many people a product is for, which the
# catalogues write as places ("Вместимость: 2 места"); the digit alone is in every
# description («от 2 дней»), so the unit comes with it.
COLLECTIVE_NUMERALS: dict[str, str] = {
    "двоих": "2",
    "троих": "3",
    "четверых": "4",
    "пятерых": "5",
    "шестерых": "6",
    "семерых": "7",
    "восьмерых": "8",
}
PLACES = "места"
# The same quantity in the neighbouring unit (1 см = 10 мм, 2,5 ч = 150 мин, 1 тб = 1000
# гб): the catalogues write a yoga mat's thickness in мм, a pan's diameter in см, a robot
# vacuum's run time in мин, a headphone's in ч, so a shopper's unit is often not the
# specification's. Pairs (larger unit, smaller unit, factor), over the abbreviations
# `split_number_units` leaves (квт is rewritten to вт there already).
UNIT_CONVERSIONS = (
    ("см", "мм", 10),
    ("м", "см", 100),
    ("ч", "мин", 60),
    ("л", "мл", 1000),
    ("кг", "г", 1000),
    ("тб", "гб", 1000),
)
# A Latin letter said by its name after a number (5 джи, 4 кей, 3 ди): the catalogues write
# 5G, 4K, 3D, one word; the spelt name is in no name, and the number alone is in many.
# (the names of word_lists.LETTER_NAMES whose letter follows a number in the catalogues)
NUMBER_LETTERS = {name: letter for name, letter in LETTER_NAMES.items() if letter in "gkd"}
# One and a half (полтора литра, полуторное бельё, полутороспальное): the catalogues write
# 1.5, one word, as 1.5 typed is.
ONE_AND_A_HALF = ("1.5",)
HALF = "0.5"
_ONE_AND_A_HALF_WORDS = frozenset({"полтора", "полторы"})
# A number typed with its case ending before what it counts (4х местная, 2-х местная, 3-х
# спальное, 5-ти дверный): the ending (двух, трех, пяти…) says nothing the digit does not, and
# glued to the digit it is a word no product has. Only before a counted stem, as for the
# numeral prefixes: 2х20 кг and 4х4 are sizes, not case forms.
NUMBER_ENDINGS = frozenset({"х", "ти", "ми", "и"})
_NUMBER_WITH_ENDING = re.compile(r"(\d+)(х|ти|ми|и)")


# A number said in words is read as digits only beside what it counts or a price word: the
# digits are what the catalogues write (Размер: 42, 2×10 кг), but a title may say its
# number in words (Три товарища), and «три» alone is no quantity of anything.
_COUNTED_AFTER_STARTS = ("размер", "человек", "персон", "штук", "рубл", "ядер", "камер")
_NUMBER_BEFORE = frozenset({"до", "от", "за", "дешевле", "дороже", "размер", "размера"})
# A number and a half said so (два с половиной килограмма: a 2.5 kg dumbbell, blind probe
# round 47): the catalogues write 2.5.
HALF_WORDS = ("с", "половиной")
# A number said as its noun (балтика семерка, айфон десятка: blind probe round 51), read as
# its digits where a number said in words last after a name is.
NUMBER_NOUNS = {
    "двойка": 2, "тройка": 3, "четверка": 4, "пятерка": 5, "шестерка": 6, "семерка": 7,
    "восьмерка": 8, "девятка": 9, "десятка": 10,
}  # fmt: skip


def numbers_said_in_words(words: Iterable[str]) -> tuple[str, ...]:
    """A number said in words as its digits where it counts something or is a price:
    сорок второго размера → 42 размера, десять кг → 10 кг, пятьдесят пять дюймов → 55
    дюймов, до двадцати тысяч → до 20 тысяч (then 20000), на три человека → на 3 человека,
    тысяча пятьсот ватт → 1500 ватт, пятьсот двенадцать страниц (a genitive plural noun
    after five or more) → 512 страниц, эм сорок пять → эм 45 (then m45, a model code).
    Hundreds, tens, then units or teens, an ordinal only last; one (один, одна) alone, an
    ordinal under twenty alone (второго) and a whole query that is an ordinal (сорок первый,
    a title) stay words."""
    words = tuple(words)
    out: list[str] = []
    i = 0
    for start, end, number in _said_runs(words):
        out.extend(words[i:start])
        out.append(number)
        i = end
    out.extend(words[i:])
    return tuple(out)


def said_numbers(words: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each number `numbers_said_in_words` reads as digits, with the words it was said in:
    (("12", ("двенадцать",)), …). The query plan looks for those words too, as the digits'
    meaning: a title says its number in words (Двенадцать стульев, Пятьдесят оттенков
    серого), and a product with the digits and the other words (a set of 12 chairs) must
    not be all "all words" finds."""
    words = tuple(words)
    return tuple(
        (number, words[start:end])
        for start, end, number in _said_runs(words)
        if not words[start].isdecimal()  # 2 с половиной: typed in digits already
    )


@lru_cache(maxsize=65_536)  # rewritten_words and said_in_words ask it of the same words
def _said_runs(words: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    """(start, end, digits) of each number said in words that counts something, and of a
    number and a half (два с половиной, 2 с половиной → 2.5)."""
    runs = []
    i = 0
    while i < len(words):
        end, value = _number_run(words, i)
        if words[i].isdecimal() and words[i + 1 : i + 3] == HALF_WORDS:
            runs.append((i, i + 3, f"{words[i]}.5"))
            i += 3
        elif end > i and words[end : end + 2] == HALF_WORDS:
            runs.append((i, end + 2, f"{value}.5"))
            i = end + 2
        elif end > i and _counts(words, i, end, value):
            runs.append((i, end, str(value)))
            i = end
        elif (noun := _number_noun(words, i)) is not None:
            runs.append((i, i + 1, str(noun)))
            i += 1
        else:
            i += 1
    return tuple(runs)


def _number_noun(words: tuple[str, ...], i: int) -> int | None:
    """The number a noun said last, after a word that is no number, stands for (балтика
    семерка → 7); None elsewhere (тройка alone, a three-piece suit, stays a word)."""
    before = words[i - 1] if i else ""
    if i != len(words) - 1 or not before or is_number(before) or number_word(before) is not None:
        return None
    return next((NUMBER_NOUNS[f] for f in (words[i], *lemmas(words[i])) if f in NUMBER_NOUNS), None)


def _number_run(words: tuple[str, ...], start: int) -> tuple[int, int]:
    """(end, value) of the number said in words from `start`, or (start, 0): up to three
    digits' worth, then тысяча and up to three more (две тысячи пятьсот → 2500)."""
    end, value, ordinal = _below_thousand(words, start)
    if not ordinal and end < len(words) and number_word(words[end]) == (1000, False):
        after, rest, _ = _below_thousand(words, end + 1)
        return after, (value or 1) * 1000 + rest
    return end, value


def _below_thousand(words: tuple[str, ...], start: int) -> tuple[int, int, bool]:
    """(end, value, ended by an ordinal) of hundreds, tens, then units or teens."""
    value, end, last_rank = 0, start, 4
    for i in range(start, min(len(words), start + 3)):
        read = number_word(words[i])
        if read is None or read[0] >= 1000:
            break
        number, ordinal = read
        rank = 3 if number >= 100 else 2 if number >= 20 else 1
        if rank >= last_rank or (last_rank == 2 and number >= 10):  # двадцать двенадцать
            break
        value, end, last_rank = value + number, i + 1, rank
        if ordinal:
            return end, value, True
    return end, value, False


def _counts(words: tuple[str, ...], start: int, end: int, value: int) -> bool:
    _, ordinal = number_word(words[end - 1]) or (value, False)
    if end - start == 1 and value < 20 and (value == 1 or ordinal):
        return False  # одна пара, второго: no quantity
    after = words[end] if end < len(words) else ""
    before = words[start - 1] if start else ""
    if before.isdecimal() and words[start] in THOUSANDS:
        return False  # 5 тысяч рублей: the digits' thousands (5000), not 5 and 1000 рублей
    return (
        (value >= 1000 and end - start > 1)  # пять тысяч: an amount, as «5 тысяч» is read
        # кроссовки сорок третий: a size, said as sizes are; alone it is a title (Сорок первый)
        or (ordinal and 20 <= value < 100 and end - start < len(words))
        or after in NUMBER_UNITS
        or after in SPELT_UNITS
        or after in KILO_UNITS
        or after in THOUSANDS
        or after.startswith(_COUNTED_AFTER_STARTS)
        or before in _NUMBER_BEFORE
        # си шестьдесят пять → c65: a letter's name, then a number, is a model code said
        # aloud as a phone's speech recogniser writes it (blind probe round 47)
        or before in CODE_LETTER_NAMES
        # пиво балтика семь, айфон пятнадцать: a number said last, after a name, is its
        # number (Балтика 7, iPhone 15), as titles write it; its words are looked for too
        or (
            end == len(words)
            and start > 0
            and not ordinal
            and words[start] not in THOUSANDS  # полторы тысячи: 1500, read apart
            and before not in _ONE_AND_A_HALF_WORDS
            and number_word(before) is None
        )
        # пятьсот двенадцать страниц; тысяча alone is a name's as often (тысяча мелочей)
        or (value >= 5 and (value < 1000 or end - start > 1) and is_counted_noun(after))
        # двадцать одна скорость: after a number ending in one, what it counts is singular
        or (end - start > 1 and value % 10 == 1 and value % 100 != 11 and is_singular_noun(after))
    )


def split_number_units(words: Iterable[str]) -> tuple[str, ...]:
    """A number glued to its unit as two words (512гб → 512 гб, 20л → 20 л), and a numeral
    prefix as its digit (двухместная → 2 местная), a collective numeral as its places (на
    четверых → на 4 места), one and a half as 1.5 (полуторное → 1.5), a unit spelt out
    after a number as its abbreviation (40 часов → 40 ч), a letter said by its name as the
    number's letter (5 джи, 5джи → 5g), thousands said as a word (полторы тысячи → 1500),
    a number's case ending dropped before what it counts (4х местная → 4 местная), a
    number said in words beside what it counts (`numbers_said_in_words`: сорок второго
    размера → 42 размера): the catalogues write numbers as digits apart from their
    units, so the glued word finds nothing and the number, which decides which product is
    meant, was lost."""
    out: list[str] = []
    words = numbers_said_in_words(words)
    for word in _without_number_endings(words):
        glued = _NUMBER_GLUED.fullmatch(word)
        if glued is not None and glued.group(2) in NUMBER_LETTERS:  # 5джи → 5g, as 5 джи
            out.append(glued.group(1) + NUMBER_LETTERS[glued.group(2)])
            continue
        if glued is not None and glued.group(2) in NUMBER_UNITS:
            out.append(glued.group(1))
            word = glued.group(2)
            if word not in KILO_UNITS:
                out.append(word)
                continue
        if word in KILO_UNITS and out and is_number(out[-1]):
            out[-1:] = [_in_thousands(out[-1]), KILO_UNITS[word]]  # 1,5 квт → 1500 вт
            continue
        if word in THOUSANDS and out and is_number(out[-1]):  # 5 тысяч → 5000
            out[-1] = _in_thousands(out[-1])  # полторы тысячи → 1.5 → 1500
            continue
        if word in NUMBER_LETTERS and out and out[-1].isdecimal():  # 5 джи → 5g
            out[-1] += NUMBER_LETTERS[word]
            continue
        if word in SPELT_UNITS and out and is_number(out[-1]):  # 40 часов, 1.5 литра → л
            out.append(SPELT_UNITS[word])
            continue
        # пол-литра, поллитра, полкило: half a unit (боржоми пол-литра: the titles' 0,5 л)
        half = word[3:] if word.startswith("пол") else ""
        if out and out[-1] == "пол" and word in SPELT_UNITS:
            out[-1:] = [HALF, SPELT_UNITS[word]]
            continue
        if half in SPELT_UNITS and half not in ("час", "часа"):  # полчаса is said of time only
            out += [HALF, SPELT_UNITS[half]]
            continue
        # полуторное → 1.5; полуторка too beside another word (постельное белье полуторка:
        # 1.5-bed linen, probe round 24), alone it is a noun (the lorry) and stays
        if (
            word in _ONE_AND_A_HALF_WORDS
            or word.startswith("полуторн")
            or (word.startswith("полуторк") and len(words) > 1)
        ):
            out += ONE_AND_A_HALF
            continue
        if word.startswith("полуторо") and word[8:].startswith(COUNTED_STEMS):
            out += [*ONE_AND_A_HALF, word[8:]]  # полутороспальное → 1.5 спальное
            continue
        if word in COLLECTIVE_NUMERALS:  # на четверых → на 4 места
            out += [COLLECTIVE_NUMERALS[word], PLACES]
            continue
        prefix = next((p for p in NUMERAL_PREFIXES if word.startswith(p[0])), None)
        if prefix is not None and word[len(prefix[0]) :].startswith(COUNTED_STEMS):
            out += [prefix[1], word[len(prefix[0]) :].lstrip("ъ")]
            continue
        out.append(word)
    return tuple(out)


def _without_number_endings(words: tuple[str, ...]) -> list[str]:
    """4х местная → 4 местная, 2 х местная (2-х, split at the hyphen) → 2 местная: a
    number's case ending dropped where the next word is a counted stem."""
    out: list[str] = []
    for i, word in enumerate(words):
        counted = i + 1 < len(words) and words[i + 1].startswith(COUNTED_STEMS)
        if counted and word in NUMBER_ENDINGS and out and out[-1].isdecimal():
            continue  # 2 х местная: the ending typed apart after the hyphen
        ending = _NUMBER_WITH_ENDING.fullmatch(word) if counted else None
        out.append(ending.group(1) if ending is not None else word)
    return out


def _in_thousands(number: str) -> str:
    """A number before a kilo-unit in thousands of the base unit: 2 → 2000, 1.5 → 1500."""
    whole, _, fraction = number.partition(".")
    return str(int(whole) * 1000 + int((fraction + "00")[:3]))


def converted_units(words: tuple[str, ...]) -> tuple[tuple[int, int, tuple[str, str]], ...]:
    """Each number with its unit (words as `split_number_units` leaves them: 1 см, 2.5 ч)
    and the same quantity in the neighbouring unit, as (start, end, (number, unit)):
    1 см → 10 мм, 2.5 ч → 150 мин, 300 мм → 30 см, 500 мл → 0.5 л (to hundredths: 512 гб
    is no number of тб a title writes). For a phrase of both backends' query plan (`phrases`): the typed
    pair or the converted one."""
    return tuple(
        (start, end, converted)
        for start, end, whole, fraction, unit in _quantities(words)
        if (converted := _converted(whole, fraction, unit)) is not None
    )


def _quantities(words: tuple[str, ...]) -> Iterator[tuple[int, int, str, str, str]]:
    """Each number followed by a word (its unit, maybe), as (start, end, whole, fraction,
    unit): 1 см → (…, "1", "", "см"); 2,5 ч, the words 2.5 ч, → (…, "2", "5", "ч")."""
    for i, unit in enumerate(words):
        if i > 0 and is_number(words[i - 1]):
            whole, _, fraction = words[i - 1].partition(".")
            yield i - 1, i + 1, whole, fraction, unit


# A whole number typed with no unit after it (смартфон на 512, айфон 256) may be written
# glued to its unit in a title (12/512GB, 128GB), which the index has as one word the bare
# number never finds (blind probe round 44: «смартфон на 512» listed a laptop with «512 ГБ»
# and a 128GB phone above the 512GB one). The number is also looked for glued to letters:
# a unit (an alternation of NUMBER_UNITS was ten times dearer to compile, ~350 µs a query).
GLUED_LETTERS_PATTERN = "[a-zа-яё]+"
MAX_BARE_NUMBER_DIGITS = 5


def bare_numbers(words: tuple[str, ...]) -> tuple[int, ...]:
    """The positions of whole numbers with no unit after them, which a title may have glued
    to one (`GLUED_LETTERS_PATTERN`: any letters, so 5 also finds 5G)."""
    return tuple(
        i
        for i, word in enumerate(words)
        if word.isascii()
        and word.isdecimal()
        and len(word) <= MAX_BARE_NUMBER_DIGITS
        and (i + 1 == len(words) or words[i + 1] not in NUMBER_UNITS)
    )


# An inch said in words: the catalogues write the mark (55", 6.7″), which the index drops,
# so the number alone is what a title with it has («телевизор 55 дюймов» ranked a 65" TV
# whose title says «65 дюймов» first: blind probe round 43).
INCH_WORDS = frozenset({"дюйм", "дюйма", "дюймов", "дюймы", "inch", "inches"})

# The Latin spellings of the units (the seed catalogues write "5000 mAh", "120Hz", "350W"):
# a shopper types мач, гц, вт. Both ways: a Latin unit typed finds the Cyrillic one.
LATIN_UNITS: dict[str, str] = {
    "гц": "hz",
    "вт": "w",
    "мач": "mah",
    "мп": "mp",
    "гб": "gb",
    "тб": "tb",
    "мл": "ml",
    "мм": "mm",
    "см": "cm",
    "кг": "kg",
    "км": "km",
}
_CYRILLIC_UNITS = {latin: cyrillic for cyrillic, latin in LATIN_UNITS.items()}
# A screen's diagonal in см (телевизор 140 см) is the catalogues' inches (55"), to the nearest
# whole inch, which the index has as the bare number: only from 50 см (a 20" monitor) up —
# below that см are a pan's diameter or a toy's height, never a diagonal — and only where
# the whole inch is within 0.25" of the centimetres (140 см = 55.1").
CM_PER_INCH = 2.54
MIN_DIAGONAL_CM = 50
INCH_TOLERANCE = 0.25
# Below 50 см a number of см is a diagonal only where a query word names a screen
# (смартфон экран 17 см, планшет 28 см, электронная книга 15 см): then the whole inch
# within 0.25", else the inch to a tenth, as phones are written (17 см → 6.7"); from 8 см,
# the smallest screen the catalogues have (a 1.4" watch face is 3.5 см, never asked in см).
SCREEN_STEMS = (
    "смартфон", "телефон", "планшет", "экран", "диагонал", "читалк", "электронн", "ноутбук",
    "ноут", "монитор", "телевизор", "телек", "телик",
)  # fmt: skip
MIN_SCREEN_CM = 8


def unit_readings(
    words: tuple[str, ...],
) -> tuple[tuple[int, int, tuple[tuple[str, ...], ...]], ...]:
    """Each number with its unit and what else the catalogues may write for it, as (start,
    end, meanings): the quantity in the neighbouring unit (`converted_units`: 1 см → 10 мм),
    the unit's Latin spelling apart and glued to the number (5000 мач → 5000 mah, 5000mah;
    120 гц → 120hz, as the seed catalogues write it: the index has "120hz" as one word), the
    unit as typed glued to the number (65 w → 65w: blind probe round 43), and
    a diagonal in см as its whole inches (81 см → 32). For a phrase of both backends' plan."""
    screen = any(word.startswith(SCREEN_STEMS) for word in words)
    out: list[tuple[int, int, tuple[tuple[str, ...], ...]]] = []
    for start, end, whole, fraction, unit in _quantities(words):
        meanings: list[tuple[str, ...]] = []
        converted = _converted(whole, fraction, unit)
        if converted is not None:
            meanings.append(converted)
        other = LATIN_UNITS.get(unit) or _CYRILLIC_UNITS.get(unit)
        if other is not None and not fraction:
            meanings += [(whole, other), (whole + other,)]
        if unit in ("см", "cm") and not fraction:
            meanings += _diagonal_inches(int(whole), screen)
        if unit in INCH_WORDS:  # 55 дюймов: the titles' 55" (the mark is no word)
            meanings.append((f"{whole}.{fraction}" if fraction else whole,))
        if other is not None and not fraction:  # and a unit glued as typed: «зарядка 65w»
            meanings.append((whole + unit,))  # (split to 65 w) found no 65W
        if meanings:
            out.append((start, end, tuple(dict.fromkeys(meanings))))
    return tuple(out)


def _diagonal_inches(cm: int, screen: bool) -> list[tuple[str, ...]]:
    """A diagonal in см as the catalogues' inches: the whole inch (81 см → 32, within 0.25"),
    and below 50 см only for a screen, else to a tenth (17 см → 6.7)."""
    if cm < MIN_DIAGONAL_CM and not (screen and cm >= MIN_SCREEN_CM):
        return []
    inches = cm / CM_PER_INCH
    if abs(inches - round(inches)) <= INCH_TOLERANCE:
        return [(str(round(inches)),)]
    if cm >= MIN_DIAGONAL_CM:
        return []
    whole, tenth = divmod(round(inches * 10), 10)
    return [(f"{whole}.{tenth}",)]


def _converted(whole: str, fraction: str, unit: str) -> tuple[str, str] | None:
    """The quantity `whole`,`fraction` `unit` in the neighbouring unit: a whole number, or
    from the smaller unit a number of hundredths."""
    for large, small, factor in UNIT_CONVERSIONS:
        if unit == large:  # 2,5 ч → 150 мин: scaled by 10^len(fraction) to stay in integers
            scale = 10 ** len(fraction)
            value, rest = divmod((int(whole) * scale + int(fraction or 0)) * factor, scale)
            return (str(value), small) if not rest and value else None
        if unit == small and not fraction and int(whole):  # 300 мм → 30 см
            value, rest = divmod(int(whole), factor)
            if not rest:
                return str(value), large
            # 500 мл → 0.5 л, 1500 мл → 1.5 л, 250 г → 0.25 кг: as titles write a bottle
            # or a pack (blind probe round 48: «вода шишкин лес 500 мл» ranked the 5 л first)
            hundredths, rest = divmod(int(whole) * 100, factor)
            if rest:
                return None
            return f"{hundredths // 100}.{hundredths % 100:02d}".rstrip("0"), large
    return None
