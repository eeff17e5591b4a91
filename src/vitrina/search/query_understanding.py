"""How people really type: what else a query word may mean, for both search backends.

Pure functions over words (no index, no I/O): a backend asks `alternatives(word, lemmas)`
for the extra words to look for and adds them to that word's clause with the weight given,
so the exact word still ranks first. Four kinds of misses are covered:

- near-synonyms and diminutives (лэптоп → ноутбук, ложечка → ложка, мышку → мышь): a small
  dictionary over lemmas plus the regular diminutive suffixes (-очка/-ечка → -ка,
  -ик/-чик → the bare word);
- Cyrillic spellings of Latin brands (самсунг → samsung, айфон → iphone): a dictionary of
  the common ones, also one letter off (`misspelt_brand`); `transliterate` and
  `transliterate_english` give any other word Latin twins for the fuzzy stage;
- a word inside a compound (велосипед → электровелосипед): the word with each productive
  Russian compound prefix;
- typos beyond one edit: `fuzzy_distance` allows two edits for long words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Lemma → what else it means. Keys and values are lemmas (normal forms), lower case, ё → е.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "лэптоп": ("ноутбук",),
    "лептоп": ("ноутбук",),
    "ноут": ("ноутбук",),
    "нетбук": ("ноутбук",),
    "ультрабук": ("ноутбук",),
    "мышка": ("мышь",),
    "мышь": ("мышка",),
    "телефон": ("смартфон",),
    "мобильник": ("смартфон", "телефон"),
    "мобила": ("смартфон", "телефон"),
    "смартфон": ("телефон",),
    "айфон": ("смартфон",),
    "телек": ("телевизор",),
    "телик": ("телевизор",),
    "зомбоящик": ("телевизор",),
    "кофеварка": ("кофемашина",),
    "кофемашина": ("кофеварка",),
    "микроволновка": ("микроволновый", "печь"),
    "микроволновый": ("микроволновка",),
    "свч": ("микроволновый", "печь"),
    "кроссы": ("кроссовок", "кроссовки"),
    "кроссовка": ("кроссовок",),
    "наушнички": ("наушник",),
    "наушничек": ("наушник",),
    "ухо": ("наушник",),
    "часики": ("часы",),
    "смартчасы": ("умный", "часы"),
    "пылесосик": ("пылесос",),
    "чайничек": ("чайник",),
    "сковородка": ("сковорода",),
    "сковородочка": ("сковорода",),
    "книжка": ("книга",),
    "книжечка": ("книга",),
    "джинсики": ("джинсы",),
    "курточка": ("куртка",),
    "футболочка": ("футболка",),
    "рюкзачок": ("рюкзак",),
    "палаточка": ("палатка",),
    "гантелька": ("гантель",),
    "лампочка": ("лампа",),
    "розеточка": ("розетка",),
    "колоночка": ("колонка",),
    "ложечка": ("ложка",),
    "вилочка": ("вилка",),
    "чашечка": ("чашка",),
    "кружечка": ("кружка",),
    "тарелочка": ("тарелка",),
    "сумочка": ("сумка",),
    "планшетик": ("планшет",),
    "телефончик": ("телефон", "смартфон"),
    "кофемолка": ("кофемашина",),
    "саундбара": ("саундбар",),
}

# Cyrillic spellings of Latin brands and product words → the Latin word as catalogues write it.
BRANDS: dict[str, str] = {
    "самсунг": "samsung",
    "самсун": "samsung",
    "сямсунг": "samsung",
    "айфон": "iphone",
    "айфона": "iphone",
    "айпад": "ipad",
    "эпл": "apple",
    "эппл": "apple",
    "апл": "apple",
    "сяоми": "xiaomi",
    "ксиаоми": "xiaomi",
    "ксяоми": "xiaomi",
    "шаоми": "xiaomi",
    "хонор": "honor",
    "леново": "lenovo",
    "асус": "asus",
    "асер": "acer",
    "эйсер": "acer",
    "делл": "dell",
    "дел": "dell",
    "филипс": "philips",
    "бош": "bosch",
    "найк": "nike",
    "найки": "nike",
    "адидас": "adidas",
    "адик": "adidas",
    "пума": "puma",
    "асикс": "asics",
    "сони": "sony",
    "лего": "lego",
    "джибиэль": "jbl",
    "джбл": "jbl",
    "реалми": "realme",
    "рилми": "realme",
    "текно": "tecno",
    "логитек": "logitech",
    "логитеч": "logitech",
    "поларис": "polaris",
    "редмонд": "redmond",
    "маршал": "marshall",
    "маршалл": "marshall",
    "сеннхайзер": "sennheiser",
    "зенхайзер": "sennheiser",
    "эдифаер": "edifier",
    "эдифайер": "edifier",
    "тефаль": "tefal",
    "браун": "braun",
    "делонги": "de'longhi",  # as catalogues write it: the index splits it into de + longhi
    "хуавей": "huawei",
    "хуавэй": "huawei",
    "тплинк": "tp",
    "нивея": "nivea",
    "гарньер": "garnier",
    "лореаль": "oreal",
    "икеа": "ikea",
    "акара": "aqara",
}

# Productive prefixes of Russian compound product names (электро|чайник, вело|шлем).
COMPOUND_PREFIXES = (
    "электро",
    "вело",
    "мото",
    "авто",
    "фото",
    "видео",
    "аудио",
    "аэро",
    "гидро",
    "термо",
    "мини",
    "микро",
    "мульти",
    "смарт",
    "аква",
    "робот",
)
# Compounds of a diminutive's base (самокатик → электросамокат) only for longer bases:
# -ик also ends plain words (чайник → чайн, датчик → датч), and 16 prefixes for each such
# stump were 12 % more term lookups per query.
MIN_DIMINUTIVE_BASE_FOR_COMPOUNDS = 6
MIN_COMPOUND_PART = 4  # shorter parts (кот, чай) join too many unrelated compounds

_DIMINUTIVE = (
    ("чик", ""),  # телевизорчик → телевизор
    ("ик", ""),  # кедик (кедики) → кед, ноутик → ноут
    ("ечка", "ка"),
    ("очка", "ка"),
    ("ечек", "ок"),
    ("очек", "ок"),
    ("ичка", "ка"),
    ("ушка", "а"),
)

_TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}

# Weights relative to the word as typed (1.0): a meaning the customer probably intended,
# below what they literally wrote.
SYNONYM_WEIGHT = 0.8
BRAND_WEIGHT = 1.0  # самсунг *is* Samsung
COMPOUND_WEIGHT = 0.7
TRANSLIT_WEIGHT = 0.9
DIMINUTIVE_WEIGHT = 0.8


@dataclass(frozen=True)
class Alternative:
    """Another word to look for in place of a query word, and how much a match counts."""

    word: str
    weight: float
    kind: str  # synonym | brand | compound | diminutive


def is_cyrillic(word: str) -> bool:
    return any("а" <= ch <= "я" or ch == "ё" for ch in word)


def transliterate(word: str) -> str:
    """A Cyrillic word in Latin letters (самсунг → samsung); other words unchanged."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in word.replace("ё", "е"))


def transliterate_english(word: str) -> str:
    """The Latin spelling an English name typed in Cyrillic more likely has: к is c except
    before е, и, й, ы (клинмастер → clinmaster, two edits from cleanmaster; кейс stays keys),
    and a final -ия is -ia (глория → gloria); the rest as `transliterate`."""
    word = word.replace("ё", "е")
    if word.endswith("ия"):
        return transliterate_english(word[:-2]) + "ia"
    return "".join(
        "c"
        if ch == "к" and word[i + 1 : i + 2] not in ("е", "и", "й", "ы")
        else _TRANSLIT.get(ch, ch)
        for i, ch in enumerate(word)
    )


# 5 characters: fuzzy matching of shorter stems (кед, чай) pulls in unrelated words (both
# backends leave them out of the fuzzy fallback).
FUZZY_MIN_CHARS = 5


def fuzzy_distance(stem: str) -> int:
    """Edits a misspelt stem may be away from the index's word: 0 (too short), 1 or 2."""
    if len(stem) >= 6:
        return 2
    return 1 if len(stem) >= 5 else 0


# A dictionary word (a brand spelling or a synonym key) typed with a letter or two wrong:
# one edit for words of 6+ letters, two for 9+ (сенхайзер → сеннхайзер, микраволнофка →
# микроволновка). Every spelling and its deletions are indexed, so a lookup is a few dozen
# set probes instead of an edit distance to each of the words (symmetric deletion); the
# candidates it finds are then checked with a real edit distance.
MISSPELT_MIN_CHARS = 6  # shorter spellings are one edit from too many words
MISSPELT_TWO_EDITS_CHARS = 9
MISSPELT_WEIGHT = 0.9


def _allowed_edits(word: str) -> int:
    if len(word) >= MISSPELT_TWO_EDITS_CHARS:
        return 2
    return 1 if len(word) >= MISSPELT_MIN_CHARS else 0


def _variants(word: str, deletions: int) -> set[str]:
    """The word with up to `deletions` letters left out."""
    found = {word}
    for _ in range(deletions):
        found |= {w[:i] + w[i + 1 :] for w in found for i in range(len(w))}
    return found


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent swaps (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


_DICTIONARY_VARIANTS: dict[str, set[str]] = {}
for _spelling in (*BRANDS, *SYNONYMS):
    for _variant in _variants(_spelling, _allowed_edits(_spelling)):
        _DICTIONARY_VARIANTS.setdefault(_variant, set()).add(_spelling)


@lru_cache(maxsize=65_536)  # a query's words repeat across customers
def misspelt_word(word: str, max_edits: int = 2) -> str | None:
    """The dictionary word (a key of BRANDS or SYNONYMS) a Cyrillic `word` is a typo of.
    Two edits cost ~100-200 µs (a hundred deletions to probe), one ~10 µs: query words get
    one, and two only in the fuzzy stage, when nothing else matched."""
    edits = min(_allowed_edits(word), max_edits)
    if not edits or not is_cyrillic(word) or word in BRANDS or word in SYNONYMS:
        return None
    candidates = {
        spelling
        for variant in _variants(word, edits)
        for spelling in _DICTIONARY_VARIANTS.get(variant, ())
    }
    scored = sorted(
        (distance, spelling)
        for spelling in candidates
        if (distance := _edit_distance(word, spelling)) <= min(edits, _allowed_edits(spelling))
    )
    return scored[0][1] if scored else None


def misspelt_brand(word: str) -> str | None:
    """The brand a Cyrillic spelling an edit or two from a known one means (сенхайзер)."""
    spelling = misspelt_word(word)
    return BRANDS.get(spelling) if spelling else None


def misspelt_meanings(word: str) -> list[Alternative]:
    """What a word two edits from a dictionary word means (микраволнофка → микроволновка →
    микроволновый, печь): for the fuzzy stage, where stems can be at most two edits off and
    a typo on top of a colloquial form (сковаротка ← сковородка) is three from the stem."""
    spelling = misspelt_word(word)
    if spelling is None:
        return []
    found = [Alternative(BRANDS[spelling], MISSPELT_WEIGHT, "brand")] if spelling in BRANDS else []
    return found + [
        Alternative(synonym, MISSPELT_WEIGHT * SYNONYM_WEIGHT, "synonym")
        for synonym in SYNONYMS.get(spelling, ())
    ]


def alternatives(word: str, lemmas: Iterable[str] = ()) -> list[Alternative]:
    """What else the (normalised) query `word` with dictionary `lemmas` may mean."""
    keys = list(dict.fromkeys([word, *lemmas]))
    found: dict[str, Alternative] = {}

    def add(alt: str, weight: float, kind: str) -> None:
        if alt not in keys and (alt not in found or found[alt].weight < weight):
            found[alt] = Alternative(alt, weight, kind)

    if is_cyrillic(word):  # нова → nova: a Latin name typed in Cyrillic, letter by letter
        add(transliterate(word), TRANSLIT_WEIGHT, "brand")
        add(transliterate_english(word), TRANSLIT_WEIGHT, "brand")  # глория → gloria
    bases: list[str] = []  # diminutives' bases: compounds of them count too (самокатик)
    for key in keys:
        if key in BRANDS:
            add(BRANDS[key], BRAND_WEIGHT, "brand")
        for synonym in SYNONYMS.get(key, ()):
            add(synonym, SYNONYM_WEIGHT, "synonym")
        for suffix, replacement in _DIMINUTIVE:
            # -ик/-чик need a longer base: a two-letter one (блик → бл) is no word
            if key.endswith(suffix) and len(key) - len(suffix) >= 2 + (replacement == ""):
                base = key[: -len(suffix)] + replacement
                add(base, DIMINUTIVE_WEIGHT, "diminutive")
                if len(base) >= MIN_DIMINUTIVE_BASE_FOR_COMPOUNDS:
                    bases.append(base)
                for synonym in SYNONYMS.get(base, ()):  # ноутик → ноут → ноутбук
                    add(synonym, DIMINUTIVE_WEIGHT * SYNONYM_WEIGHT, "synonym")
    if not any(key in BRANDS or key in SYNONYMS for key in keys):
        for key in keys:  # сенхайзер → сеннхайзер → sennheiser
            spelling = misspelt_word(key, max_edits=1)
            if spelling in BRANDS:
                add(BRANDS[spelling], MISSPELT_WEIGHT, "brand")
            for synonym in SYNONYMS.get(spelling or "", ()):  # сковаротка → сковорода
                add(synonym, MISSPELT_WEIGHT * SYNONYM_WEIGHT, "synonym")
    for base in dict.fromkeys([*(list(lemmas) or [word]), *bases]):
        if is_cyrillic(base) and len(base) >= MIN_COMPOUND_PART:
            for prefix in COMPOUND_PREFIXES:
                if not base.startswith(prefix):
                    add(prefix + base, COMPOUND_WEIGHT, "compound")
    return list(found.values())
