"""Cyrillic words in Latin letters, for both search backends' fuzzy and brand matching.

Pure functions over one word: `transliterate` (самсунг → samsung), the English-style
spelling a brand typed in Cyrillic more likely has (`transliterate_english`,
`english_spellings`), and a model code typed with Cyrillic look-alike letters
(`model_code_twin`: х11 → x11). Split out of `query_understanding`, which uses them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vitrina.search.analysis import is_dictionary_word, is_proper_name

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


def is_cyrillic(word: str) -> bool:
    return any("а" <= ch <= "я" or ch == "ё" for ch in word)


def transliterate(word: str) -> str:
    """A Cyrillic word in Latin letters (самсунг → samsung); other words unchanged. -айт is
    English -ight, as brands spell it (буклайт → buklight, two edits from booklight;
    брайт → bright)."""
    word = word.replace("ё", "е").replace("айт", "ight")
    return "".join(_TRANSLIT.get(ch, ch) for ch in word)


def transliterate_english(word: str) -> str:
    """The Latin spelling an English name typed in Cyrillic more likely has: к is c except
    before е, и, й, ы (клинмастер → clinmaster, two edits from cleanmaster; кейс stays keys),
    a final -ия is -ia (глория → gloria), and English J, written дж or just ж, is j
    (джбл, жбл → jbl), -айт is -ight, эйр is air (эйрбит → airbit, one edit from airbeat;
    эйрподс); the rest as `transliterate`."""
    word = word.replace("ё", "е").replace("дж", "ж").replace("айт", "ight").replace("эйр", "air")
    word = word.replace("эир", "air")  # эйр typed without й (эирбит)
    if word.endswith("ия"):
        return transliterate_english(word[:-2]) + "ia"
    return "".join(
        "c"
        if ch == "к" and word[i + 1 : i + 2] not in ("е", "и", "й", "ы")
        else "j"
        if ch == "ж"
        else _TRANSLIT.get(ch, ch)
        for i, ch in enumerate(word)
    )


def english_spellings(word: str) -> list[str]:
    """`transliterate_english`, and for a word with ф also the spelling with ph (альфа →
    alpha, two edits from alfa): English writes the sound both ways, and a name's ph is two
    edits from f, past what a short stem's fuzzy match allows. Then the name as English
    sounds are spelt (`english_sound_spelling`: пульсван → pulsone) and with у between
    consonants as oo (букслайт → bookslight, one edit from booklight): fuzzy matching a
    glued name (probe round 24: смарт часы пульсван 6th, букслайт 3rd) met only its
    letters, three edits and more from the name."""
    english = transliterate_english(word)
    found = [english]
    if "ф" in word:
        found.append(transliterate_english(word.replace("ф", "пх")))
    if ("ш" in word or "ай" in word) and (not is_dictionary_word(word) or is_proper_name(word)):
        # a German name as Russian writes it (шнайдер → schneider, шварцкопф →
        # schwarzkopf): ш is sch, ай is ei, ц is z, в is w (a twentieth blind review: the
        # dictionary has шнайдер as a surname)
        found.append(german_spelling(word))
    if is_dictionary_word(word):  # a Russian word is no name: its letters are enough
        return found
    if (sounds := english_sound_spelling(word)) is not None:
        found.append(sounds)
    if _ENGLISH_W.search(word) or "ай" in word:
        # a leading w and ai as Russian writes them, в and ай (вискас → wiskas ~ whiskas,
        # вилсон → wilson, хайер → haier): a fifth blind review's вискас listed Fiskars
        # first. Not a в inside a word: клавиатурв, a typo, would be one more fuzzy term
        found.append(transliterate(_ENGLISH_W.sub("w", word).replace("ай", "ai")))
    if _ENGLISH_OO.search(word):
        # ook: English k after oo (book, look), where к is otherwise c (бук → booc)
        found.append(transliterate_english(_ENGLISH_OO.sub("oo", word).replace("ooк", "ook")))
    if _ENGLISH_TH.search(word):
        # English th between vowels, said з (лезерман → letherman, one edit from Leatherman:
        # a nineteenth blind review found nothing; three edits from lezerman)
        found.append(transliterate_english(_ENGLISH_TH.sub("тх", word)))
    return list(dict.fromkeys(found))


_GERMAN = {"ш": "sch", "ц": "z", "в": "w", "й": "i", "х": "h", "ж": "j"}


def german_spelling(word: str) -> str:
    """The Latin spelling a German name typed in Cyrillic has (шнайдер → schneider, кайзер
    → keiser, one edit from kaiser); the rest as `transliterate`."""
    word = word.replace("ё", "е").replace("ай", "ei")
    return "".join(_GERMAN.get(ch) or _TRANSLIT.get(ch, ch) for ch in word)


# English sounds Russian writes otherwise, as a name is heard (Rapid Fire → рэпид файр):
# a final -айр/-аир/-аер/-айер is English -ire (fire, wire), and э after a consonant is
# the English a of rapid, happy. Both at once are three edits and more from the letters.
_ENGLISH_IRE = re.compile(r"(?:айер|айр|аир|аер)$")
_ENGLISH_A = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])э")
# a name's last word "one" said as Russian writes it, joined to the name (пульсван → pulsone,
# one edit from PulseOne; ван плюс); after three letters, so диван or ван alone stay
_ENGLISH_ONE = re.compile(r"(?<=\w{4})(?:ван|уан)$")  # уан: one as spelt (probe round 24)
# English w, said в before a vowel (Whiskas → вискас, Wilson → вилсон)
_ENGLISH_W = re.compile(r"^в(?=[аеиоуыэюя])")
# English voiced th said з between vowels (Leatherman → лезерман, brother → бразер)
_ENGLISH_TH = re.compile(r"(?<=[аеиоуыэюя])з(?=[аеиоуыэюя])")
# English oo said у between consonants (бук → book, фуд → food)
_ENGLISH_OO = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])у(?=[бвгджзклмнпрстфхцчшщ])")
# English y said as ай before a consonant, as Russian writes it (райзен → ryzen, дайсон →
# dyson); not before т: -айт is -ight (`transliterate_english`)
_ENGLISH_Y = re.compile(r"ай(?=[бвгджзклмнпрсфхцчшщ])")
# The model lines of real catalogues' titles, as shoppers type them (probe round 36:
# плейстейшен, мультиквик, перфект кейр found nothing): English -ation and -ition said
# -ейшен, -ишн (station, edition); English ay said ей after a consonant (play, gaming:
# гейминг); qu said кв (quick, quantum); a final y said и after a consonant (happy,
# party). Each is one more spelling, beside the letter by letter ones.
_ENGLISH_ATION = re.compile(r"[еэ]й?ш[еэ]?н")  # й dropped too: плейстешн (probe round 45)
# English -ction said -кшн, -кшен (экшен → action, коллекшн → collection; probe round 46:
# экшенпро found nothing for ActionPro), with a leading э as the a of action
_ENGLISH_CTION = re.compile(r"кш[еэ]?н")
_ENGLISH_LEADING_A = re.compile(r"^э(?=кш)")
_ENGLISH_ITION = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])иш[еэ]?н")
_ENGLISH_AY = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])[еэ]й(?=[бвгджзклмнпрстфхцчшщ]|$)")
# English i said ай at a word's start (idea → айдиа, ipad → айпад), where ай is otherwise y
_ENGLISH_LEADING_I = re.compile(r"^ай(?=[бвгджзклмнпрсфхцчшщ])")
_ENGLISH_FINAL_Y = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])и$")


def english_sound_spelling(word: str) -> str | None:
    """The English spelling of a name whose sounds Russian writes otherwise: -айр is -ire,
    э after a consonant is a (рапидфайр, рэпидфаир → rapidfire), a final -ван or -уан
    after a name is one (пульсван, пульсуан → pulsone), ай before a consonant but т is y
    (райзен → ryzen), -ейшен is -ation and ей after a consonant ay (плейстейшен →
    playstation), кв is qu (мультиквик → multiquic), a final и after a consonant y (хэппи
    → happy), a leading ай i (айдиапад → idiapad), -кшн -ction and a leading э before it
    a (экшенпро → actionpro); None when none is in the word."""
    spelt = _ENGLISH_A.sub("а", _ENGLISH_IRE.sub("ire", _ENGLISH_ONE.sub("one", word)))
    spelt = _ENGLISH_Y.sub("y", _ENGLISH_LEADING_I.sub("i", spelt))
    spelt = _ENGLISH_ITION.sub("ition", _ENGLISH_ATION.sub("ation", spelt))
    spelt = _ENGLISH_LEADING_A.sub("а", spelt)
    spelt = _ENGLISH_CTION.sub("ction", spelt)
    spelt = _ENGLISH_AY.sub("ay", spelt).replace("кв", "qu")
    spelt = _ENGLISH_FINAL_Y.sub("y", spelt)
    return None if spelt == word else transliterate_english(spelt)


# An English name's silent final e, which Russian drops (pulse → пульс, converse →
# конверс), and the long vowel before it, said as its name (lime → лайм, home → хоум,
# game → гейм): the vowel's sound, one consonant, the word's end.
_ENGLISH_LONG_VOWEL = re.compile(r"(ай|оу|[еэ]й)([бвгдзклмнпрстфхцчшщ])$")
_LONG_VOWELS = {"ай": "i", "оу": "o", "ей": "a", "эй": "a"}
_FINAL_CONSONANT = re.compile(r"[бвгдзклмнпрстфх]$")
# A word shorter than this is no name with a silent e (кот, дом): pulse, lime have four
# letters said
MIN_FINAL_E_CHARS = 4


def english_final_e(word: str) -> str | None:
    """The English spelling of a Cyrillic word said as an English name ending in a silent e
    (пульс → pulse, конверс → converse, лайм → lime, глайд → glide, хоум → home, кейс →
    case); None for a word shorter than MIN_FINAL_E_CHARS or not ending in a consonant.
    Looked up as it is, never fuzzily: a Russian word (пульс) may be the name as well."""
    if not is_cyrillic(word) or len(word) < MIN_FINAL_E_CHARS:
        return None
    if (long := _ENGLISH_LONG_VOWEL.search(word)) is not None:
        vowel, consonant = long.groups()
        # k before the e (bike, nike), where a final к is otherwise c
        ending = "k" if consonant == "к" else transliterate_english(consonant)
        return transliterate_english(word[: long.start()]) + _LONG_VOWELS[vowel] + ending + "e"
    if _FINAL_CONSONANT.search(word) is None:
        return None
    return transliterate_english(word) + "e"


# Cyrillic letters that look like Latin ones, as a model code typed on the Russian layout has
# them (х11 for X11, р36 for P36): the code is found by the letters it looks like.
_LOOKALIKE = str.maketrans("аверкмнорстух", "abepkmhopctyx")


def model_code_twin(word: str) -> str | None:
    """A model code typed with Cyrillic look-alike letters in Latin ones (х11 → x11): a word
    of letters and digits whose Cyrillic letters all have a Latin twin; None otherwise."""
    if not (is_cyrillic(word) and any(ch.isdecimal() for ch in word)):
        return None
    return lookalike_twin(word)


def lookalike_twin(word: str) -> str | None:
    """The word in the Latin letters its Cyrillic ones look like (авс → abc), or None when
    a letter has no Latin twin."""
    twin = word.translate(_LOOKALIKE)
    return twin if twin.isascii() else None


# Consonants after which ю is English u (люкс → lux, компьютер → computer).
_CONSONANTS = "бвгджзклмнпрстфхцчшщ"


def english_x_spelling(word: str) -> str | None:
    """The English spelling of a name with кс, English x said as two sounds (люксор →
    luxor, three edits from lyucsor), ю after a consonant as u; None without кс."""
    if "кс" not in word:
        return None
    spelt = "".join(
        "у" if ch == "ю" and i and word[i - 1] in _CONSONANTS else ch for i, ch in enumerate(word)
    )
    return transliterate_english(spelt.replace("кс", "x"))


# A Russian word typed in Latin letters, as people write it without a Russian layout
# (noutbuk, pylesos, kofemashina): the letters and pairs of the common informal spelling,
# longest first. y is ы after a consonant and й after a vowel; a leading e is э (elektro).
_CYRILLIC_PAIRS = (
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"),
    ("sh", "ш"), ("ya", "я"), ("yu", "ю"), ("yo", "е"), ("ye", "е"),
)  # fmt: skip
# ya, yo, yu after a consonant: ья, ье (ё), ью — ыя, ыо, ыю are no Russian spelling, while
# ye there may be ые as often as ье (krasnye), and stays ые
_SOFT_PAIRS = frozenset({"ya", "yo", "yu"})
_CYRILLIC_LETTERS = str.maketrans("abvgdezijklmnoprstufhcwxq", "абвгдезийклмнопрстуфхквхк")
_VOWELS = "aeiouy"
# shorter Latin words are abbreviations and sizes (tv, xl, usb) more often than Russian words
MIN_LATIN_RUSSIAN_CHARS = 4


def cyrillic_spelling(word: str) -> str | None:
    """The Russian word a word of Latin letters spells (noutbuk → ноутбук, pylesos →
    пылесос, kofemashina → кофемашина), or None for a word of other characters or
    shorter than `MIN_LATIN_RUSSIAN_CHARS`."""
    if not (word.isascii() and word.isalpha()) or len(word) < MIN_LATIN_RUSSIAN_CHARS:
        return None
    out: list[str] = []
    i = 0
    while i < len(word):
        pair = next((p for p in _CYRILLIC_PAIRS if word.startswith(p[0], i)), None)
        if pair is not None and pair[0] in _SOFT_PAIRS and i and word[i - 1] not in _VOWELS:
            out.append("ь" + pair[1])  # belyo → белье, semya → семья: a soft sign and the vowel
            i += len(pair[0])
            continue
        if pair is not None and not (pair[0][0] == "y" and i and word[i - 1] not in _VOWELS):
            out.append(pair[1])
            i += len(pair[0])
            continue
        ch = word[i]
        if ch == "y":
            out.append("й" if i and word[i - 1] in _VOWELS else "ы")
        elif ch == "e" and i == 0:
            out.append("э")
        else:
            out.append(ch.translate(_CYRILLIC_LETTERS))
        i += 1
    return "".join(out)


def cyrillic_spellings(word: str) -> tuple[str, ...]:
    """`cyrillic_spelling`, then the same with i after a vowel and before a consonant or at
    the end as й (chainik → чайник, maika → майка, not чаиник): the informal spelling writes
    й as i as often as y, and which one a word has only the dictionary can tell."""
    plain = cyrillic_spelling(word)
    if plain is None:
        return ()
    short_i = _VOWEL_I.sub(r"\1й", plain)
    # x as кс, c before i/e/y as ц, j as ж: how a Russian name is written in Latin as often
    # (yandex → яндекс, stanciya → станция, borjomi → боржоми; blind probe round 54)
    other = _OTHER_LATIN_LETTERS.sub(lambda m: _OTHER_LATIN[m.group(0)], word)
    more = cyrillic_spelling(other) if other != word else None
    # ya, yu, yo, ye after a consonant as the vowel alone (myasorubka → мясорубка,
    # epilyator → эпилятор; semya keeps its семья first), and l before a consonant as ль
    # (multivarka → мультиварка): a sixth blind review's three found nothing
    hard = _SOFT_SIGN_BEFORE_VOWEL.sub("", plain)
    soft_l = _L_BEFORE_CONSONANT.sub("ль", hard)
    # ts as т + с, not ц, where two words meet inside one (molokootsos → молокоотсос,
    # detskiy → детский: a tenth blind review's молокоотсос found nothing)
    t_s = plain.replace("ц", "тс") if "ts" in word and "c" not in word else None
    spellings = (plain, short_i, more, hard, soft_l, t_s)
    return tuple(dict.fromkeys(s for s in spellings if s is not None))


# The Cyrillic spellings of a Latin word a typo stage also looks for (kastrulya →
# каструля, one edit from кастрюля): the word stage finds a Russian word typed in Latin
# letters only when a spelling is exact, and an informal spelling often is not (u for ю, a
# letter dropped). Two at most: each is one more fuzzy clause in every field.
MAX_FUZZY_CYRILLIC_SPELLINGS = 2


# Letters only Russian words written in Latin have (ya, zh, kh, shch …): an English word
# (electric, scooter) read letter by letter in Cyrillic is a few edits from unrelated
# Russian words (электрик ~ электрический listed every electric product first).
_RUSSIAN_IN_LATIN = re.compile(r"ya|yu|yo|zh|kh|sh|ch|ts|iy$|yy$")


def fuzzy_cyrillic_spellings(word: str) -> tuple[str, ...]:
    """The first `MAX_FUZZY_CYRILLIC_SPELLINGS` Cyrillic spellings of a Latin word that
    reads as a Russian one (`_RUSSIAN_IN_LATIN`), for the typo stage of both backends."""
    if not word.isascii() or not _RUSSIAN_IN_LATIN.search(word):
        return ()
    return cyrillic_spellings(word)[:MAX_FUZZY_CYRILLIC_SPELLINGS]


_SOFT_SIGN_BEFORE_VOWEL = re.compile(r"ь(?=[яеёю])")
_L_BEFORE_CONSONANT = re.compile(r"л(?=[бвгджзкмнпрстфхцчшщ])")


# -ica as -ица (teplica → теплица, kurica → курица: a twenty-first blind review's teplica
# found nothing, read as теплика)
_OTHER_LATIN = {"x": "ks", "ci": "tsi", "ce": "tse", "cy": "tsy", "ica": "itsa", "j": "zh"}
_OTHER_LATIN_LETTERS = re.compile("|".join(sorted(_OTHER_LATIN, key=len, reverse=True)))

# и after a vowel and not before one (чаиник → чайник); the spelling with и is tried first,
# so a word that has и there (герои, заика) keeps it
_VOWEL_I = re.compile(r"([аеоуыэяю])и(?![аеиоуыэюя])")


# How a Latin brand may spell each Russian sound (a blind review: мишлен, лавацца, гринфилд,
# рибок, хагис found nothing: Michelin's ch is ш, Lavazza's zz is цц, Greenfield's ee is и,
# Reebok's ee and Huggies' u and ie are vowels Russian writes otherwise — two or three
# edits from every letter-by-letter spelling, past what a fuzzy match allows).
_SOUND_SPELLINGS = {
    "б": "b+",
    "в": "(v|w)+",
    "г": "(g|gh)+",
    "д": "d+",
    "ж": "(j|zh|g|s)",
    "з": "(z|s)+",
    "к": "(k|c|ck|q|ch)+",
    "л": "l+",
    "м": "m+",
    "н": "n+",
    "п": "p+",
    "р": "r+",
    "с": "(s|c|z)+",
    "т": "(t|th)+",
    "ф": "(f|ph)+",
    "х": "(h|kh|ch)?",
    "ц": "(ts|tz|z|c|s)+",
    "ч": "(ch|tch|c)",
    "ш": "(sh|ch|sch|s)",
    "щ": "(sch|shch|sh)",
    "й": "[iyj]?",
    "ъ": "",
    "ь": "",
}
_RUSSIAN_VOWELS = frozenset("аеёиоуыэюя")
# Vowels, and an apostrophe (l'oreal), anywhere between the consonants: Russian writes
# other vowels, or none (мишлен ~ michelin)
_LATIN_VOWELS = "[aeiouy']*"
# A shorter skeleton matches too many brands: three consonants at least
MIN_SOUND_CONSONANTS = 3
MIN_SOUND_CHARS = 4
# Brands are short; a longer word's expression grows past what the backends compile (its
# automaton's states: tantivy refuses over 1,000, Lucene over 10,000)
MAX_SOUND_CHARS = 16
# the key's other words after a space, in printable ASCII: `.*` or `[^a-z]` (Unicode
# classes) took tantivy 0.7 ms to compile, this 0.09 ms
BRAND_KEY_TAIL = "( [ -~]*)?"
# A brand found by its sound stands for the brand typed, which a name says too: the two
# fields' boosts (constant, no BM25). With the brand's alone, «подгузники хагис» ranked
# Merries, a shorter name, above the Huggies.
SOUND_BRAND_BOOST = 6.0


@lru_cache(maxsize=65_536)  # asked by the fuzzy stage and suggest for the same words
def word_sound(word: str) -> str | None:
    """A regular expression for the Latin words a Cyrillic word may be the sound of: each
    consonant as the Latin letters that spell it (ш: sh, ch, sch, s), any vowels or none
    between them (рибок ~ reebok, хагис ~ huggies, мишлен ~ michelin, гелакси ~ galaxy).
    Both backends run it over the name field's terms, and with BRAND_KEY_TAIL over the
    brand key (one term per brand, the sound its first word: anywhere in the key, the
    automaton grew too big to compile for 8 consonants). None for a short word, a word of
    few consonants, or a dictionary word (a Russian word is no brand: молоко would sound
    like milka)."""
    if (
        not MIN_SOUND_CHARS <= len(word) <= MAX_SOUND_CHARS
        or not word.isalpha()
        or not is_cyrillic(word)
        or is_dictionary_word(word)
    ):
        return None
    parts: list[str] = [_LATIN_VOWELS]
    consonants = 0
    for ch in word.replace("ё", "е").replace("кс", "x"):
        if ch in _RUSSIAN_VOWELS:
            continue
        if ch == "x":
            parts.append("(x|ks|cks|cs)")
            consonants += 2
        elif ch in _SOUND_SPELLINGS:
            parts.append(_SOUND_SPELLINGS[ch])
            consonants += ch not in "йъь"
        else:
            return None
        parts.append(_LATIN_VOWELS)
    return "".join(parts) if consonants >= MIN_SOUND_CONSONANTS else None


def brand_sound_pattern(word: str, begun: bool = False) -> str | None:
    """`word_sound` over a whole brand key; `begun`: a word being typed, whose sound the
    key's first word begins with (мишл ~ michelin)."""
    sound = word_sound(word)
    if sound is None:
        return None
    return sound + ("[ -~]*" if begun else BRAND_KEY_TAIL)
