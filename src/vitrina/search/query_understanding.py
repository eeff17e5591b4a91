"""How people really type: what else a query word may mean, for both search backends.

Pure functions over words (no index, no I/O): a backend asks `alternatives(word, lemmas)`
for the extra words to look for and adds them to that word's clause with the weight given,
so the exact word still ranks first. Four kinds of misses are covered:

- near-synonyms, clipped words and diminutives (лэптоп → ноутбук, велик → велосипед,
  ложечка → ложка, мышку → мышь): small dictionaries over lemmas (`word_lists`), looked up
  by stem too for case forms the morphological dictionary misreads (моники), plus the
  regular diminutive suffixes (-очка/-ечка → -ка, -ик/-чик → the bare word);
- Cyrillic spellings of Latin brands (самсунг → samsung, айфон → iphone): a dictionary of
  the common ones, also one letter off (`misspellings.misspelt_brand`); `transliterate` and
  `transliterate_english` give any other word Latin twins for the fuzzy stage;
- a word inside a compound (велосипед → электровелосипед): the word with each productive
  Russian compound prefix, and the other way round (`compound_meaning`: электрощетка →
  электрический + щетка);
- typos beyond one edit: `misspellings.fuzzy_distance` allows two edits for long words,
  and `misspellings.misspelt_word` finds the dictionary word a typo is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from vitrina.search.analysis import (
    is_common_noun_lemma,
    is_dictionary_name_word,
    is_dictionary_noun,
    is_dictionary_word,
    stems,
)
from vitrina.search.misspellings import (
    LATIN_BRANDS,
    MISSPELT_WEIGHT,
    misspelt_brand,
    misspelt_colour,
    misspelt_english,
    misspelt_word,
    swapped_dictionary_words,
)
from vitrina.search.model_codes import code_cuts
from vitrina.search.relational_words import (
    ADJECTIVE_NOUN_WEIGHT,
    adjective_nouns,
    noun_adjectives,
)
from vitrina.search.transliteration import (
    cyrillic_spellings,
    english_final_e,
    is_cyrillic,
    model_code_twin,
    transliterate,
    transliterate_english,
)
from vitrina.search.typed_shapes import (
    declined_name_spellings,
    doubled_letters_once,
    dzh_for_g,
    e_for_e,
    hushing_spelt_right,
    ka_adjective,
    ka_noun,
    o_for_yo,
    phrases_apart,
    short_word_slips,
    spelt_out_letters,
    undeclined_latin_spellings,
    voiced_spelt_right,
)
from vitrina.search.word_lists import (
    BRANDS,
    ENGLISH_WORDS,
    PHRASE_SYNONYMS,
    SYNONYMS,
    TASK_WORDS,
)

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

# Prefixes of one-word names that shoppers also type as a word of their own (ультра
# пастеризованное, анти пригарная, авто кресло: blind probe round 40). Such a pair is read
# as the one word the index has even when each part alone is a word of the index too
# (Always Ultra, Domestos Ультра белый): without it, «ультра пастеризованное молоко»
# listed pasteurised milk first and the ultra-pasteurised fifth.
PREFIXES_TYPED_APART = frozenset(
    {*COMPOUND_PREFIXES, "ультра", "супер", "анти", "гипо", "полу", "мега", "экстра", "сверх"}
    # combining forms the titles write glued (Светофильтр, Изолента, Гофротруба, Радионяня,
    # Мясорубка): typed apart, «изо лента» listed PTFE tape first, on лента alone, and «свето
    # фильтр» a light bulb (a twenty-fourth blind review); joined only where the index has it
    | {"свето", "изо", "гофро", "стерео", "радио", "теле", "кино", "нано", "био", "эко", "паро"}
    | {"водо", "влаго", "тепло", "звуко", "пыле", "газо", "энерго", "стекло", "кофе", "мясо"}
    | {"соко", "хлебо", "посудо", "металло", "пено", "вакуум", "морозо"}
)


# A word cut short (наушн. беспров. sony: blind probe round 45 ranked Sony soundbars first),
# as shoppers and shop titles abbreviate: a Cyrillic word of five letters or more that no
# dictionary or list has is also looked for as the start of a name's word, in the fuzzy
# stage (the dot that marks the cut is gone by then: `query_words` keeps letters only).
MIN_CUT_WORD_CHARS = 5


def may_be_cut_short(word: str) -> bool:
    """Whether `word` may be a longer word cut short (наушн → наушники)."""
    if len(word) < MIN_CUT_WORD_CHARS or not is_cyrillic(word) or not word.isalpha():
        return False
    return not (word in SYNONYMS or word in BRANDS or is_dictionary_word(word))


def prefix_typed_before(first: str, second: str) -> bool:
    """Whether `first` is a prefix typed apart before its Cyrillic word (`second`)."""
    return (
        first in PREFIXES_TYPED_APART and len(second) >= MIN_COMPOUND_PART and is_cyrillic(second)
    )


def prefix_typed_after(first: str, second: str) -> str | None:
    """A compound prefix typed apart after its word (самокат электро → электросамокат): the
    compound to look for, when `second` is a prefix and `first` a Cyrillic word; both
    backends join it only when the index has it (типа самокат электро: a scooter that is
    electric, the catalogues' one word). Before its word (электро самокат) the join of
    adjacent words finds it already."""
    if second in COMPOUND_PREFIXES and len(first) >= MIN_COMPOUND_PART and is_cyrillic(first):
        return second + first
    return None


# Compounds of a diminutive's base (самокатик → электросамокат) only for longer bases:
# -ик also ends plain words (чайник → чайн, датчик → датч), and 16 prefixes for each such
# stump were 12 % more term lookups per query.
MIN_DIMINUTIVE_BASE_FOR_COMPOUNDS = 6
MIN_COMPOUND_PART = 4  # shorter parts (кот, чай) join too many unrelated compounds
MIN_DICTIONARY_COMPOUND_END = 5  # the ending of a word the dictionary has (`compound_endings`)

_DIMINUTIVE = (
    ("чик", ""),  # телевизорчик → телевизор
    ("ик", ""),  # кедик (кедики) → кед, ноутик → ноут
    ("ечка", "ка"),
    ("очка", "ка"),
    ("очка", "ь"),  # тросточка → трость, кисточка → кисть, косточка → кость
    ("ечек", "ок"),
    ("очек", "ок"),
    # -ичка of an -а noun (водичка → вода, сестричка → сестра); read as -ка it made
    # водичка a водка (blind probe round 40)
    ("ичка", "а"),
    ("ешек", "ень"),  # пельмешек → пельмень, ремешек → ремень, камешек → камень
    ("еек", "е"),  # кофеек → кофе (blind probe round 43)
    ("аек", "ай"),  # чаек → чай
    ("ушка", "а"),
    ("ийка", "ия"),  # энциклопедийка → энциклопедия (-ия nouns; батарейка is -ейка)
    ("очко", "око"),  # молочко → молоко, яблочко → яблоко (blind probe round 54)
    ("жок", "г"),  # творожок → творог, пирожок → пирог, утюжок → утюг, флажок → флаг
)
# Rarer suffixes, each base taken only when the dictionary has it as a noun (a blind
# review's own catalogue: платьице, одеяльце, зеркальце, полотенчико, кофточка, пюрешка,
# шампунчик found nothing or the wrong goods)
_DIMINUTIVE_CHECKED = (
    ("ьице", "ье"),  # платьице → платье
    ("ьце", "о"),  # одеяльце → одеяло, зеркальце → зеркало
    ("ьце", "е"),
    ("чико", "це"),  # полотенчико → полотенце
    ("очка", "а"),  # кофточка → кофта (-ка and -ь read it as кофтка, кофть)
    ("ечка", "я"),  # дынечка → дыня
    ("ечка", "ька"),  # стелечка → стелька (-ка read it as стелка: a seventeenth review)
    ("шка", ""),  # пюрешка → пюре
    ("чик", "ь"),  # шампунчик → шампунь
    ("ик", "ь"),  # гвоздик is гвоздь's too
    ("ька", "ь"),  # дрелька → дрель, тетрадька → тетрадь (a blind review: «дрельку»)
    # a stem's consonant or vowel changes (a third blind review: сережки, колечко, ведерко
    # ranked seeds, a hose reel and rakes first)
    ("ежка", "ьга"),  # сережка → серьга
    ("жка", "га"),  # книжка → книга, дорожка → дорога
    ("ечко", "ьцо"),  # колечко → кольцо
    ("ечко", "це"),  # сердечко → сердце
    ("ерко", "ро"),  # ведерко → ведро
    ("ичко", "йцо"),  # яичко → яйцо
    ("ошко", "но"),  # окошко → окно
    # a fourth blind review: ножичек, стеклышко found nothing (тушечка: the word lists)
    ("ичек", ""),  # ножичек → нож, ключичек → ключ
    # a nineteenth blind review: половничек found a rug first
    ("ичек", "ик"),  # половничек → половник, чайничек → чайник
    # a twenty-first blind review: икорку, кухоньку found caviar and a toy kitchen nowhere
    ("орка", "ра"),  # икорка → икра, искорка → искра (a vowel that comes and goes)
    ("онька", "ня"),  # кухонька → кухня
    ("ышко", "о"),  # стеклышко → стекло, горлышко → горло
    # a fifth blind review (garden and stationery): тепличка, ножнички, грабельки
    ("ичка", "ица"),  # тепличка → теплица, пуговичка → пуговица
    ("ички", "ицы"),  # ножнички → ножницы
    ("ельки", "ли"),  # грабельки → грабли
    ("елька", "ля"),  # вафелька → вафля
    # a twenty-third blind review (groceries, fire): лучок, дровишки found nothing
    ("чок", "к"),  # лучок → лук, крючок → крюк, кулачок → кулак
    ("ишки", "а"),  # дровишки → дрова
    ("ишки", "ы"),  # штанишки → штаны
    # plurals only (a twenty-fourth blind review: саночки ranked a fish keepnet first)
    ("очки", "ки"),  # саночки → санки
    ("ечки", "ки"),  # очечки → очки
    ("чки", "ки"),  # брючки → брюки
)


# Bases taken only when no other is a dictionary noun (тепличка → теплица; водичка → вода)
_ONLY_WITHOUT_BASE = frozenset({"ица", "ицы"})


# The suffixes of four letters or more, whose endings `compound_endings` never reads as a
# compound's second word
_DIMINUTIVE_SUFFIXES = frozenset(
    suffix for suffix, _ in (*_DIMINUTIVE, *_DIMINUTIVE_CHECKED) if len(suffix) >= MIN_COMPOUND_PART
)


# -ечка after a vowel stands for -йка (маечка → майка, гаечка → гайка, линеечка → линейка)
VOWELS = frozenset("аеиоуыэюя")


# Weights relative to the word as typed (1.0): a meaning the customer probably intended,
# below what they literally wrote.
SYNONYM_WEIGHT = 0.8
BRAND_WEIGHT = 1.0  # самсунг *is* Samsung
COMPOUND_WEIGHT = 0.7
# A word the index lacks found as two words it has (фитнесбраслет → фитнес + браслет).
COMPOUND_SPLIT_WEIGHT = 0.8
TRANSLIT_WEIGHT = 0.9
# An English name's silent e put back (пульс → pulse): a guess, below the letters' own
# reading, so a name two query words make (пульс ван → PulseOne) stays above it
FINAL_E_WEIGHT = 0.5
# a name's spelling without what the stemmer read as its case ending: below the word's own
# spellings, which a name may have too (нокиан is Nokian Tyres, not Nokia: a sixteenth blind
# review ranked the phone first)
DECLINED_NAME_WEIGHT = 0.5
DIMINUTIVE_WEIGHT = 0.8
# A noun read as its adjective (для игр → игровой) names another kind of product more often
# than not (стол → столовый: «Ложка столовая» in «Столовые приборы» ranked above every
# table, a second blind review): a hint, well below the noun itself
NOUN_ADJECTIVE_WEIGHT = 0.3


@dataclass(frozen=True)
class Alternative:
    """Another word to look for in place of a query word, and how much a match counts."""

    word: str
    weight: float
    kind: str  # synonym | brand | compound | diminutive
    guess: bool = True  # its lemmas guessed if pymorphy3 does not know it (`word_forms`)


# A Latin word one edit from an English product word is as often a brand typed with a slip
# (kettlr: Kettler, a brand of the generated catalogue, is one edit away, as kettle is):
# the English word's meaning only breaks ties between what the other words found («gaming
# mause»: the gaming mouse before the gaming keyboard), and a brand's fuzzy match outranks it.
ENGLISH_TYPO_WEIGHT = 0.2


def misspelt_meanings(word: str) -> list[Alternative]:
    """What a word two edits from a dictionary word means (микраволнофка → микроволновка →
    микроволновый, печь): for the fuzzy stage, where stems can be at most two edits off and
    a typo on top of a colloquial form (сковаротка ← сковородка) is three from the stem. A
    Latin word: the English product word it is a slip of (mause → mouse → мышь), weighed
    as a tie-breaker (`ENGLISH_TYPO_WEIGHT`)."""
    if not is_cyrillic(word):
        english = misspelt_english(word)
        meanings = ENGLISH_WORDS.get(english, ()) if english is not None else ()
        return [Alternative(meaning, ENGLISH_TYPO_WEIGHT, "synonym") for meaning in meanings]
    spelling = misspelt_word(word)
    if spelling is None:
        return []
    found = [Alternative(BRANDS[spelling], MISSPELT_WEIGHT, "brand")] if spelling in BRANDS else []
    return found + [
        Alternative(synonym, MISSPELT_WEIGHT * SYNONYM_WEIGHT, "synonym")
        for synonym in SYNONYMS.get(spelling, ())
    ]


def joined_dictionary_words(words: Iterable[str]) -> tuple[str, ...]:
    """Adjacent words joined where together they are a dictionary word and neither is one
    alone (sound bar → soundbar → саундбар): a compound typed as two words, known from the
    word lists rather than from the index (which has саундбар, not soundbar). A phrase of
    the word lists typed as one word gets its space back first (вайфай → вай фай)."""

    def known(word: str) -> bool:
        return word in SYNONYMS or word in BRANDS

    out: list[str] = []
    for word in phrases_apart(list(words)):
        # a one-letter part joins a known word too (e-book → ebook, not e + book: the
        # letter alone is no word, and book alone is any book)
        alone = not known(out[-1]) and not known(word) if out else False
        if out and known(out[-1] + word) and (alone or min(len(out[-1]), len(word)) == 1):
            out[-1] += word
            continue
        out.append(word)
    return tuple(out)


# Stems this short are shared by unrelated words (дел: дело, делать and the brand Dell).
MIN_INFLECTED_STEM = 4


@lru_cache(maxsize=1)
def _keys_by_stem() -> dict[str, tuple[str, ...]]:
    """The keys of BRANDS and SYNONYMS by their stems; not the verbs of TASK_WORDS, whose
    forms the dictionary reads (сверлю → сверлить): by stem, сверла (drill bits) was read
    as сверлить and ranked perforators and drills above the bits (a third blind review)."""
    found: dict[str, list[str]] = {}
    for key in dict.fromkeys((*BRANDS, *SYNONYMS)):
        if key in TASK_WORDS:
            continue
        for stem in stems(key):
            if len(stem) >= MIN_INFLECTED_STEM:
                found.setdefault(stem, []).append(key)
    return {stem: tuple(keys) for stem, keys in found.items()}


@lru_cache(maxsize=65_536)  # a stem costs a tantivy analyzer call; query words repeat
def inflected_keys(word: str) -> tuple[str, ...]:
    """Dictionary words (keys of BRANDS or SYNONYMS) that `word` is a case form of, by
    Snowball stem, as the index joins forms: slang the morphological dictionary misreads
    (моники → моника, велики → большой) still finds моник and велик."""
    if not is_cyrillic(word):
        return ()
    by_stem = _keys_by_stem()
    return tuple(key for stem in stems(word) for key in by_stem.get(stem, ()) if key != word)


# Compound prefixes → the adjectives catalogues write instead (Электрическая зубная щётка for
# электрощетка, Умная лампа for смартлампа, Электронная книга for электрокнига). Only
# prefixes with clear adjectives: the base alone would find the wrong goods (электрочайник →
# a glass teapot).
PREFIX_ADJECTIVES: dict[str, tuple[str, ...]] = {
    # техника: an appliance's category says it is electric (Бытовая техника), where its
    # name, electric by nature, does not (электрокофемашина: Кофемашина)
    "электро": ("электрический", "электронный", "техника"),
    "смарт": ("умный",),
    "вело": ("велосипедный",),
    "авто": ("автомобильный",),
    "мото": ("мотоциклетный",),
    "тур": ("туристический",),  # турпалатка, турковрик: Палатка туристическая
    "сад": ("садовый",),  # садинструменты: Набор садовых инструментов
    "энерго": ("энергетический",),  # энергонапиток: Энергетический напиток (round 54)
    "изо": ("изоляционный",),  # изолента: «лента изоляционная» (a twentieth blind review)
}
# Prefixes that are a clipped noun (робопылесос: Робот-пылесос, Пылесос робот): read as the
# noun and the base like an adjective's prefix, but a product of the base's kind alone is
# still one (a vacuum for робопылесос, ranked below the robots), so the base is looked for
# too (`compound_endings`). робот before робо: the first prefix a word starts with is taken.
PREFIX_NOUNS: dict[str, tuple[str, ...]] = {"робот": ("робот",), "робо": ("робот",)}
# What a prefix says the product is for, as names say it with a noun (a nineteenth blind
# review: «автоорганайзер» found no Органайзер в багажник автомобиля, «велокрылья» no
# Крылья для велосипеда): a query's reading only, after the adjectives; not a name's kinds
# (a helmet's велошлем is no bicycle to a shopper who looks for one).
PREFIX_PURPOSES: dict[str, tuple[str, ...]] = {"авто": ("автомобиль",), "вело": ("велосипед",)}


def compound_meanings(word: str, purposes: bool = True) -> list[tuple[str, str]]:
    """The adjectives and the word a prefixed compound stands for (электрощетка →
    электрический or электронный, щетка; смартлампа → умный, лампа; робопылесос → робот,
    пылесос; with `purposes`, автоорганайзер → автомобиль, органайзер too): an adjective
    and the word must both match."""
    if not is_cyrillic(word):
        return []
    for prefix, adjectives in (*PREFIX_ADJECTIVES.items(), *PREFIX_NOUNS.items()):
        if word.startswith(prefix) and len(word) - len(prefix) >= MIN_COMPOUND_PART:
            if purposes:
                adjectives = (*adjectives, *PREFIX_PURPOSES.get(prefix, ()))
            base = word[len(prefix) :]
            # электрощеточка: электрический + щетка, the diminutive's base (-очка, -ечка …;
            # not -ик: электрочайник's чайник is no diminutive of чайн)
            bases = [base, *(b for b in diminutive_bases(base, bare=False) if len(b) >= 4)]
            # смартчасики: умный + часы, the base's one-word synonyms (часики → часы)
            bases += [s for s in SYNONYMS.get(base, ()) if s.isalpha() and is_cyrillic(s)]
            pairs = [(adjective, b) for b in dict.fromkeys(bases) for adjective in adjectives]
            # садинвентарь → садовый инвентарь, a phrase whose meaning is садовый инструмент
            meanings = [m for pair in pairs for m in PHRASE_SYNONYMS.get(pair, ()) if len(m) == 2]
            return pairs + [(first, second) for first, second in meanings]
    return []


# A one-word compound of a name, joined by a linking vowel (газон-о-косилка, бенз-о-пила,
# полотенц-е-сушитель), is a kind of its last word: the name is also found by that word.
MIN_COMPOUND_HEAD = 3
MIN_COMPOUND_NAME = 8
LINKING_VOWELS = frozenset("ое")


@lru_cache(maxsize=65_536)
def compound_kinds(word: str) -> tuple[str, ...]:
    """The words a name's one-word compound (a lemma) also goes by, for the index (a blind
    review: «косилка» found no Газонокосилка, «велосипед электрический» ranked the
    Электровелосипед 38th): a compound of a prefix with a meaning gives its adjectives and
    its base (электровелосипед → электрический …, велосипед); any other gives the
    dictionary noun after its first linking vowel that leaves one (газонокосилка →
    косилка, водонагреватель → нагреватель, радиотелефон → телефон)."""
    if len(word) < MIN_COMPOUND_NAME or not is_cyrillic(word) or not word.isalpha():
        return ()
    meanings = [
        pair for pair in compound_meanings(word, purposes=False) if is_common_noun_lemma(pair[1])
    ]
    if meanings:
        return tuple(dict.fromkeys(w for pair in meanings for w in pair))
    cuts = [
        cut
        for cut in range(MIN_COMPOUND_HEAD + 1, len(word) - MIN_COMPOUND_PART + 1)
        if word[cut - 1] in LINKING_VOWELS
    ]
    for cut in cuts:
        if is_common_noun_lemma(word[cut:]):
            return (word[cut:],)
    for cut in cuts:
        if _agent_noun_after_noun(word[:cut], word[cut:]):
            return (word[cut:],)
    return ()


# An agent noun in -тель the dictionary lacks (омыватель, отпугиватель) after a noun of
# five letters or more (стекло|омыватель; not поло|тенцесушитель): a blind review's
# «омыватель» found no Жидкость стеклоомывателя. Only where no ending is a dictionary noun.
AGENT_SUFFIX = "тель"
MIN_AGENT_NOUN = 7
MIN_AGENT_NOUN_HEAD = 5


def _agent_noun_after_noun(head: str, tail: str) -> bool:
    """Whether a compound's `tail` is an agent noun made of a verb (-тель, seven letters or
    more) and its `head` a noun, with or without the linking vowel (стекло, газон|о)."""
    return (
        len(tail) >= MIN_AGENT_NOUN
        and tail.endswith(AGENT_SUFFIX)
        and len(head) >= MIN_AGENT_NOUN_HEAD
        and (is_common_noun_lemma(head) or is_common_noun_lemma(head[:-1]))
    )


def diminutive_bases(word: str, bare: bool = True, rare: bool = True) -> list[str]:
    """The words a diminutive may be made from (щеточка → щетка, маечка → майка, кедик →
    кед); with `bare` False, only suffixes that replace letters (-очка, -ечка …), not -ик/-чик,
    which also end plain words; with `rare` False, not the rarer suffixes whose bases the
    dictionary must have (платьице → платье, пюрешка → пюре)."""
    found = []
    for suffix, replacement in _DIMINUTIVE:
        if not bare and replacement == "":
            continue
        # a base of three letters at least (чаек → чай, кедик → кед): a shorter one (блик
        # → бл) is no word, nor one whose stem has no vowel (печка, точка are no diminutives:
        # пка); the replacement's first letter may be the stem's (ч + ай)
        stump = len(word) - len(suffix)
        base = word[:stump] + replacement
        stem = word[:stump] + replacement[:1]
        if word.endswith(suffix) and stump >= 1 and len(base) >= 3 and not VOWELS.isdisjoint(stem):
            if suffix == "ечка" and base[-3:-2] in VOWELS:  # маечка → майка, not мака
                base = base[:-2] + "йка"
            found.append(base)
    for suffix, replacement in _DIMINUTIVE_CHECKED if rare else ():
        if not bare and replacement == "":
            continue
        if replacement in _ONLY_WITHOUT_BASE and any(map(is_common_noun_lemma, found)):
            continue  # водичка is вода's: not also водица
        base = word[: len(word) - len(suffix)] + replacement
        known = word.endswith(suffix) and len(base) >= 3 and is_common_noun_lemma(base)
        if known and base not in found:
            if replacement in _ONLY_WITHOUT_BASE:  # тепличка: теплица, not тепла (теплый)
                found = [b for b in found if is_common_noun_lemma(b)]
            found.append(base)
    return found


def diminutive_compounds(word: str) -> list[str]:
    """The compounds a diminutive of a compound may be made from (фитнесбраслетик →
    фитнесбраслет): cut into two words by the index, as the compound itself is."""
    return [b for b in diminutive_bases(word) if len(b) >= 2 * MIN_COMPOUND_PART]


def compound_parts_of(word: str) -> list[tuple[str, str]]:
    """Every cut of a Cyrillic word into two parts of MIN_COMPOUND_PART+ letters, the
    longest first part first."""
    last = len(word) - MIN_COMPOUND_PART
    return [(word[:c], word[c:]) for c in range(last, MIN_COMPOUND_PART - 1, -1)]


@lru_cache(maxsize=65_536)  # the OpenSearch reading asks it twice a word: probe, then read
def word_cuts(word: str, longest: int | None = None) -> tuple[tuple[str, str], ...]:
    """Two-part readings of a word the index lacks, best first: every cut into parts of
    MIN_COMPOUND_PART+ letters, the longest first part first — a compound typed as one word
    (фитнесбраслет → фитнес + браслет) or a Latin name of two words typed as one (the
    space left out, as in an address or a hashtag: gloriajeans → gloria + jeans; only
    Cyrillic words were cut before) —, then a model code's cuts at its letter↔digit
    boundaries (abc5g → abc + 5g), then a Cyrillic compound's diminutive's (фитнесбраслетик
    → фитнесбраслет), then the cuts of a Cyrillic word's Latin spellings (ральфрингер →
    ralfringer → ralf + ringer: a Latin name of two words said in Russian, glued). A word
    longer than `longest` is cut as a code only."""
    codes = tuple(code_cuts(word))
    cyrillic = is_cyrillic(word)
    if not (cyrillic or (word.isascii() and word.isalpha())) or len(word) < 2 * MIN_COMPOUND_PART:
        return codes
    if longest is not None and len(word) > longest:
        return codes
    cuts = [*compound_parts_of(word), *codes]
    if cyrillic:
        cuts += [cut for base in diminutive_compounds(word) for cut in compound_parts_of(base)]
        for latin in dict.fromkeys((transliterate(word), transliterate_english(word))):
            if latin.isascii() and latin.isalpha() and len(latin) >= 2 * MIN_COMPOUND_PART:
                cuts += compound_parts_of(latin)
    return tuple(cuts)


# Two words typed glued with a typo in one of them (зубнаяпста, гречкаядреца, сырмацарела:
# blind probe round 43): no cut finds both parts, so each is read as a dictionary word and
# the rest, a typo of a word, both needed in the fuzzy stage. The typo part gets one edit
# from four letters (пста → паста), since the other part anchors the match.
MIN_GLUED_TYPO_CHARS = 8
MAX_GLUED_TYPO_CHARS = 30
MIN_GLUED_WORD = 3  # сыр
MIN_GLUED_TYPO = 4
GLUED_TYPO_CUTS = 2  # the cuts with the longest dictionary word: a clause each


@lru_cache(maxsize=16_384)
def glued_typo_cuts(word: str) -> tuple[tuple[str, str], ...]:
    """Cuts of a Cyrillic word the index lacks into (a dictionary noun or adjective in the
    nominative, the rest, possibly misspelt): гречкаядреца → (гречка, ядреца), зубнаяпста →
    (зубная, пста). The longest dictionary word first, at most GLUED_TYPO_CUTS."""
    if not is_cyrillic(word) or not MIN_GLUED_TYPO_CHARS <= len(word) <= MAX_GLUED_TYPO_CHARS:
        return ()
    found: list[tuple[str, str]] = []
    for cut in range(MIN_GLUED_WORD, len(word) - MIN_GLUED_WORD + 1):
        first, second = word[:cut], word[cut:]
        if len(second) >= MIN_GLUED_TYPO and is_dictionary_name_word(first):
            found.append((first, second))
        if len(first) >= MIN_GLUED_TYPO and is_dictionary_name_word(second):
            found.append((second, first))
    found.sort(key=lambda cut: -len(cut[0]))
    return tuple(found[:GLUED_TYPO_CUTS])


def compound_meaning(word: str) -> tuple[str, str] | None:
    """The first of `compound_meanings` (электрощетка → электрический, щетка), or None."""
    return next(iter(compound_meanings(word)), None)


def prefix_meant_joined(first: str, second: str) -> str | None:
    """The compound a prefix with a meaning makes with the word after it, typed apart
    (электро чайник → электрочайник, read as электрический чайник by `compound_meanings`):
    the backends join the two when the index has neither the compound nor the prefix as a
    word, so the prefix is no word of a name to match (blind probe round 47: «электро
    чайник» listed an e-book first, on электро alone); смарт часы stay two words where some
    name has смарт, and so does a prefix before a brand (часы смарт самсунг: умные часы
    Samsung, not a «смартсамсунг»), typed with a slip too."""
    if not prefix_typed_before(first, second) or second in BRANDS or misspelt_brand(second):
        return None
    joined = first + second
    return joined if compound_meanings(joined) else None


def compound_endings(word: str) -> list[str]:
    """What a compound the index lacks may be looked for by, best first: the word after a
    known prefix with no one adjective (`prefix_base`), then its endings of at least
    MIN_COMPOUND_PART letters after at least as many, longest first (робопылесос →
    пылесос, радиомышь → мышь, стереонаушники → наушники); the first one some product's
    name has is taken. None for a prefix with an adjective: электрочайник must not find a
    glass teapot (`compound_meanings` reads it as adjective + base)."""
    if not is_cyrillic(word) or any(word.startswith(p) for p in PREFIX_ADJECTIVES):
        return []
    if any(is_dictionary_noun(b) for b in diminutive_bases(word)):
        return []  # коробочка is a small коробка, not a compound of бочка
    base = prefix_base(word)
    # A word the dictionary has as a noun is most often one word, not a compound: its
    # ending is taken only when it is long (газонокосилка → косилка), not раковина → вина
    # («раковина кухонная» listed record players: a tenth blind review), сковорода → рода
    shortest = MIN_DICTIONARY_COMPOUND_END if is_dictionary_noun(word) else MIN_COMPOUND_PART
    endings = [
        ending
        for cut in range(MIN_COMPOUND_PART, len(word) - shortest + 1)
        if not _is_diminutive_suffix(ending := word[cut:]) and _is_a_word(ending)
    ]
    return list(dict.fromkeys([base, *endings] if base else endings))


def _is_a_word(ending: str) -> bool:
    """Whether a compound's ending is a word of its own (the dictionary's or the lists'):
    a typo's tail is not (утиплитель, утеплитель typed as heard, was read as тель, whose
    stem тел found «Защита тела»: a ninth blind review)."""
    return ending in SYNONYMS or ending in BRANDS or is_dictionary_word(ending)


def _is_diminutive_suffix(ending: str) -> bool:
    """Whether the ending is a diminutive's suffix with at most one letter of inflection
    (коробочка, тарелочки, подушка end in -очка, -очки, -ушка): no compound's second word
    (a fourth blind review: коробочка, кофточка, тарелочка found the glasses, очки)."""
    return any(
        ending.startswith(suffix[:-1]) and len(ending) <= len(suffix)
        for suffix in _DIMINUTIVE_SUFFIXES
    )


def prefix_base(word: str) -> str | None:
    """The word after a compound prefix that has no one adjective (аудиоколонка → колонка,
    аквадатчик → датчик): what to look for when the index has nothing for the whole word
    and cannot split it into two words it has (аудио is in no name). Prefixes with an
    adjective are read as adjective + base instead (`compound_meaning`)."""
    if not is_cyrillic(word):
        return None
    for prefix in sorted(COMPOUND_PREFIXES, key=len, reverse=True):
        if (
            prefix not in PREFIX_ADJECTIVES
            and word.startswith(prefix)
            and len(word) - len(prefix) >= MIN_COMPOUND_PART
        ):
            return word[len(prefix) :]
    return None


def excluded_spellings(word: str) -> tuple[str, ...]:
    """What a product left out by `word` must not have (смартфон кроме самсунга, наушники не
    sony): the word as typed and the spellings of a brand it may be in the other script,
    as the names and brands write it (самсунга → samsung, брайтхом → brighthome, lamber →
    ламбер: blind probe round 53). A spelling no product has leaves out nothing. Its
    synonyms stay: «подгузники не памперс» must not leave out every nappy."""
    spellings = [alt.word for alt in alternatives(word) if alt.kind == "brand"]
    if word.isascii() and word.isalpha():
        spellings += cyrillic_spellings(word)
    return tuple(dict.fromkeys((word, *spellings)))


def alternatives(word: str, lemmas: Iterable[str] = ()) -> list[Alternative]:
    """What else the (normalised) query `word` with dictionary `lemmas` may mean."""
    keys = list(
        dict.fromkeys([word, *lemmas, *e_for_e(word), *short_word_slips(word), *dzh_for_g(word)])
    )
    found: dict[str, Alternative] = {}

    def add(alt: str, weight: float, kind: str, guess: bool = True) -> None:
        if alt not in keys and (alt not in found or found[alt].weight < weight):
            found[alt] = Alternative(alt, weight, kind, guess)

    for once in doubled_letters_once(word):  # кедды → кеды: a key held too long
        add(once, MISSPELT_WEIGHT, "synonym", guess=False)
    if "э" in word[1:] and word not in BRANDS and word not in SYNONYMS:
        # фэн → фен: э typed for е after a consonant, as it is said (a leading э is a
        # word's own: экшн, эйсер); stems and edits miss it in a three-letter word
        add(word[0] + word[1:].replace("э", "е"), MISSPELT_WEIGHT, "synonym", guess=False)

    for yo in o_for_yo(word):  # чорные → черные: ё typed as heard after ч
        add(yo, MISSPELT_WEIGHT, "synonym")
    for right in hushing_spelt_right(word):  # джынсы → джинсы: жи/ши written as heard
        add(right, MISSPELT_WEIGHT, "synonym")
    for right in voiced_spelt_right(word):  # тетрать → тетрадь, лошка → ложка: as heard
        add(right, MISSPELT_WEIGHT, "synonym")
    # сирые → серый: a colour's typo put right to the one nearest colour, before the fuzzy
    # stage, where серые and синие are both two edits from it
    reads_as_adjective = any(lemma.endswith(("ый", "ий", "ой")) for lemma in lemmas)
    if (colour := misspelt_colour(word, reads_as_adjective)) is not None:
        add(colour, MISSPELT_WEIGHT, "synonym")
    if word not in BRANDS and word not in SYNONYMS:
        for twin in swapped_dictionary_words(word):  # кдеы → кеды, in "all words" too
            add(twin, MISSPELT_WEIGHT, "synonym")
            if twin in BRANDS:  # афйон → айфон → iphone: the brand a slip's word spells
                add(BRANDS[twin], MISSPELT_WEIGHT, "brand")
    if (ka_adj := ka_adjective(word)) is not None:  # всесезонка → всесезонный
        add(ka_adj, SYNONYM_WEIGHT, "synonym")

    if is_cyrillic(word):
        # нова → nova: a Latin name typed in Cyrillic, letter by letter; глория → gloria
        latins = (transliterate(word), transliterate_english(word))
        for latin in (*latins, *undeclined_latin_spellings(word)):  # люксор → luxor, авс → abc
            add(latin, TRANSLIT_WEIGHT, "brand")
        for latin in declined_name_spellings(word):  # на райзене → ryzen; нокиан: nokia too
            add(latin, DECLINED_NAME_WEIGHT, "brand")
        for name in dict.fromkeys([word, *lemmas]):  # пульс → pulse, конверсы → converse
            if (final_e := english_final_e(name)) is not None:
                add(final_e, FINAL_E_WEIGHT, "brand")
        # an English word or abbreviation typed in Cyrillic means what it means in Latin
        # (мтб → mtb → горный велосипед, раннинг → running → беговой)
        for latin in latins:
            for synonym in ENGLISH_WORDS.get(latin, ()):
                add(synonym, TRANSLIT_WEIGHT * SYNONYM_WEIGHT, "synonym")
        if (code := model_code_twin(word)) is not None:  # х11 → x11
            add(code, BRAND_WEIGHT, "brand")
    elif (
        word not in ENGLISH_WORDS
        and word not in LATIN_BRANDS
        and (
            russian := next(
                (r for r in cyrillic_spellings(word) if is_dictionary_word(r) or r in SYNONYMS),
                None,  # else no guess: costly
            )
        )
        is not None
    ):  # noutbuk → ноутбук, chainik → чайник: a Russian word typed in Latin letters
        add(russian, TRANSLIT_WEIGHT, "synonym")
        for synonym in SYNONYMS.get(russian, ()):  # spalnik → спальник → спальный
            add(synonym, TRANSLIT_WEIGHT * SYNONYM_WEIGHT, "synonym")
    for latin in spelt_out_letters(word):  # джейбиэль → jbl: the letters' names
        add(latin, BRAND_WEIGHT, "brand")
    for lemma in list(lemmas) or [word]:  # шерстяная → шерсть: the material's noun
        for noun in adjective_nouns(lemma):
            add(noun, ADJECTIVE_NOUN_WEIGHT, "synonym")
        for adjective in noun_adjectives(lemma):  # для игр → игровой
            add(adjective, NOUN_ADJECTIVE_WEIGHT, "synonym")
        if (ka := ka_noun(lemma)) is not None:  # кофеварочная → кофеварка, кофемашина
            add(ka, ADJECTIVE_NOUN_WEIGHT, "synonym")
            for synonym in SYNONYMS.get(ka, ()):
                add(synonym, ADJECTIVE_NOUN_WEIGHT * SYNONYM_WEIGHT, "synonym")
    bases: list[str] = []  # diminutives' bases: compounds of them count too (самокатик)
    typed = {word, *lemmas}
    for key in keys:
        if key in BRANDS:
            add(BRANDS[key], BRAND_WEIGHT, "brand")
        if key not in typed and key in SYNONYMS and key not in found:
            # a slip's word itself (кросовка → кроссовка, пуховек → пуховик), not only
            # what it lists: «пуховек женский» ranked a jacket (пуховик → куртка) above
            # the puffer (a blind review)
            found[key] = Alternative(key, MISSPELT_WEIGHT, "synonym")
        for synonym in SYNONYMS.get(key, ()):
            add(synonym, SYNONYM_WEIGHT, "synonym")
        for base in diminutive_bases(key):
            add(base, DIMINUTIVE_WEIGHT, "diminutive")
            # a base the dictionary has (шампунчик → шампунь, not шампун: автошампун was
            # a compound the stemmer found in Автошампунь, ranked above every shampoo)
            if len(base) >= MIN_DIMINUTIVE_BASE_FOR_COMPOUNDS and is_common_noun_lemma(base):
                bases.append(base)
            for synonym in SYNONYMS.get(base, ()):  # ноутик → ноут → ноутбук
                add(synonym, DIMINUTIVE_WEIGHT * SYNONYM_WEIGHT, "synonym")
    # A diminutive of a dictionary noun (молочко → молоко) is no typo: read as one (молочка,
    # dairy) it ranked сметана and творог above the milk (a blind review). By the common
    # suffixes only: ламочка may be a лама, but it is a лампочка typed one letter short.
    known_diminutive = any(
        is_common_noun_lemma(base) for key in keys for base in diminutive_bases(key, rare=False)
    )
    if not any(key in BRANDS or key in SYNONYMS for key in keys) and not known_diminutive:
        for key in inflected_keys(word):  # моники → моник → монитор
            if key in BRANDS:
                add(BRANDS[key], BRAND_WEIGHT, "brand")
            for synonym in SYNONYMS.get(key, ()):
                add(synonym, SYNONYM_WEIGHT, "synonym")
        # A word the dictionary has is no typo of a word of the lists: шлейка (a harness)
        # was read as шлепка and found slippers, кабель as кафель, зеркала as зеркалка. A
        # brand's typo still is (самсун, a city, is Samsung typed one letter short).
        typed_a_word = is_dictionary_word(word)
        for key in keys:  # сенхайзер → сеннхайзер → sennheiser
            spelling = misspelt_word(key, max_edits=1)
            if spelling in BRANDS:
                add(BRANDS[spelling], MISSPELT_WEIGHT, "brand")
            if typed_a_word:
                continue
            for synonym in SYNONYMS.get(spelling or "", ()):  # сковаротка → сковорода
                add(synonym, MISSPELT_WEIGHT * SYNONYM_WEIGHT, "synonym")
            if spelling in SYNONYMS:  # смратфон → смартфон itself, not only телефон
                add(spelling, MISSPELT_WEIGHT, "synonym")
    for base in dict.fromkeys([*(list(lemmas) or [word]), *bases]):
        if is_cyrillic(base) and len(base) >= MIN_COMPOUND_PART:
            for prefix in COMPOUND_PREFIXES:
                # A compound the index already files under this word (its kinds, below:
                # электровелосипед as велосипед, a body word) is found by the word itself,
                # below the names that say it; looked for in the name too, the rarer
                # compound outranked them (BM25 weighs a rare word up).
                if not base.startswith(prefix) and base not in compound_kinds(prefix + base):
                    add(prefix + base, COMPOUND_WEIGHT, "compound")
    return list(found.values())


# A form to look a query word up by: (text, weight, whether its lemmas may be guessed).
Form = tuple[str, float, bool]


def word_forms(word: str, word_lemmas: Iterable[str] = ()) -> list[Form]:
    """The word as typed (its lemmas guessed if pymorphy3 does not know it) and its
    alternatives. A compound alternative (электро+word, вело+word …: ~18 made up per word)
    is not lemmatised by guessing (`analysis.form_lemmas`): each guess cost 0.1–0.7 ms, a
    typo query made up to 173 of them (~15 ms to build), and the compound's stem, looked up
    as well, finds the same names; nor is a slip put right (кедды → кеды, фэн → фен). The
    rest — synonyms, brands, diminutives — keep their guesses."""
    alts = alternatives(word, word_lemmas)
    return [
        (word, 1.0, True),
        *((a.word, a.weight, a.guess and a.kind != "compound") for a in alts),
    ]
