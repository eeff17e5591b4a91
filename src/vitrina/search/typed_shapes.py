"""Shapes of a typed word the index never has: a letter doubled by a sticky key (кедды for
кеды), a phrase of the word lists typed as one word (вайфай for вай фай, wifi for Wi-Fi), a
Latin name typed in Cyrillic with a Russian case ending (на снапдрагоне for Snapdragon).
Pure functions over words, for both backends (`query_understanding` applies them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from vitrina.search.analysis import is_dictionary_word, lemmas, stems
from vitrina.search.transliteration import (
    cyrillic_spellings,
    english_sound_spelling,
    english_spellings,
    english_x_spelling,
    is_cyrillic,
    lookalike_twin,
    transliterate,
    transliterate_english,
)
from vitrina.search.word_lists import (
    BRANDS,
    CODE_LETTER_NAMES,
    LETTER_NAMES,
    PHRASE_SYNONYMS,
    SYNONYMS,
)

# Words shorter than this keep their letters: a doubled letter of a 3-letter word (осс) is
# as likely the word itself.
MIN_DOUBLED_WORD = 4
_DOUBLED = re.compile(r"(.)\1")


@lru_cache(maxsize=65_536)  # query words repeat across customers
def doubled_letters_once(word: str) -> tuple[str, ...]:
    """The word with one doubled letter typed once, each in turn (кедды → кеды, маниторр →
    манитор): a key held a moment too long. Stems join no such pair and words of five
    letters or fewer get no fuzzy match, so a short word with a doubled letter found
    nothing. Cyrillic only: a Latin model code (a60, x11) or brand (Marshall) is as typed."""
    if len(word) < MIN_DOUBLED_WORD or not is_cyrillic(word):
        return ()
    return tuple(
        dict.fromkeys(word[: m.start()] + word[m.start() + 1 :] for m in _DOUBLED.finditer(word))
    )


# Dictionary words of five letters or fewer get no edit (`misspelt_word`: one edit from too
# many words), so a slip in a short brand found nothing but fuzzy near-misses (хонр, бошь,
# сонни). The slips a short word takes without becoming another word: a vowel dropped, a
# soft sign added, a letter doubled. Built once at import: {word less a vowel: words}, for
# typed words of four letters or more (a three-letter one — сни, ика, пма — is as likely an
# abbreviation or another word).
_VOWELS = "аеиоуыэюя"


def _vowels_dropped() -> dict[str, tuple[str, ...]]:
    """{a short list word less one vowel: the words}, typed words of four letters or more."""
    found: dict[str, tuple[str, ...]] = {}
    for spelling in dict.fromkeys((*BRANDS, *SYNONYMS)):
        if not (4 <= len(spelling) <= 5 and is_cyrillic(spelling)):
            continue
        for i, ch in enumerate(spelling):
            typed = spelling[:i] + spelling[i + 1 :]
            if ch in _VOWELS and len(typed) >= 4:
                found[typed] = (*found.get(typed, ()), spelling)
    return found


_VOWEL_DROPPED = _vowels_dropped()


def _doubles_typed_once() -> dict[str, tuple[str, ...]]:
    """{a list word with a doubled letter typed once: the words} (хепи → хеппи, маршал →
    маршалл), typed words of four letters or more: a double said as one sound."""
    found: dict[str, tuple[str, ...]] = {}
    for spelling in dict.fromkeys((*BRANDS, *SYNONYMS)):
        if not is_cyrillic(spelling):
            continue
        for typed in doubled_letters_once(spelling):
            if len(typed) >= 4 and not _known(typed):
                found[typed] = (*found.get(typed, ()), spelling)
    return found


def _known(word: str) -> bool:
    return word in BRANDS or word in SYNONYMS


_DOUBLE_TYPED_ONCE = _doubles_typed_once()


@lru_cache(maxsize=65_536)
def short_word_slips(word: str) -> tuple[str, ...]:
    """Dictionary words (keys of BRANDS or SYNONYMS) a Cyrillic word the dictionaries lack is
    one slip from: a letter doubled (сонни → сони, асерр → асер), a soft sign added (бошь →
    бош), a vowel dropped (хонр → хонор) or a double typed once (хепи → хеппи) — a word
    Russian has (кран for экран) is as typed. Only words found in the word lists, so no clause is added for other words."""
    if len(word) > MAX_NAME_CHARS or not is_cyrillic(word) or _known(word):
        return ()
    found = [w for w in doubled_letters_once(word) if _known(w)]
    if len(word) >= MIN_DOUBLED_WORD and word.endswith("ь") and _known(word[:-1]):
        found.append(word[:-1])
    if word in _VOWEL_DROPPED and not is_dictionary_word(word):
        found += _VOWEL_DROPPED[word]
    if word in _DOUBLE_TYPED_ONCE and not is_dictionary_word(word):
        found += _DOUBLE_TYPED_ONCE[word]
    return tuple(dict.fromkeys(found))


# After ж, ч, ш, щ Russian writes ё (as е without dots) where it is heard as о: чёрный,
# жёлтый, шёлковый; shoppers type it as heard (чорный, жолтый, шолковый).
_O_FOR_YO = re.compile(r"(?<=[жчшщ])о")


@lru_cache(maxsize=65_536)
def o_for_yo(word: str) -> tuple[str, ...]:
    """The word with an о after ж, ч, ш or щ read as ё, where that gives a word Russian has
    and the typed one is none (чорные → черные, жолтый → желтый; шорты, чокер are words as
    typed). Stems keep the о, and a six-letter word gets one edit only in the fuzzy stage,
    where чорные found running shoes of every colour before the black ones."""
    if len(word) > MAX_NAME_CHARS or not is_cyrillic(word) or "о" not in word:
        return ()
    spots = [m.start() for m in _O_FOR_YO.finditer(word)]
    if not spots or is_dictionary_word(word):
        return ()
    found = []
    for i in spots:
        spelling = word[:i] + "е" + word[i + 1 :]
        if is_dictionary_word(spelling):
            found.append(spelling)
    return tuple(found)


# The school rule's letters after a hushing consonant typed as heard (жи/ши written жы/шы,
# ча/ща чя/щя, чу/щу чю/щю): Russian's commonest misspelling (джынсы, мышы, мякишы).
_AFTER_HUSHING = re.compile(r"(?<=[жш])ы|(?<=[чщ])я|(?<=[чщ])ю")
_AFTER_HUSHING_RIGHT = {"ы": "и", "я": "а", "ю": "у"}


def hushing_spelt_right(word: str) -> tuple[str, ...]:
    """The word with жы, шы, чя, щя, чю, щю spelt as the rule has them, where that gives a
    dictionary or word-list word and the typed one is none (джынсы → джинсы, мякишы →
    мякиши): a six-letter word gets one edit only in the fuzzy stage, so "all words" missed
    it (probe round 24: джынсы прямые сирые recalled 7 of 10 grey pairs)."""
    if len(word) > MAX_NAME_CHARS or not _AFTER_HUSHING.search(word):
        return ()
    if not is_cyrillic(word) or is_dictionary_word(word) or word in BRANDS or word in SYNONYMS:
        return ()
    spelling = _AFTER_HUSHING.sub(lambda m: _AFTER_HUSHING_RIGHT[m.group()], word)
    known = is_dictionary_word(spelling) or spelling in BRANDS or spelling in SYNONYMS
    return (spelling,) if known else ()


# A voiced consonant typed as it is heard, voiceless, at a word's end and before a
# voiceless consonant (тетрать, утюк, лошка, коропка): a school misspelling as common as жы.
_DEVOICED = {"т": "д", "п": "б", "к": "г", "с": "з", "ф": "в", "ш": "ж"}
_HEARD_VOICELESS = re.compile(r"[тпксфш](?=ь?$|[кпстфхчшщц])")
MAX_HEARD_SLIPS = 2  # the positions tried one at a time: a word has at most a few


def voiced_spelt_right(word: str) -> tuple[str, ...]:
    """The word with a voiceless consonant it may have typed as heard made voiced again, at
    its end or before a voiceless consonant, where that gives a dictionary or word-list word
    and the typed one is none (тетрать → тетрадь, лошка → ложка, коропка → коробка): a
    seventeenth blind review's тетрать found fish food, Tetra, and no exercise book — the
    brand's exact match kept the fuzzy stage from running."""
    if len(word) > MAX_NAME_CHARS or not is_cyrillic(word) or is_dictionary_word(word):
        return ()
    if word in BRANDS or word in SYNONYMS:
        return ()
    found = []
    for match in list(_HEARD_VOICELESS.finditer(word))[-MAX_HEARD_SLIPS:]:
        i = match.start()
        spelling = word[:i] + _DEVOICED[word[i]] + word[i + 1 :]
        if is_dictionary_word(spelling) or spelling in SYNONYMS:
            found.append(spelling)
    return tuple(found)


# A phrase of the word lists (a key or a meaning) typed without its space: вайфай is вай
# фай, wifi is wi fi, as the index has Wi-Fi. Built once at import.
_PHRASES_TYPED_AS_ONE: dict[str, tuple[str, ...]] = {
    "".join(words): words
    for key, meanings in PHRASE_SYNONYMS.items()
    for words in (key, *meanings)
    if len(words) == 2
}


def phrases_apart(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The query's words with a phrase typed as one word given its space back (розетка
    вайфай → розетка вай фай, which is a phrase of the word lists: wi fi)."""
    return tuple(part for word in words for part in _PHRASES_TYPED_AS_ONE.get(word, (word,)))


# A longer "word" is no name (a held key, pasted text): not worth a look-up.
MAX_NAME_CHARS = 30


@lru_cache(maxsize=65_536)
def latin_lemmas(word: str) -> tuple[str, ...]:
    """The Latin spellings of the forms pymorphy3 guesses for a Cyrillic word its dictionary
    lacks, other than the word itself (на снапдрагоне → снапдрагон → snapdragon): a Latin
    name declined as a Russian noun. For a word nothing in the index matches, only: the
    word's own spellings (snapdragone) are a fuzzy match at best, ranked below the products
    an exact word finds."""
    if len(word) > MAX_NAME_CHARS or not is_cyrillic(word) or is_dictionary_word(word):
        return ()
    found = [
        latin
        for lemma in lemmas(word)
        if lemma != word.replace("ё", "е") and is_cyrillic(lemma)
        for latin in (transliterate(lemma), *english_spellings(lemma))
    ]
    return tuple(dict.fromkeys(found))


MIN_CYRILLIC_NAME_CHARS = 4


def cyrillic_names(word: str) -> tuple[str, ...]:
    """The Cyrillic spellings of a Latin word, for one nothing in the index matches: a
    Russian name typed in Latin letters (prostokvashino → простоквашино, miratorg →
    мираторг; blind probe round 43), which no dictionary has (a Russian word in Latin
    letters is read by `query_understanding.alternatives`)."""
    if not (word.isascii() and word.isalpha()) or not (
        MIN_CYRILLIC_NAME_CHARS <= len(word) <= MAX_NAME_CHARS
    ):
        return ()
    return cyrillic_spellings(word)


_BRAND_LATINS = frozenset(BRANDS.values())
MIN_SPELT_LETTERS = 2
# An abbreviation the brand list lacks (эйбиси → abc, the seed catalogues' ABC) is read from
# a word pymorphy3 does not know with at least this many letters' names: two names make
# too many short words (биби, кейси), and a dictionary word (сити, пиар) is a word.
MIN_UNLISTED_SPELT_LETTERS = 3


@lru_cache(maxsize=65_536)
def spelt_out_letters(word: str) -> tuple[str, ...]:
    """The abbreviations a word spells with the letters' Russian names (джейбиэль → jbl:
    джей би эль; эйбиси → abc): those of the brand list, and from a word pymorphy3's
    dictionary lacks any of 3+ letters, so an ordinary word gets nothing."""
    if not is_cyrillic(word) or len(word) > MAX_NAME_CHARS:
        return ()
    # readings[i]: the letter strings word[:i] spells
    readings: list[set[str]] = [set() for _ in range(len(word) + 1)]
    readings[0].add("")
    for i in range(len(word)):
        for name, letter in LETTER_NAMES.items():
            if readings[i] and word.startswith(name, i):
                readings[i + len(name)].update(r + letter for r in readings[i])
    if not readings[-1]:
        return ()
    unlisted = not is_dictionary_word(word)
    return tuple(
        sorted(
            r
            for r in readings[-1]
            if len(r) >= MIN_SPELT_LETTERS
            and (r in _BRAND_LATINS or (unlisted and len(r) >= MIN_UNLISTED_SPELT_LETTERS))
        )
    )


# A vowel said as itself (о, а, и: Russian words alone, so no letter in LETTER_NAMES) is
# the letter after two or more letters' names: эм эн о is MNO, and nothing else.
VOWEL_LETTER_NAMES = {"о": "оу", "а": "эй", "и": "ай"}
MIN_RUN_BEFORE_VOWEL = 2


def letters_said_apart(words: Iterable[str]) -> tuple[str, ...]:
    """Two or more adjacent words that are each a letter's name joined into one word
    (смартфон эй би си → смартфон эйбиси), which `spelt_out_letters` reads as the
    abbreviation (abc): the letters of a brand or model said one by one."""
    out: list[str] = []
    run = 0  # how many of out's last words are letters' names
    words = tuple(words)
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if (
            word in CODE_LETTER_NAMES
            and not run
            and out
            and _read_as_latin(out[-1])
            and after not in LETTER_NAMES
            and not after.isdecimal()
        ):
            # юсб си → юсб c: one letter said by its name after a Latin word (USB-C, Wi-Fi 6
            # E) is that letter, a word of its own as the index has it (usb-c: usb, c)
            out.append(LETTER_NAMES[word])
            continue
        if word in LETTER_NAMES and run:
            out[-1] += word
        elif word in VOWEL_LETTER_NAMES and run >= MIN_RUN_BEFORE_VOWEL:
            # эм эн о → эмэноу (mno): a vowel said as itself ends a run of letters' names
            out[-1] += VOWEL_LETTER_NAMES[word]
            run = 0
            continue
        elif word.isdecimal() and run == 1 and out[-1] in CODE_LETTER_NAMES:
            # нова икс 11 → x11: one letter said by its name, then a number, is a model
            # code (X11, S300), which the catalogues write as one word
            out[-1] = LETTER_NAMES[out[-1]] + word
        elif word.isdecimal() and run > 1 and (brand := _brand_before_code(out[-1], words[i - 1])):
            # джей би эл ти 5 → джейбиэл t5: a brand's letters, then a model code's letter
            # and number, said as one run (blind probe round 47: JBL T5 Max)
            out[-1:] = [brand, LETTER_NAMES[words[i - 1]] + word]
        else:
            out.append(word)
        run = run + 1 if word in LETTER_NAMES else 0
    return tuple(out)


def _brand_before_code(run: str, last: str) -> str | None:
    """The run of letters' names without its `last` name, when that spells a brand and
    `last` may start a model code; else None."""
    if last not in CODE_LETTER_NAMES:
        return None
    brand = run[: -len(last)]
    return brand if _BRAND_LATINS.intersection(spelt_out_letters(brand)) else None


def _read_as_latin(word: str) -> bool:
    """A Latin word, or a Cyrillic one the word lists read as Latin (юсб → usb)."""
    latin = BRANDS.get(word, word)
    return latin.isascii() and latin.isalpha()


def e_for_e(word: str) -> tuple[str, ...]:
    """The dictionary word a word typed with е for a leading э is (ейсер → эйсер, екшн →
    экшн), or with е for и or и for е (бефри → бифри): people skip э as they skip ё and
    mix unstressed е and и, and stems and edits do not join them for words of five
    letters or fewer."""
    if word.startswith("е") and len(word) > 2:
        spelling = "э" + word[1:]
        if spelling in BRANDS or spelling in SYNONYMS:
            return (spelling,)
    if word in BRANDS or word in SYNONYMS or len(word) < 4:
        return ()
    # unstressed е and и sound alike and are typed for each other (бефри for бифри): one
    # swapped, where that gives a dictionary word (five-letter words get no edit otherwise)
    swaps = (
        word[:i] + ("и" if ch == "е" else "е") + word[i + 1 :]
        for i, ch in enumerate(word)
        if ch in "еи"
    )
    return tuple(spelling for spelling in swaps if spelling in BRANDS or spelling in SYNONYMS)


def dzh_for_g(word: str) -> tuple[str, ...]:
    """The dictionary word a word typed with дж for г is (делонджи → делонги): a Latin g
    before i or e is said both ways, and дж is two letters, past one edit in a short name."""
    if "дж" not in word or word in BRANDS or word in SYNONYMS:
        return ()
    spelling = word.replace("дж", "г")
    return (spelling,) if spelling in BRANDS or spelling in SYNONYMS else ()


# The relational adjective of a noun in -ка is -очный/-ечный (кофеварочная машина:
# кофеварка, розеточный: розетка, палаточный: палатка).
_KA_ADJECTIVE = ("очный", "ечный")


def ka_noun(lemma: str) -> str | None:
    """The word-list noun in -ка an adjective in -очный/-ечный is made from (кофеварочный →
    кофеварка), or None: only nouns of the word lists, so other adjectives cost nothing."""
    if not lemma.endswith(_KA_ADJECTIVE):
        return None
    noun = lemma[: -len("очный")] + "ка"
    return noun if noun in SYNONYMS else None


# A noun in -ка made from an adjective in -ный, the shop's word for the goods (всесезонка:
# всесезонная палатка, демисезонка): its case forms as typed.
_KA_NOUN_ENDINGS = ("ка", "ку", "ки")
MIN_KA_NOUN_CHARS = 7  # shorter stumps (банка → банный) are words of their own


@lru_cache(maxsize=65_536)
def ka_adjective(word: str) -> str | None:
    """The adjective in -ный a colloquial noun in -ка stands for (всесезонка → всесезонный,
    демисезонку → демисезонный), or None: only for words the dictionary lacks (колонка
    is no колонный), and only an adjective it has."""
    if len(word) < MIN_KA_NOUN_CHARS or not word.endswith(_KA_NOUN_ENDINGS):
        return None
    if not is_cyrillic(word) or is_dictionary_word(word):
        return None
    adjective = word[:-2] + "ный"
    return adjective if is_dictionary_word(adjective) else None


# An abbreviation typed with the Cyrillic letters that look like its Latin ones (авс for
# ABC) has this many letters: a longer word is a word.
MIN_LOOKALIKE_LETTERS, MAX_LOOKALIKE_LETTERS = 2, 4


MIN_DECLINED_NAME_STEM = 4  # a shorter stem's Latin spelling is one edit from too much


@lru_cache(maxsize=65_536)
def undeclined_latin_spellings(word: str) -> tuple[str, ...]:
    """Latin spellings of a Cyrillic word pymorphy3's dictionary lacks, beyond its letter by
    letter ones: English x said кс (люксор → luxor), English -ire and a as Russian writes
    them (рэпидфаир → rapidfire), a short abbreviation in look-alike letters (авс → abc;
    transliterated it is avs), and a name with a letter doubled by a sticky key (новва →
    нова → nova); its stem's are `declined_name_spellings`. A dictionary word gets none, so
    Russian words cost nothing more."""
    if not _an_unknown_name(word):
        return ()
    found = [english_x_spelling(word), english_sound_spelling(word)]
    if MIN_LOOKALIKE_LETTERS <= len(word) <= MAX_LOOKALIKE_LETTERS and word.isalpha():
        found.append(lookalike_twin(word))
    for once in doubled_letters_once(word):
        found += [transliterate(once), transliterate_english(once)]
    return _beyond_its_letters(word, found)


@lru_cache(maxsize=65_536)
def declined_name_spellings(word: str) -> tuple[str, ...]:
    """The Latin spellings of the word's stem: a name with a Russian case ending (на
    райзене → райзен → ryzen). What the stemmer cuts may be the name's own letters (нокиан
    → нокиа → nokia, Nokian Tyres), so these weigh less than the word's own spellings."""
    if not _an_unknown_name(word):
        return ()
    found = []
    for stem in stems(word):
        if stem != word and len(stem) >= MIN_DECLINED_NAME_STEM:
            found += [transliterate_english(stem), english_sound_spelling(stem)]
    return _beyond_its_letters(word, found)


def _an_unknown_name(word: str) -> bool:
    """A Cyrillic word pymorphy3's dictionary lacks, short enough to be a name."""
    return len(word) <= MAX_NAME_CHARS and is_cyrillic(word) and not is_dictionary_word(word)


def _beyond_its_letters(word: str, found: list[str | None]) -> tuple[str, ...]:
    """The spellings found, each once, without the word's letter-by-letter ones."""
    own = (transliterate(word), transliterate_english(word))
    return tuple(dict.fromkeys(s for s in found if s is not None and s not in own))


# An adjective made of a brand (найковские кеды, самсунговский смартфон, тефалевская
# сковорода, сяомишный планшет): the brand, a link (ов, ев) and a suffix (ск, шн), then the
# adjective's ending. No index has such a word; the brand itself is what was asked.
_BRAND_ADJECTIVE = re.compile(
    r"(?P<base>[а-яё]{2,}?)(?P<link>ов|ев)?(?:ск|шн)"
    r"(?:ий|ый|ой|ая|ое|ие|ые|ого|ому|ом|ую|ых|их|ым|им|ыми|ими|ей)"
)
# The brand's last letter the adjective drops or changes: тефаль → тефалевская, лего →
# леговский, леново → леновский, икеа → икеевский, нивея → нивеевский.
_BRAND_ENDINGS = ("", "ь", "о", "а", "я")
MIN_BRAND_ADJECTIVE_STEM = 4  # сме of смешный is no brand


def brand_adjectives(words: Iterable[str]) -> tuple[str, ...]:
    """Each adjective made of a brand, read as the brand (`brand_adjective`)."""
    return tuple(brand_adjective(word) or word for word in words)


@lru_cache(maxsize=65_536)
def brand_adjective(word: str) -> str | None:
    """The brand a Cyrillic adjective pymorphy3 does not know is made of: a spelling of the
    word lists (найковские → найк, икеевский → икеа), else the word less its suffix
    (кетлеровские → кетлер, which the brand's spellings then find). None for any other
    word: a known adjective (московский, бесшумный) is itself."""
    m = _BRAND_ADJECTIVE.fullmatch(word) if len(word) <= MAX_NAME_CHARS else None
    if m is None or word in BRANDS or word in SYNONYMS or is_dictionary_word(word):
        return None
    base, link = m["base"], m["link"] or ""
    for stem in (base, base + link):
        for ending in _BRAND_ENDINGS:
            if stem + ending in BRANDS:
                return stem + ending
    linked = link or word[len(base) : len(base) + 2] == "шн"
    return base if linked and len(base) >= MIN_BRAND_ADJECTIVE_STEM else None


# A brand glued to a word is cut off where the brand has this many letters and the word
# at least MIN_GLUED_WORD: shorter brand keys (лг, сбер, нова) end or begin too many
# misspelt ordinary words.
MIN_GLUED_BRAND, MIN_GLUED_WORD = 5, 4
_RUSSIAN_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def brands_glued_apart(words: Iterable[str]) -> tuple[str, ...]:
    """A Cyrillic word pymorphy3 does not know that is a dictionary brand glued to a word,
    with the space missed (антипригарнаятефаль → антипригарная тефаль, тефальсковорода →
    тефаль сковорода): the glued word finds nothing, its two halves do. A word it knows,
    or the word lists have, is left whole."""
    out: list[str] = []
    for word in words:
        out += _brand_cut(word) or (word,)
    return tuple(out)


@lru_cache(maxsize=65_536)
def _brand_cut(word: str) -> tuple[str, str] | None:
    shortest = MIN_GLUED_BRAND + MIN_GLUED_WORD
    if not shortest <= len(word) <= MAX_NAME_CHARS or not _RUSSIAN_LETTERS.issuperset(word):
        return None
    cuts = [
        (word[:c], word[c:])
        for c in range(MIN_GLUED_WORD, len(word) - MIN_GLUED_WORD + 1)
        if (c >= MIN_GLUED_BRAND and word[:c] in BRANDS)
        or (len(word) - c >= MIN_GLUED_BRAND and word[c:] in BRANDS)
    ]
    if not cuts or word in BRANDS or word in SYNONYMS or is_dictionary_word(word):
        return None

    def fit(cut: tuple[str, str]) -> tuple[bool, int]:  # a known word left, a long brand
        brand, other = cut if cut[0] in BRANDS else cut[::-1]
        return is_dictionary_word(other), len(brand)

    return max(cuts, key=fit)
