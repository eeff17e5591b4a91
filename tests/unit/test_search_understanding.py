"""Query understanding (pure): synonyms, diminutives, brands, compounds, typo distance."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitrina.domain.generator import CATALOGUE
from vitrina.domain.search_document import query_words, search_document
from vitrina.search.analysis import lemmas, stems
from vitrina.search.base import SearchFilters
from vitrina.search.keyboard_layout import (
    NEIGHBOUR_KEYS,
    keyboard_twin,
    neighbour_key_slips,
    punctuation_keys_read,
)
from vitrina.search.lookalikes import one_script, one_script_words
from vitrina.search.misspellings import (
    MIN_TWO_DROPPED_CHARS,
    _allowed_edits,
    brand_cuts,
    brand_fuzzy_stems,
    fuzzy_distance,
    lemma_fuzzy_distance,
    misspelt_brand,
    misspelt_colour,
    misspelt_english,
    misspelt_word,
    swapped_dictionary_words,
    swapped_neighbours,
    vowels_as_heard,
)
from vitrina.search.model_codes import (
    adjacent_words_joined,
    bare_latin_words,
    code_cuts,
    codes_without_a_digit,
    joinable,
    joined_spellings,
    may_be_one_word,
    name_spellings,
    split_code,
)
from vitrina.search.number_units import (
    bare_numbers,
    converted_units,
    numbers_said_in_words,
    split_number_units,
    unit_readings,
)
from vitrina.search.phrases import (
    PhraseMatch,
    phrase_matches,
)
from vitrina.search.price_words import price_from_words, with_price_from_words
from vitrina.search.query_plan import (
    glued_patterns,
    lacking_adjective_start,
    negated_adjective_start,
    plan_query,
    rewritten_words,
    said_in_words,
    typed_words,
)
from vitrina.search.query_roles import (
    MAKER_WEIGHT,
    PURPOSE_WEIGHT,
    QueryRoles,
    is_optional_word,
    lacking_prefix_joined,
    query_roles,
)
from vitrina.search.query_understanding import (
    alternatives,
    compound_endings,
    compound_kinds,
    compound_meaning,
    compound_meanings,
    compound_parts_of,
    diminutive_bases,
    diminutive_compounds,
    e_for_e,
    excluded_spellings,
    glued_typo_cuts,
    inflected_keys,
    joined_dictionary_words,
    may_be_cut_short,
    misspelt_meanings,
    prefix_base,
    prefix_meant_joined,
    prefix_typed_after,
    prefix_typed_before,
    word_forms,
)
from vitrina.search.relational_words import adjective_nouns, noun_adjectives
from vitrina.search.transliteration import (
    cyrillic_spelling,
    cyrillic_spellings,
    english_final_e,
    english_sound_spelling,
    english_spellings,
    english_x_spelling,
    is_cyrillic,
    lookalike_twin,
    model_code_twin,
    transliterate,
    transliterate_english,
)
from vitrina.search.typed_shapes import (
    brand_adjective,
    brands_glued_apart,
    cyrillic_names,
    declined_name_spellings,
    doubled_letters_once,
    dzh_for_g,
    hushing_spelt_right,
    ka_adjective,
    ka_noun,
    latin_lemmas,
    letters_said_apart,
    o_for_yo,
    phrases_apart,
    short_word_slips,
    spelt_out_letters,
    undeclined_latin_spellings,
    voiced_spelt_right,
)
from vitrina.search.word_lists import (
    BRANDS,
    CLASS_WORDS,
    ENGLISH_WORDS,
    PHRASE_SYNONYMS,
    SYNONYMS,
    TASK_WORDS,
)


def _words(word: str, lemmas: list[str]) -> dict[str, str]:
    return {a.word: a.kind for a in alternatives(word, lemmas)}


def test_the_issue_examples() -> None:
    # велосипед → Электровелосипед: the index files the compound under its kinds
    # (compound_kinds), so the query looks for no compound the kinds cover
    assert "велосипед" in compound_kinds("электровелосипед")
    assert "электровелосипед" not in _words("велосипед", ["велосипед"])
    assert _words("велосипед", ["велосипед"])["минивелосипед"] == "compound"
    assert _words("лэптоп", ["лэптоп"])["ноутбук"] == "synonym"
    assert "ложка" in _words("ложечка", ["ложечка"])
    assert _words("мышку", ["мышка"])["мышь"] == "synonym"
    assert _words("самсунг", ["самсунг"])["samsung"] == "brand"
    assert _words("айфон", ["айфон"])["iphone"] == "brand"


def test_diminutives_in_ik_and_chik_and_their_synonyms() -> None:
    """Found by the probe queries (written without reading the word lists)."""
    assert _words("кедики", ["кедик"])["кед"] == "diminutive"
    assert _words("телевизорчик", ["телевизорчик"])["телевизор"] == "diminutive"
    assert _words("ноутик", ["ноутик"])["ноутбук"] == "synonym"  # ноутик → ноут → ноутбук
    assert "бл" not in _words("блик", ["блик"])  # a two-letter base is no word


def test_compounds_of_a_diminutive_base() -> None:
    assert _words("самокатик", ["самокатик"])["минисамокат"] == "compound"
    assert _words("самокатик", ["самокатик"])["самокат"] == "diminutive"  # электросамокат's kind


def test_a_brand_spelt_one_letter_off_is_still_the_brand() -> None:
    assert _words("сенхайзер", ["сенхайзер"])["sennheiser"] == "brand"  # сеннхайзер
    assert misspelt_brand("филлипс") == "philips"
    assert misspelt_brand("сумка") is None  # too short to guess
    assert misspelt_brand("sennheiser") is None  # Latin words need no dictionary
    assert _words("делонги", ["делонг"])["de'longhi"] == "brand"  # as the index splits it


def test_a_dictionary_word_two_letters_off_means_what_the_word_means() -> None:
    """For the fuzzy stage: a typo on a colloquial form is 3 edits from the index's stem."""
    assert {a.word for a in misspelt_meanings("микраволнофка")} == {"микроволновый", "печь"}
    assert {a.word for a in misspelt_meanings("сковаротка")} == {"сковорода"}
    assert misspelt_meanings("телевизор") == []
    assert misspelt_meanings("сковородка") == []  # the word itself is no typo


def test_english_style_transliteration() -> None:
    assert transliterate_english("клинмастер") == "clinmaster"  # 2 edits from cleanmaster
    assert transliterate_english("кейс") == "keys"
    assert transliterate_english("глория") == "gloria"  # Gloria Jeans
    assert _words("глория", ["глория"])["gloria"] == "brand"


def test_transliteration_and_typo_distance() -> None:
    assert transliterate("хонор") == "honor"
    assert transliterate("nike") == "nike"
    assert fuzzy_distance("кед") == 0
    assert fuzzy_distance("чайнк") == 1
    assert fuzzy_distance("кафемошин") == 2


def test_a_four_letter_spelling_gets_one_brand_edit_unless_it_is_a_russian_word() -> None:
    """bosh and тефль's Latin spelling tefl are one edit from Bosch and Tefal, in the brand
    field only; лето (a season) is no misspelt LEGO, and five letters take the usual path."""
    assert brand_fuzzy_stems("bosh", ["bosh"]) == ["bosh"]
    assert brand_fuzzy_stems("тефль", ["тефль", "tefl", "tefl"]) == ["тефл", "tefl"]
    assert brand_fuzzy_stems("лето", ["лето", "leto"]) == []
    assert brand_fuzzy_stems("самсунк", ["самсунк", "samsunk"]) == []


@given(st.text(max_size=30), st.lists(st.text(max_size=30), max_size=3))
def test_alternatives_never_repeat_the_word_and_weigh_at_most_one(
    word: str, lemmas: list[str]
) -> None:
    alts = alternatives(word, lemmas)
    assert len({a.word for a in alts}) == len(alts)
    for alt in alts:
        assert alt.word not in {word, *lemmas}
        assert 0 < alt.weight <= 1.0


def test_clipped_words_and_their_case_forms() -> None:
    """Probe round 3: clipped words (велик, моник, пылик) missed, and pymorphy3 misreads
    their case forms (моники → моника), so the dictionary is also looked up by stem."""
    from vitrina.search.analysis import lemmas

    assert _words("велик", list(lemmas("велик")))["велосипед"] == "synonym"
    assert _words("велики", list(lemmas("велики")))["велосипед"] == "synonym"
    assert _words("моники", list(lemmas("моники")))["монитор"] == "synonym"
    assert _words("пылика", list(lemmas("пылика")))["пылесос"] == "synonym"
    assert _words("холодосы", list(lemmas("холодосы")))["холодильник"] == "synonym"
    assert "моник" in inflected_keys("моники")
    assert inflected_keys("дела") == ()  # stem дел: too short to mean the brand Dell
    assert inflected_keys("monitor") == ()


def test_a_prefixed_compound_means_its_adjective_and_its_base() -> None:
    """электрощетка: the catalogue says Электрическая зубная щётка."""
    assert compound_meaning("электрощетка") == ("электрический", "щетка")
    assert compound_meaning("смартлампа") == ("умный", "лампа")
    assert compound_meaning("смартфон") is None  # фон: too short a part
    assert compound_meaning("щетка") is None
    assert compound_meaning("фотоаппарат") is None  # no one adjective for фото


def test_tur_is_a_prefix_for_turisticheskiy() -> None:
    """турпалатка: the catalogue says Палатка туристическая (probe round 5)."""
    assert compound_meaning("турпалатка") == ("туристический", "палатка")
    assert compound_meaning("турник") is None  # ник: too short a part


def test_a_leading_e_typed_for_e_finds_the_dictionary_word() -> None:
    """ейсер is эйсер (Acer): too short for the one-edit dictionary lookup (probe round 5)."""
    assert e_for_e("ейсер") == ("эйсер",)
    assert _words("ейсер", ["ейсер"])["acer"] == "brand"
    assert e_for_e("еда") == ()  # эда is no dictionary word
    assert e_for_e("эйсер") == ()


def test_ight_is_written_ait() -> None:
    """буклайт → buklight: two edits from booklight, which the fuzzy stage allows; the
    letter-by-letter buklayt is four (probe round 5)."""
    assert transliterate("буклайт") == "buklight"
    assert transliterate("брайтхоум") == "brighthoum"
    assert transliterate_english("лайтифай").startswith("light")


def test_every_generated_catalogue_brand_said_in_russian_is_the_brand() -> None:
    """Brands whose English reading is far from their letters (бифри, аутвенчер, хэппи бэби)
    are in the dictionary; the others are reached by transliteration (test_search_relevance
    checks those on the index)."""
    for spelling, brand in (
        ("бифри", "befree"),
        ("лайм", "lime"),
        ("хэппи", "happy"),
        ("бэби", "baby"),
        ("беби", "baby"),
        ("аутвенчер", "outventure"),
    ):
        assert _words(spelling, [spelling]).get(brand) == "brand", spelling


def test_english_j_is_written_dzh_or_zh() -> None:
    assert transliterate_english("жбл") == "jbl"
    assert transliterate_english("джбл") == "jbl"
    assert _words("жбл", ["жбл"])["jbl"] == "brand"
    assert transliterate("жбл") == "zhbl"  # the letter-by-letter twin stays


def test_a_wrong_layout_s_word_is_read_whole_with_its_punctuation_keys() -> None:
    """A sixth blind review: 'gbkznjh (эпилятор), ,byn (бинт), 'ktrnhj,hbndf
    (электробритва) found nothing: the keys of э, б, х … are punctuation on the Latin
    layout, and the query was split there, a first or last letter lost. A Latin name with
    such a character stays as typed (l'oreal, dr. martens), and so does a sentence's comma."""
    assert punctuation_keys_read("'gbkznjh") == "эпилятор"
    assert punctuation_keys_read(",byn 10 cv") == "бинт 10 cv"
    assert punctuation_keys_read("'ktrnhj,hbndf") == "электробритва"
    assert punctuation_keys_read("ghz;f,") == "пряжа"
    for kept in ("l'oreal paris", "dr. martens", "iphone, 15", "5.5 дюймов", "кеды"):
        assert punctuation_keys_read(kept) == kept


def test_keyboard_twin_of_a_word_typed_on_the_wrong_layout() -> None:
    assert keyboard_twin("yjen") == "ноут"
    assert keyboard_twin("cvfhnajy") == "смартфон"
    assert keyboard_twin("ыфьыгтп") == "samsung"
    assert keyboard_twin("iphone15") is None  # digits: not a layout slip
    assert keyboard_twin("хлеб") is None  # х and б are punctuation keys on the Latin layout


def _reference_edit_distance(a: str, b: str) -> int:
    """The hand-written optimal string alignment distance rapidfuzz replaced."""
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


def _reference_misspelt_word(word: str, max_edits: int) -> str | None:
    """The nearest dictionary spelling within the allowed edits, by brute force."""
    edits = min(_allowed_edits(word), max_edits)
    if not edits or not is_cyrillic(word) or word in BRANDS or word in SYNONYMS:
        return None
    # two letters dropped from a spelling of MISSPELT_TWO_EDITS_CHARS+ (сенхайзр ←
    # сеннхайзер) count in the fuzzy stage from MIN_TWO_DROPPED_CHARS letters
    dropped = max_edits >= 2 and len(word) >= MIN_TWO_DROPPED_CHARS
    scored = sorted(
        (distance, spelling)
        for spelling in {*BRANDS, *SYNONYMS} - set(TASK_WORDS)  # verbs are no typo targets
        if abs(len(spelling) - len(word)) <= max(edits, 2 * dropped)  # the distance is ≥
        and (distance := _reference_edit_distance(word, spelling)) <= _allowed_edits(spelling)
        and (distance <= edits or (dropped and distance == 2 and len(spelling) - len(word) == 2))
    )
    return scored[0][1] if scored else None


def _typos(word: str) -> list[str]:
    """Every word one deletion, swap or substitution (by а) away."""
    out = [word[:i] + word[i + 1 :] for i in range(len(word))]
    out += [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
    return out + [word[:i] + "а" + word[i + 1 :] for i in range(len(word))]


SAMPLED_SPELLINGS = 300


def test_rapidfuzz_lookup_gives_the_hand_written_answers_on_the_dictionary() -> None:
    """misspelt_word moved to rapidfuzz (OSA in C): same answers as the hand-written
    distance on ~300 dictionary words (an even sample: the brute force is words × the
    dictionary, and timed out once the lists passed 1,300 words) with one and two typos."""
    spellings = sorted({*BRANDS, *SYNONYMS})
    sample = spellings[:: max(1, len(spellings) // SAMPLED_SPELLINGS)]
    words = [typo for spelling in sample for typo in _typos(spelling)[::2]]
    words += [twice for word in words[::11] for twice in _typos(word)[::4]]
    found = 0
    for word in words:
        for max_edits in (1, 2):
            expected = _reference_misspelt_word(word, max_edits)
            assert misspelt_word.__wrapped__(word, max_edits) == expected, (word, max_edits)
            found += expected is not None
    assert found > len(words) // 2  # the comparison is not all "no match"


@settings(deadline=None)  # the brute-force reference is slow Python on a busy machine
@given(st.text(alphabet="абвгдеклмнопрстуя", min_size=5, max_size=12))
def test_rapidfuzz_lookup_matches_the_hand_written_one_on_any_word(word: str) -> None:
    for max_edits in (1, 2):
        assert misspelt_word.__wrapped__(word, max_edits) == _reference_misspelt_word(
            word, max_edits
        )


def _meanings(query: str) -> list[tuple[tuple[str, ...], ...]]:
    return [match.meanings for match in phrase_matches(tuple(query_words(query)))]


def test_a_phrase_that_names_one_product_means_that_product_in_any_word_order() -> None:
    """звуковая панель is a саундбар, плюшевый мишка a мягкая игрушка (probe round 5 missed
    both): phrases matched on lemmas, so case forms and either word order count."""
    assert _meanings("звуковая панель") == [(("саундбар",),)]
    assert _meanings("звуковую панель lg") == [(("саундбар",),)]
    for query in ("мишка плюшевый", "плюшевый мишка", "плюшевого мишку"):
        assert _meanings(query) == [(("мягкий", "игрушка"), ("медведь",))], query
    assert _meanings("стиральная машинка") == [(("стиральный", "машина"),)]
    assert _meanings("сушилка для волос") == [(("фен",),)]  # three words
    assert _meanings("куртка на осень") == [(("демисезонный",),)]  # a phrase for an adjective
    match = phrase_matches(("купить", "стиральную", "машинку"))[0]
    assert (match.start, match.end) == (1, 3)
    assert _meanings("звуковая колонка") == []
    assert _meanings("панель") == []


def test_every_phrase_synonym_key_is_lemmas_a_query_can_match() -> None:
    """A key word that is not its own lemma could never match (the query's words are
    compared by their lemmas). A key of one word is a word whose meaning is a phrase
    (пауэрбанк: внешний аккумулятор)."""
    for key in PHRASE_SYNONYMS:
        assert 1 <= len(key) <= 3, key
        for word in key:
            assert word in lemmas(word), (key, word)


def test_a_prefix_without_one_adjective_is_read_as_its_base() -> None:
    """аудиоколонка (probe round 4) and аквадатчик (round 6): no product name has аудио or
    аква, so the word is not two words of the index; what follows the prefix is."""
    assert prefix_base("аудиоколонка") == "колонка"
    assert prefix_base("аквадатчик") == "датчик"
    assert prefix_base("электрочайник") is None  # электро is электрический + чайник
    assert prefix_base("аудио") is None
    assert prefix_base("колонка") is None
    assert prefix_base("audiokolonka") is None


def test_dictionary_brands_are_spelt_as_the_index_has_them() -> None:
    """лореаль meant oreal, a term no index has (L'Oréal is l + oréal), so лориаль found
    Gloria Jeans (lorial ~ gloria) as often as L'Oréal. Every dictionary value that is a
    generated-catalogue brand's word without its accents is that word."""

    def folded(word: str) -> str:
        return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()

    brand_words = {w for brands, _ in CATALOGUE.values() for b in brands for w in query_words(b)}
    for value in set(BRANDS.values()):
        for word in brand_words:
            assert folded(value) != folded(word) or value == word, (value, word)
    assert _words("лориаль", ["лориаль"])["oréal"] == "brand"


def test_air_is_written_eir() -> None:
    """эйрбит → airbit, one edit from AirBeat; letter by letter eyrbit is three (round 6)."""
    assert transliterate_english("эйрбит") == "airbit"
    assert transliterate_english("эйрподс") == "airpods"


def _roles(query: str) -> tuple[list[str], list[float]]:
    words = query_words(query)
    roles = query_roles(words)
    return [w for i, w in enumerate(words) if i in roles.optional], list(roles.weights)


def test_function_and_intent_words_are_optional() -> None:
    """Prepositions, particles, pronouns (что-нибудь is что + нибудь) and intent words in
    any form (купить, недорого, лучший → хороший, ищу → искать) never need to match."""
    assert _roles("что-нибудь для кухни")[0] == ["что", "нибудь", "для"]
    assert _roles("купить кроссовки для бега недорого")[0] == ["купить", "для", "недорого"]
    assert _roles("ищу лучший фен")[0] == ["ищу", "лучший"]
    assert _roles("нужен ноутбук асус")[0] == ["нужен"]
    assert _roles("посоветуйте роман на выходные")[0] == ["посоветуйте", "на"]
    for product_words in ("палатка туристическая", "детский велосипед", "кеды белые"):
        assert _roles(product_words)[0] == []


def test_a_query_of_optional_words_only_keeps_them() -> None:
    """Nothing else to look for: «для» alone, «что новое» are still searched."""
    assert query_roles(["для"]) == QueryRoles(frozenset(), (1.0,))
    assert query_roles(["что", "новое"]).optional == frozenset()


def test_what_a_product_is_for_weighs_less_than_the_product() -> None:
    """«X для / к / под Y»: Y's words weigh PURPOSE_WEIGHT; another preposition ends Y;
    with no product word before the preposition there is no X, so nothing weighs less."""
    low = PURPOSE_WEIGHT
    assert _roles("наушники для айфона")[1] == [1.0, 1.0, low]
    assert _roles("наушники к айфону")[1] == [1.0, 1.0, low]
    assert _roles("сумка под ноутбук")[1] == [1.0, 1.0, low]
    assert _roles("датчик протечки воды для ванной")[1] == [1.0, 1.0, 1.0, 1.0, low]
    assert _roles("наушники для бега с микрофоном")[1] == [1.0, 1.0, low, 1.0, 1.0]
    assert _roles("что-нибудь для кухни")[1] == [1.0] * 4
    assert _roles("купить для кухни чайник")[1] == [1.0] * 4
    # на and с say what the product is like, not what it is for
    assert _roles("палатка на 4 человека")[1] == [1.0] * 4
    assert _roles("микроволновка с грилем")[1] == [1.0] * 3


def test_english_product_words_mean_the_russian_ones() -> None:
    """laptop, headphones, backpack typed in Latin, вотч in Cyrillic (probe round 8): the
    English name of each product type of the catalogues (`word_lists.ENGLISH_WORDS`)."""
    assert _words("laptop", ["laptop"])["ноутбук"] == "synonym"
    assert _words("headphones", ["headphones"])["наушник"] == "synonym"
    assert _words("backpack", [])["рюкзак"] == "synonym"
    assert _words("вотч", ["вотч"])["часы"] == "synonym"
    assert "смартфон" in _words("сотовый", ["сотовый"])  # сотовый [телефон]
    for word, meanings in ENGLISH_WORDS.items():
        assert word == word.lower() and meanings and all(is_cyrillic(m) for m in meanings)


def test_two_words_that_together_are_a_dictionary_word_are_joined() -> None:
    """sound bar → soundbar (→ саундбар): a compound typed as two words, known from the word
    lists where the index has only the Russian word. Not when a word is one alone."""
    assert joined_dictionary_words(("sound", "bar")) == ("soundbar",)
    assert joined_dictionary_words(["саундбар", "sound", "bar", "sony"]) == (
        "саундбар",
        "soundbar",
        "sony",
    )
    assert joined_dictionary_words(("смарт", "часы")) == ("смарт", "часы")  # смарт is a word
    assert joined_dictionary_words(("смарт", "вотч")) == ("смарт", "вотч")
    assert joined_dictionary_words(("кеды", "nike")) == ("кеды", "nike")


def test_swapped_neighbours_are_swapped_back() -> None:
    """роамн → роман, фне → фен, волсо → волос: the stemmer cuts the misspelt word elsewhere
    (роамн stays, роман is рома) and stems under five letters get no fuzzy match."""
    assert "роман" in swapped_neighbours("роамн")
    assert "фен" in swapped_neighbours("фне")
    assert "волос" in swapped_neighbours("волсо")
    assert "эксмо" in swapped_neighbours("эксом")
    assert swapped_neighbours("аа") == [] and swapped_neighbours("клавиатруа") == []
    assert swapped_neighbours("ссыр") == ["сыср", "ссры"]  # equal neighbours are no swap
    assert all(len(w) == 5 for w in swapped_neighbours("ромна"))


def test_a_model_code_typed_with_cyrillic_lookalikes_is_the_latin_code() -> None:
    """нова х11: х is the Latin x the code has (X11); р36 is P36."""
    assert model_code_twin("х11") == "x11"
    assert model_code_twin("р36") == "p36"
    assert model_code_twin("16гб") is None  # г looks like no Latin letter: a unit, not a code
    assert model_code_twin("x11") is None and model_code_twin("нова") is None
    assert _words("х11", ["х11"])["x11"] == "brand"


def test_f_is_also_spelt_ph_in_english() -> None:
    """альфа → alfa and alpha (Smartphone Alpha): ph is two edits from f, past a short
    stem's fuzzy match."""
    assert english_spellings("альфа") == ["alfa", "alpha"]
    assert english_spellings("нова") == ["nova"]
    assert "philips" in english_spellings("филипс")


def test_elektro_is_electric_or_electronic() -> None:
    """электрокнига: Электронная книга (probe round 8) — and still never the bare base:
    электрочайник must not find a glass teapot (test_search_query_cache)."""
    assert compound_meanings("электрокнига") == [
        ("электрический", "книга"),
        ("электронный", "книга"),
        ("техника", "книга"),  # probe round 14: an appliance's category (Бытовая техника)
    ]
    assert compound_meanings("смартлампа") == [("умный", "лампа")]
    assert compound_meanings("щетка") == []
    assert prefix_base("электрокофеварка") is None  # электро has adjectives: no bare base


def test_a_number_glued_to_its_unit_is_two_words() -> None:
    """512гб, 20л, 2000вт: the catalogues write "512 ГБ", so the glued word found nothing and
    the number, which says which product is meant, was lost (probe rounds 8 and 9)."""
    assert split_number_units(["смартфон", "512гб"]) == ("смартфон", "512", "гб")
    assert split_number_units(query_words("рюкзак 20л")) == ("рюкзак", "20", "л")
    assert split_number_units(query_words("55дюймов")) == ("55", "дюймов")
    assert split_number_units(query_words("бутылка 1.5л")) == ("бутылка", "1.5", "л")
    assert split_number_units(["144hz"]) == ("144", "hz")
    # a letter run that is no unit is a model code or a resolution: kept as the index has it
    assert split_number_units(["4к", "x11", "a60", "s300", "512"]) == (
        "4к",
        "x11",
        "a60",
        "s300",
        "512",
    )


def test_a_numeral_prefix_is_its_digit_for_what_goods_count() -> None:
    """двухместная палатка: the catalogue says "2 места"; only the counted words split, as
    other words begin with a numeral too."""
    assert split_number_units(["двухместная", "палатка"]) == ("2", "местная", "палатка")
    assert split_number_units(["трехспальное"]) == ("3", "спальное")
    assert split_number_units(["двухъярусная"]) == ("2", "ярусная")
    for word in ("одноразовые", "семинар", "пятновыводитель", "двухцветный"):
        assert split_number_units([word]) == (word,)


def test_an_english_word_typed_in_cyrillic_means_what_it_means_in_latin() -> None:
    """мтб is mtb (горный велосипед), as велосипед mtb already found."""
    assert {"горный", "велосипед"} <= set(_words("мтб", ["мтб"]))


def test_round_9_word_lists() -> None:
    """Latin words of the specifications in Cyrillic, trade names used for the kind of
    goods, and slang (probe round 9)."""
    assert _words("блютуз", ["блютуз"])["bluetooth"] == "brand"
    assert _words("зигби", ["зигби"])["zigbee"] == "brand"
    assert _words("гарнитура", ["гарнитура"])["наушник"] == "synonym"
    assert {"активный", "шумоподавление"} <= set(_words("шумодав", ["шумодав"]))
    assert {"экшн", "камера"} <= set(_words("гопро", ["гопро"]))
    assert {"электронный", "книга"} <= set(_words("киндл", ["киндл"]))
    assert "беговой" in _words("running", ["running"])


def test_a_material_adjective_also_means_its_noun() -> None:
    """шерстяная куртка, льняные джинсы: the catalogues write the material as a noun
    ("Материал: шерсть"), so the adjective matched nothing (probe round 10). The noun comes
    from the adjective's suffix (-ян-, -ан-, -ов-, -ев-, -н-), with a dropped vowel back."""
    for word, lemma, noun in (
        ("шерстяная", "шерстяной", "шерст"),
        ("льняные", "льняной", "лен"),
        ("кожаные", "кожаный", "кож"),
        ("текстильные", "текстильный", "текстиль"),
        ("сатиновое", "сатиновый", "сатин"),
        ("каучуковый", "каучуковый", "каучук"),
        ("алюминиевые", "алюминиевый", "алюминий"),
        ("хлопковая", "хлопковый", "хлопок"),
        ("деревянный", "деревянный", "дерев"),
    ):
        assert noun in adjective_nouns(lemma), (lemma, adjective_nouns(lemma))
        assert _words(word, [lemma])[noun] == "synonym", word
    # no suffix, or a stump too short to be a noun
    for lemma in ("умный", "синий", "детский", "механический", "белый"):
        assert adjective_nouns(lemma) == (), lemma


def test_a_specification_says_its_key_when_the_product_has_the_feature() -> None:
    """ "Подсветка: нет" said «нет»; "Влажная уборка: да" said «да»: neither found the
    feature, and a key alone would find products that lack it (probe round 10)."""
    specs = {
        "Подсветка": "нет",
        "Влажная уборка": "да",
        "Отделение для ноутбука": '15.6"',
        "Цвет": "белый",
        "Вес": None,
    }
    text = search_document({"product_id": "1", "specifications": specs})["specifications"]
    assert text == 'Влажная уборка Отделение для ноутбука 15.6" Цвет белый'


def test_an_adjective_of_lacking_a_word_starts_with_bez_or_bes() -> None:
    """молоко без лактозы: Молоко безлактозное (probe round 39: second); the stem's last
    letter may change in the adjective (молока → безмолочный), без is бес before a voiceless
    consonant, and a root of two letters says nothing."""
    assert lacking_adjective_start("лактозы") == "безлакто"
    assert lacking_adjective_start("молока") == "безмоло"
    assert lacking_adjective_start("проводов") == "беспрово"
    assert lacking_adjective_start("сахара") == "бессаха"
    assert lacking_adjective_start("шума") is None and lacking_adjective_start("5") is None


def test_what_follows_bez_is_what_the_product_must_not_have() -> None:
    """клавиатура без подсветки: подсветки is left out of what must match and any product
    that has it is left out; another function word ends it."""
    assert query_roles(["клавиатура", "без", "подсветки"]).absent == frozenset({2})
    assert query_roles(["куртка", "без", "капюшона", "для", "бега"]).absent == frozenset({2})
    # alone too: what lacks it is looked for (`query_plan.assemble`: без+word, the adjective)
    assert query_roles(["без", "сахара"]).absent == frozenset({1})
    assert query_roles(["клавиатура", "с", "подсветкой"]).absent == frozenset()


def test_a_maker_or_a_number_after_what_lacks_is_the_products_again() -> None:
    """браслет без зарядки xiaomi: Xiaomi's bracelets, not every bracelet but Xiaomi's (the
    span after без ran to the next function word, so xiaomi was left out too). A maker
    or a number right after «без» is what lacks (наушники без bluetooth)."""
    assert query_roles(["браслет", "без", "зарядки", "xiaomi"]).absent == frozenset({2})
    assert query_roles(["браслет", "без", "зарядки", "сяоми"]).absent == frozenset({2})
    assert query_roles(["сахар", "без", "добавок", "500"]).absent == frozenset({2})
    assert query_roles(["наушники", "без", "bluetooth"]).absent == frozenset({2})
    # a word in no genitive after it is the product's too (since blind probe round 53)
    assert query_roles(["куртка", "без", "капюшона", "зимняя"]).absent == frozenset({2})


def test_a_maker_beside_a_product_word_weighs_less_in_any_word_only() -> None:
    """смартфон самсунг: самсунг (a Cyrillic spelling of a Latin brand) and samsung name who
    makes it, смартфон what it is; "any word" weighs the maker less, "all words" does not.
    Without a dictionary noun beside it (nike красные, sneakers nike: the English product
    word is no maker) or inside «для» (already weighed as purpose), no word is a maker."""
    assert query_roles(["смартфон", "самсунг"]).makers == frozenset({1})
    assert query_roles(["samsung", "смартфон", "до", "30000"]).makers == frozenset({0})
    assert query_roles(["кеды", "найк", "белые"]).makers == frozenset({1})
    assert query_roles(["nike", "красные"]).makers == frozenset()
    assert query_roles(["sneakers", "nike"]).makers == frozenset()
    assert query_roles(["чехол", "для", "iphone"]).makers == frozenset()
    assert query_roles(["samsung", "galaxy"]).makers == frozenset()
    words = ("смартфон", "самсунг")
    assert [w.weight for w in plan_query(words, "or").words] == [1.0, MAKER_WEIGHT]
    assert [w.weight for w in plan_query(words, "and").words] == [1.0, 1.0]
    assert [w.weight for w in plan_query(words, "or", understanding=False).words] == [1.0, 1.0]


def test_a_unit_spelt_out_after_a_number_is_its_abbreviation() -> None:
    """наушники 40 часов: the specifications write "40 ч"; «часов» alone found watches."""
    assert split_number_units(["наушники", "40", "часов"]) == ("наушники", "40", "ч")
    assert split_number_units(["рюкзак", "25", "литров"]) == ("рюкзак", "25", "л")
    assert split_number_units(["фен", "1200", "ватт"]) == ("фен", "1200", "вт")
    assert split_number_units(["умных", "часов"]) == ("умных", "часов")  # no number: watches


def test_unstressed_e_and_i_typed_for_each_other_find_the_dictionary_word() -> None:
    """бефри for бифри (Befree): five letters get no edit, and stems do not join them."""
    assert e_for_e("бефри") == ("бифри",)
    assert _words("бефри", ["бефри"])["befree"] == "brand"
    assert e_for_e("бифри") == ()


def test_round_10_word_lists() -> None:
    """Product types' other names (экран, дисплей → монитор; ветровка; кофеаппарат), TWS in
    Cyrillic, Wi-Fi typed in Cyrillic, and a property's other words (обложка is the
    переплёт, беспроводная зарядка the индукционная; probe round 10)."""
    assert _words("экран", ["экран"])["монитор"] == "synonym"
    assert _words("ветровка", ["ветровка"])["куртка"] == "synonym"
    assert _words("кофеаппарат", ["кофеаппарат"])["кофемашина"] == "synonym"
    assert _words("твс", ["твс"])["tws"] == "brand"
    assert phrase_matches(("вай", "фай", "лампа"))[0].meanings == (("wi", "fi"),)
    assert _words("обложка", ["обложка"])["переплет"] == "synonym"
    assert _words("свитчами", ["свитч"])["переключатель"] == "synonym"
    wireless = phrase_matches(("щетка", "с", "беспроводной", "зарядкой"))
    assert wireless[0].meanings == (("индукционный", "зарядка"),)


def test_a_basic_colour_is_also_its_english_name() -> None:
    """клавиатура с коричневыми свитчами: the specifications say «Brown» (probe round 10)."""
    assert _words("коричневыми", ["коричневый"])["brown"] == "synonym"
    assert {"grey", "gray"} <= set(_words("серый", ["серый"]))


def test_a_compound_the_index_lacks_is_looked_for_by_its_ending() -> None:
    """робопылесос, радиомышь, стереонаушники, спортбраслет (probe round 11): any prefix, not
    only a listed one — the backends take the first ending some product's name has, longest
    first, after the listed prefix's base; an ending that is no word is none. Never after a prefix with an adjective:
    электрочайник must not find a glass teapot."""
    # only endings that are words of their own (ылесос, лесос, есос are none)
    assert compound_endings("робопылесос") == ["пылесос"]
    assert "тель" not in compound_endings("утиплитель")  # a typo's tail (a ninth review)
    assert compound_endings("робопылесос").index("пылесос") == 0
    assert "мышь" in compound_endings("радиомышь")
    assert "наушники" in compound_endings("стереонаушники")
    assert compound_endings("аквадатчик")[0] == "датчик"  # the listed prefix's base first
    assert compound_endings("электрочайник") == []
    assert compound_endings("смартлампа") == []
    assert compound_endings("мышь") == []  # too short to have a prefix and a word
    assert compound_endings("sportbracelet") == []


def test_a_doubled_letter_is_typed_once() -> None:
    """кедды найк ranked winter boots first (probe round 11): кедды is one held key from
    кеды, and a five-letter word gets no fuzzy match."""
    assert doubled_letters_once("кедды") == ("кеды",)
    assert doubled_letters_once("маниторр") == ("манитор",)
    assert set(doubled_letters_once("ссумкка")) == {"сумкка", "ссумка"}
    assert _words("кедды", ["кедды"])["кеды"] == "synonym"
    assert doubled_letters_once("кеды") == ()
    assert doubled_letters_once("ccc") == ()  # too short
    assert doubled_letters_once("marshall") == ()  # Latin names as typed


def test_a_phrase_typed_as_one_word_gets_its_space_back() -> None:
    """розетка вайфай, wifi: the word lists' phrase вай фай, and its meaning wi fi, as the
    index has Wi-Fi (probe round 11; round 10 left it)."""
    assert phrases_apart(["розетка", "вайфай"]) == ("розетка", "вай", "фай")
    assert phrases_apart(["wifi"]) == ("wi", "fi")
    assert joined_dictionary_words(("розетка", "вайфай")) == ("розетка", "вай", "фай")
    assert phrase_matches(joined_dictionary_words(("вайфай",)))[0].meanings == (("wi", "fi"),)
    assert phrases_apart(["вай", "фай", "розетка"]) == ("вай", "фай", "розетка")


def test_a_latin_name_with_a_russian_case_ending_is_its_dictionary_forms_spelling() -> None:
    """смартфон на снапдрагоне: snapdragone is a fuzzy match at best; the guessed normal
    form снапдрагон is Snapdragon exactly (probe round 11). Words of the dictionary get
    none: щетки is Russian, not a name."""
    assert "snapdragon" in latin_lemmas("снапдрагоне")
    assert latin_lemmas("щетки") == ()
    assert latin_lemmas("snapdragon") == ()
    assert latin_lemmas("я" * 31) == ()


def test_round_11_word_lists() -> None:
    """The product types ENGLISH_WORDS still lacked (smart plug, bed linen, garden tools,
    T-shirt) and Converse for canvas sneakers (probe round 11)."""
    assert _words("plug", ["plug"])["розетка"] == "synonym"
    assert _words("linen", ["linen"])["белье"] == "synonym"
    assert _words("garden", ["garden"])["садовый"] == "synonym"
    assert _words("tools", ["tools"])["инструмент"] == "synonym"
    assert joined_dictionary_words(("t", "shirt")) == ("tshirt",)
    assert _words("tshirt", ["tshirt"])["футболка"] == "synonym"
    assert _words("конверсы", ["конверс"])["кеды"] == "synonym"


def test_a_glued_model_code_is_cut_at_its_letter_digit_boundaries() -> None:
    """Probe round 12: abc5g is ABC 5G, a31pro is A31 Pro, booklight2 is BookLight 2; the
    backends take the first cut whose parts the index has, and only for a word it lacks."""
    assert code_cuts("a31pro") == (("a31", "pro"), ("a", "31pro"))
    assert code_cuts("abc5g") == (("abc5", "g"), ("abc", "5g"))
    assert code_cuts("booklight2") == (("booklight", "2"),)
    assert code_cuts("а31про") == ()  # про is no Latin look-alike: not a code
    assert code_cuts("а31") == (("a", "31"),)  # Cyrillic look-alikes read as the code
    for word in ("ноутбук", "128", "pro", "x" * 40):
        assert code_cuts(word) == ()


def test_a_name_or_code_split_by_a_space_may_be_joined() -> None:
    """pulse one → pulseone (PulseOne), м 89 → m89 (M89): two Latin words, or one letter and
    a number; Cyrillic words are the compounds' rule already."""
    assert joinable("pulse", "one") and joinable("м", "89") and joinable("x", "11")
    assert not joinable("ноутбук", "89") and not joinable("xl", "42") and not joinable("x", "y1")
    assert joined_spellings("м89") == ("м89", "m89")
    assert joined_spellings("pulseone") == ("pulseone",)
    assert joined_spellings("саундбар") == ("саундбар",)


def test_a_model_code_with_a_digit_too_many_drops_one() -> None:
    """а311 → a31 (a doubled digit's first), then a11; two digits stay as typed."""
    assert codes_without_a_digit("а311") == ("a31", "a11")
    assert codes_without_a_digit("a311")[0] == "a31"
    assert codes_without_a_digit("rtx4060") == ("rtx060", "rtx460", "rtx400", "rtx406")
    for word in ("s17", "a31", "4060", "ноутбук", "a31pro"):
        assert codes_without_a_digit(word) == ()


def test_halves_of_a_name_are_joined_for_the_fuzzy_stage() -> None:
    """эйр бит про: no word matches (эйр, бит too short for a fuzzy match); эйрбит (airbit)
    is two edits from AirBeat; клин мастер → клинмастер (clinmaster) from CleanMaster. про is
    optional here (a preposition): never joined; codes are joined before (`joinable`)."""
    assert adjacent_words_joined(("эйр", "бит", "про"), (False, False, True)) == ("эйрбит",)
    assert adjacent_words_joined(("клин", "мастер"), (False, False)) == ("клинмастер",)
    assert adjacent_words_joined(("тв", "4к"), (False, False)) == ()  # 4к has a digit
    assert adjacent_words_joined(("тв", "ок"), (False, False)) == ()  # too short joined
    assert adjacent_words_joined(("a" * 4, "b" * 17), (False, False)) == ()  # no name
    assert adjacent_words_joined(("бесправодные", "наушнеки"), (False, False)) == ()  # long


def test_a_joined_pair_is_looked_for_as_a_names_spellings() -> None:
    assert name_spellings("эйрбит") == ("eyrbit", "airbit")
    assert name_spellings("pulseone") == ("pulseone",)


def test_a_code_split_by_a_space_or_hyphen_is_joined_even_if_both_halves_are_words() -> None:
    """c-21, c 21: c (USB-C) and 21 (21 скорость) are both in the index, so the rule «not
    both known» would keep them apart; a letter and a number is a code."""
    assert split_code("c", "21") and split_code("м", "89")
    assert not split_code("pulse", "one") and not split_code("xl", "42")
    assert not split_code("c", "d")


def test_a_slip_in_a_short_dictionary_word_finds_it() -> None:
    """Probe round 13: words of five letters or fewer get no edit, so сонни, бошь, хонр,
    асерр, браунн found only fuzzy near-misses of other brands (саундбр сонни ranked Edifier
    first). A letter doubled, a soft sign added, a vowel dropped: the dictionary word, and
    only a word of the word lists, so other words get no clause more."""
    for typed, spelling in (
        ("сонни", "сони"),
        ("асерр", "асер"),
        ("браунн", "браун"),
        ("бошь", "бош"),
        ("хонр", "хонор"),
    ):
        assert spelling in short_word_slips(typed), typed
        assert BRANDS[spelling] in _words(typed, [typed]), typed
    for word in ("кран", "мышь", "сони", "ноутбук", "касса", "sonny", "сни", "пма"):
        assert short_word_slips(word) == (), word  # a word Russian has, a key as typed, or
        # three letters (сни is no сони: too short to guess a dropped vowel)


def test_e_typed_for_e_after_a_consonant_is_looked_for_as_e() -> None:
    """фэн браунн: фэн is фен as it is said; three letters get no fuzzy match. A leading э
    is the word's own (экшн), and a dictionary word keeps its spelling (хэппи)."""
    assert _words("фэн", ["фэн"])["фен"] == "synonym"
    assert "екшн" not in _words("экшн", ["экшн"])
    assert "хеппи" not in _words("хэппи", ["хэппи"])


def test_latin_glued_to_a_russian_word_is_cut_where_the_scripts_meet() -> None:
    """jblколонка, ноутбукasus, iphone15чехол: a brand or model glued to the product word;
    jbl is too short a part for a compound's cut."""
    assert code_cuts("jblколонка") == (("jbl", "колонка"),)
    assert code_cuts("ноутбукasus") == (("ноутбук", "asus"),)
    assert code_cuts("iphone15чехол")[0] == ("iphone15", "чехол")
    assert code_cuts("128гб") == () and code_cuts("колонка") == ()


def test_a_prefix_sad_is_garden_and_kilowatts_are_watts() -> None:
    """садинструменты is садовые инструменты (as тур- is туристический); 1,5 квт is the
    catalogues' 1500 Вт, typed with a comma or a point (one word, 1.5) or glued."""
    assert compound_meaning("садинструменты") == ("садовый", "инструменты")
    assert split_number_units(query_words("чайник 1,5 квт")) == ("чайник", "1500", "вт")
    assert split_number_units(["чайник", "2квт"]) == ("чайник", "2000", "вт")
    assert split_number_units(["1.25", "kw"]) == ("1250", "вт")
    assert split_number_units(["квт"]) == ("квт",)  # no number: as typed


def test_round_13_word_lists() -> None:
    assert _words("читалка", ["читалка"])["книга"] == "synonym"


def test_a_collective_numeral_is_how_many_places() -> None:
    """палатка на четверых is «Вместимость: 4 места» (probe round 14); the digit comes with
    its places, since a bare 2 is in every description («от 2 дней»)."""
    assert split_number_units(["палатка", "на", "четверых"]) == ("палатка", "на", "4", "места")
    assert split_number_units(["на", "двоих"]) == ("на", "2", "места")
    assert split_number_units(["двое"]) == ("двое",)  # only the forms «на N» takes


def test_one_and_a_half_is_1_5() -> None:
    """полуторное постельное белье (round 10's miss) is «Размер: 1.5-спальное», which the
    query parser reads as the one word 1.5, as it reads 1.5 typed; полтора литра is 1.5 л."""
    assert split_number_units(["полуторное", "белье"]) == ("1.5", "белье")
    assert split_number_units(["полутороспальное"]) == ("1.5", "спальное")
    assert split_number_units(["на", "полтора", "литра"]) == ("на", "1.5", "л")
    assert split_number_units(["полуторка"]) == ("полуторка",)  # a noun: as typed


def test_o_typed_for_yo_after_a_hushing_consonant() -> None:
    """чорные кросовки: ё typed as heard after ч, ж, ш, щ (probe round 14), where the typed
    word is no Russian word and the other spelling is; the alternative is a misspelling."""
    assert o_for_yo("чорные") == ("черные",)
    assert o_for_yo("жолтый") == ("желтый",)
    assert o_for_yo("шолковая") == ("шелковая",)
    assert o_for_yo("шорты") == () and o_for_yo("шоколад") == ()  # words as typed
    assert o_for_yo("черные") == () and o_for_yo("кросовки") == ()
    assert _words("чорные", ["чорный"])["черные"] == "synonym"


def test_a_diminutive_in_echka_after_a_vowel_is_yka() -> None:
    """маечка is майка (not мака), гаечка гайка; майка is what the catalogues call a
    футболка (probe round 14: маечка красная)."""
    assert _words("маечка", ["маечка"])["майка"] == "diminutive"
    assert _words("маечка", ["маечка"])["футболка"] == "synonym"
    assert "гайка" in _words("гаечка", ["гаечка"])
    assert "ложка" in _words("ложечка", ["ложечка"])  # a consonant before: -ечка → -ка


def test_a_diminutive_in_iyka_is_a_noun_in_iya() -> None:
    """энциклопедийка found nothing (a made-up query of this session's probe): a noun in
    -ия makes its diminutive in -ийка; батарейка and линейка (-ейка) are not taken for one."""
    assert _words("энциклопедийка", ["энциклопедийка"])["энциклопедия"] == "diminutive"
    assert "энциклопедия" in _words("энциклопедийку", ["энциклопедийка"])
    assert not any(w.endswith("ия") for w in _words("батарейка", ["батарейка"]))


def test_a_diminutive_in_chok_or_ishki_is_its_noun() -> None:
    """A twenty-third blind review: лучок and дровишки found nothing. -чок is a noun's -к
    (лучок → лук, крючок → крюк), -ишки a plural noun's (дровишки → дрова, штанишки →
    штаны), each taken only when the dictionary has the base as a noun. (The word lists
    have since listed лучок and дровишки too: the rule is checked on its own.)"""
    from vitrina.search.query_understanding import diminutive_bases

    assert "лук" in diminutive_bases("лучок")
    assert "крюк" in diminutive_bases("крючок")
    assert _words("кулачок", ["кулачок"])["кулак"] == "diminutive"
    assert "дрова" in diminutive_bases("дровишки")
    assert "штаны" in diminutive_bases("штанишки")
    assert "дровы" not in diminutive_bases("дровишки")  # no noun: not taken


def test_a_plural_only_noun_s_diminutive_is_the_noun() -> None:
    """A twenty-fourth blind review: саночки ranked a fish keepnet (садок) with the sledges,
    every fuzzy match scoring alike. Nouns with no singular (санки, очки, брюки) make their
    diminutive in the plural: -очки, -ечки, -чки → -ки, when the dictionary has the noun."""
    from vitrina.search.query_understanding import diminutive_bases

    assert diminutive_bases("саночки") == ["санки"]
    assert diminutive_bases("очечки") == ["очки"]
    assert diminutive_bases("брючки") == ["брюки"]
    assert diminutive_bases("очки") == []  # the word itself is no diminutive
    assert diminutive_bases("спички") == []  # спики is no noun


def test_round_14_word_lists() -> None:
    """моющий пылесос is one with wet cleaning, as the specifications say."""
    assert _words("моющий", ["моющий", "мыть"])["влажный"] == "synonym"
    assert _words("моющая", ["моющий", "мыть"])["влажный"] == "synonym"
    assert SYNONYMS["майка"] == ("футболка",)


def test_a_model_line_suffix_in_cyrillic_is_the_names_latin_word() -> None:
    """смартфон самсунг лайт: Lite, not light (the transliterations give light, maks,
    plyus); про, ультра, мини already come out as the names write them."""
    for typed, latin in (("лайт", "lite"), ("макс", "max"), ("плюс", "plus")):
        assert _words(typed, [typed])[latin] == "brand"
    assert "light" in _words("лайт", ["лайт"])  # буклайт's reading stays
    assert transliterate("про") == "pro" and transliterate("ультра") == "ultra"


def test_a_prefixed_compound_of_a_diminutive_is_its_adjective_and_the_base() -> None:
    """электрощеточка: электрический + щетка (probe round 15); -ик is left alone, so
    электрочайник gets no extra pair (чайник is no diminutive of чайн)."""
    assert ("электрический", "щетка") in compound_meanings("электрощеточка")
    assert compound_meanings("электрочайник") == [
        ("электрический", "чайник"),
        ("электронный", "чайник"),
        ("техника", "чайник"),
    ]


def test_a_brand_spelt_by_its_letters_names_is_the_abbreviation() -> None:
    """джейбиэль (джей би эль) is JBL; only abbreviations the brand list has, so ordinary
    words spell nothing (probe round 15)."""
    assert spelt_out_letters("джейбиэль") == ("jbl",)
    assert _words("джейбиэль", ["джейбиэль"])["jbl"] == "brand"
    for word in ("сити", "эмаль", "кеды", "пиар", "саундбар"):
        assert spelt_out_letters(word) == (), word


def test_dzh_typed_for_g_gives_the_dictionary_spelling() -> None:
    """делонджи is делонги (De'Longhi): a Latin g before i said as дж (probe round 15)."""
    assert dzh_for_g("делонджи") == ("делонги",)
    assert _words("делонджи", ["делонджи"])["de'longhi"] == "brand"
    assert dzh_for_g("джинсы") == () and dzh_for_g("гардена") == ()


def test_an_adjective_in_ochny_is_its_noun_in_ka() -> None:
    """кофеварочная машина: кофеварка, hence кофемашина (probe round 15); only nouns of the
    word lists, so other adjectives add nothing."""
    assert ka_noun("кофеварочный") == "кофеварка"
    assert ka_noun("молочный") is None and ka_noun("беговой") is None
    words = _words("кофеварочная", ["кофеварочный"])
    assert "кофеварка" in words and "кофемашина" in words


def test_two_letters_dropped_from_a_long_spelling_are_found_in_the_fuzzy_stage() -> None:
    """сенхайзр is сеннхайзер less н and е: two edits from an 8-letter word, allowed only as
    two dropped letters and only in the fuzzy stage (probe round 15: наушнеки сенхайзр)."""
    assert misspelt_word("сенхайзр") == "сеннхайзер"
    assert misspelt_brand("сенхайзр") == "sennheiser"
    assert misspelt_word("сенхайзр", max_edits=1) is None  # the other stages: one edit
    # two letters changed in an 8-letter word stay beyond it (dropped ones only)
    assert "смартфон" in SYNONYMS and misspelt_word("смортфан") is None


def test_a_one_letter_part_joins_a_known_word() -> None:
    """e-book is e + book: ebook (электронная книга), not book (any book)."""
    assert joined_dictionary_words(["e", "book"]) == ("ebook",)
    assert joined_dictionary_words(["книга", "e"]) == ("книга", "e")
    assert joined_dictionary_words(["sound", "bar"]) == ("soundbar",)


def test_round_16_word_lists() -> None:
    """The seed catalogues' e-readers and coffee maker by their English names (probe round
    16): ридер, букридер, e-reader; coffee maker joined as one dictionary word, and since
    coffee is a word alone (probe round 45), read as a phrase meaning кофеварка."""
    for word in ("reader", "ereader", "ридер", "букридер"):
        assert ENGLISH_WORDS[word] == ("электронный", "книга"), word
    assert joined_dictionary_words(["coffeemaker"]) == ("coffee", "maker")  # the phrase, apart
    assert "кофеварка" in SYNONYMS["coffeemaker"]
    assert phrase_matches(("coffee", "maker"))[0].meanings == (("кофеварка",),)


def test_english_x_is_ks_and_yu_after_a_consonant_is_u() -> None:
    """люксор is Luxor: кс for x, ю for u — three edits from lyucsor, past any fuzzy match
    (probe round 16: люксор пылесос); only for a word with кс and not in the dictionary."""
    assert english_x_spelling("люксор") == "luxor"
    assert english_x_spelling("ноутбук") is None
    assert _words("люксор", ["люксор"])["luxor"] == "brand"
    assert undeclined_latin_spellings("такси") == ()  # a dictionary word: nothing more


def test_a_short_abbreviation_in_lookalike_letters_is_its_latin_twin() -> None:
    """авс is ABC typed with the Cyrillic letters that look like it (transliterated it is
    avs): 2-4 letters, none without a Latin twin, not a dictionary word (все, кот stay)."""
    assert lookalike_twin("авс") == "abc" and lookalike_twin("абв") is None
    assert "abc" in undeclined_latin_spellings("авс")
    assert _words("авс", ["авс"])["abc"] == "brand"
    for word in ("все", "кот", "рот", "сосна"):
        assert lookalike_twin(word) not in undeclined_latin_spellings(word), word


def test_a_name_with_a_doubled_letter_is_spelt_in_latin_once() -> None:
    """новва is нова (a key held too long), hence Nova — not novva (probe round 16)."""
    assert "nova" in undeclined_latin_spellings("новва")
    assert "nova" in _words("новва", ["новва"])


def test_a_letter_said_by_its_name_after_a_number_joins_it() -> None:
    """5 джи is 5G, 4 кей 4K (probe round 16: смартфон с 5 джи); not without a number."""
    assert split_number_units(["смартфон", "с", "5", "джи"]) == ("смартфон", "с", "5g")
    assert split_number_units(["телевизор", "4", "кей"]) == ("телевизор", "4k")
    assert split_number_units(["джи", "5"]) == ("джи", "5")


def test_a_word_one_edit_from_a_word_list_word_is_that_word_too() -> None:
    """смратфон is смартфон itself, not only its synonym телефон: else only the products
    with телефон in the name were found (probe round 16: смратфон альфа12 on OpenSearch)."""
    words = _words("смратфон", ["смратфон"])
    assert "смартфон" in words and "телефон" in words


def test_a_prefixed_compound_read_as_a_phrase_has_the_phrases_meaning() -> None:
    """садинвентарь is садовый инвентарь, whose meaning (PHRASE_SYNONYMS) is садовый
    инструмент: the compound gets that pair too (probe round 11's miss, fixed in round 16);
    a compound whose pair is no phrase gets nothing more."""
    assert compound_meanings("садинвентарь") == [
        ("садовый", "инвентарь"),
        ("садовый", "инструмент"),
    ]
    assert ("садовый", "инструмент") not in compound_meanings("садлейка")
    assert len(compound_meanings("электрощетка")) == 3


def test_s_before_a_genitive_is_where_from() -> None:
    """«розетка с управлением с телефона»: с телефона (genitive) is where the socket is
    controlled from, weighed as a purpose; с управлением (instrumental) is what it has."""
    roles = query_roles(["розетка", "с", "управлением", "с", "телефона"])
    assert roles.weights == (1.0, 1.0, 1.0, 1.0, PURPOSE_WEIGHT)
    assert query_roles(["микроволновка", "с", "грилем"]).weights == (1.0, 1.0, 1.0)
    assert query_roles(["чай", "с", "сахаром"]).weights == (1.0, 1.0, 1.0)


def test_a_whole_word_gets_fewer_fuzzy_edits_than_its_stem() -> None:
    """The fuzzy stage also looks for the word as typed among the names' lemmas (смтана →
    сметана): one edit, as two reached стекло from стенли."""
    assert lemma_fuzzy_distance("смтана") == 1
    assert lemma_fuzzy_distance("смтн") == 0
    assert lemma_fuzzy_distance("телевизорр") == 1


def test_the_purpose_ends_at_a_number() -> None:
    """монитор для игр 165 гц: 165 гц is what the monitor is like, not what it is for — it
    weighs as the product's words (probe round 17: 1 of 8 165 Hz monitors in the top 10)."""
    roles = query_roles(["монитор", "для", "игр", "165", "гц"])
    assert roles.weights == (1.0, 1.0, PURPOSE_WEIGHT, 1.0, 1.0)
    # without a number Y goes on as before
    assert query_roles(["мышь", "для", "ноутбука"]).weights == (1.0, 1.0, PURPOSE_WEIGHT)


def test_a_clause_about_what_it_does_weighs_as_the_purpose_to_the_end() -> None:
    """лампочка которую можно включать с телефона: the clause's own preposition (с) does
    not close it, so телефона weighs 0.3 and phones no longer outrank the bulb (probe
    round 17); можно is an optional filler word."""
    words = ["лампочка", "которую", "можно", "включать", "с", "телефона"]
    roles = query_roles(words)
    assert roles.optional == frozenset({1, 2, 4})
    assert roles.weights[0] == 1.0
    assert roles.weights[3] == roles.weights[5] == PURPOSE_WEIGHT
    # a clause with nothing before it is all there is
    assert query_roles(["чтобы", "мыть", "полы"]).weights == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("query", "heads"),
    [
        ("тапки домашние", {0}),  # домашние is also a noun («the family»): an adjective first
        ("рулетка для собак", {0}),
        ("поводок для собак", {0}),
        ("чайник стеклянный", {0}),
        ("купить платье вечернее", {1}),  # купить is optional
        ("смартфон", set()),  # nothing besides it: "all words" again
        ("ноутбук мышь", set()),  # two nouns: nothing only adds
        ("рибок кроссовки", set()),  # a maker may name the product too
        ("пульс ван", set()),  # the PulseOne: an unknown word may be the name
        ("шланг 20 м", {0}),  # a size only says what it is like
        ("теплица 3 на 4", {0}),
        ("кроссовки 42 размер", {0}),  # a noun after a number is its unit
        ("iphone 15", set()),
        ("планшетный компьютер", set()),  # a class noun: tablets do not say it
        ("техника для ухода за собой", set()),
        ("ремень генератора", set()),  # a genitive says whose
    ],
)
def test_the_nouns_that_name_the_product_are_its_heads(query: str, heads: set[int]) -> None:
    """A blind review: «тапки домашние» ranked cat food «для домашних кошек» above the
    slippers and «рулетка для собак» dog food above the leash: in "any word" the other
    words outweighed the product's noun. The head stage needs the heads alone."""
    assert query_roles(query.split()).heads == frozenset(heads)


def test_a_noun_is_not_read_as_a_task_verb_of_its_stem() -> None:
    """A third blind review: «сверла» (drill bits) ranked perforators and drills above the
    set of bits: its stem сверл is сверлить's, a task word (чем сверлить → дрель). A task
    verb is read from its dictionary forms only."""
    kinds = {a.word for a in alternatives("сверла")}
    assert not kinds & {"дрель", "перфоратор"}, kinds
    assert {"дрель", "перфоратор"} <= {a.word for a in alternatives("сверлить")}


def test_a_comparative_with_po_is_optional() -> None:
    """помощнее, подешевле: how it should compare, never what it is (probe round 17:
    саундбар помощнее 300 ватт found no product with every word)."""
    for word in ("помощнее", "подешевле", "побольше", "полегче"):
        assert is_optional_word(word), word
    for word in ("мощный", "мощность", "мощнее", "подушка", "повербанк"):
        assert not is_optional_word(word), word
    assert query_roles(["саундбар", "помощнее", "300", "вт"]).optional == frozenset({1})


def test_a_letter_name_glued_to_a_number_and_thousands_said_as_a_word() -> None:
    """5джи is 5 джи is 5g (probe round 17: эйбиси 5джи found nothing); a thousand said as a
    word multiplies the number before it, полторы тысячи is 1500 (round 16's open miss read
    it as 1 5 тысячи)."""
    assert split_number_units(["эйбиси", "5джи"]) == ("эйбиси", "5g")
    assert split_number_units(["4кей"]) == ("4k",)
    assert split_number_units(["полторы", "тысячи"]) == ("1500",)
    assert split_number_units(["до", "5", "тысяч"]) == ("до", "5000")
    assert split_number_units(["15", "тыс", "рублей"]) == ("15000", "рублей")
    assert split_number_units(["тысяча", "мелочей"]) == ("тысяча", "мелочей")  # no number


def test_letters_said_one_by_one_are_the_abbreviation_the_index_may_have() -> None:
    """смартфон эй би си: the letters' names apart are joined (эйбиси) and read as abc,
    though abc is no brand of the word lists — any abbreviation of 3+ letters from a word
    pymorphy3 does not know (probe round 17); a dictionary word (сити, пиар) still spells
    nothing, nor do two letters outside the brand list."""
    assert letters_said_apart(["смартфон", "эй", "би", "си"]) == ("смартфон", "эйбиси")
    assert letters_said_apart(["часы", "икс", "уай", "зед"]) == ("часы", "иксуайзед")
    assert letters_said_apart(["эй", "смартфон", "си"]) == ("эй", "смартфон", "си")
    assert spelt_out_letters("эйбиси") == ("abc",)
    assert spelt_out_letters("иксуайзед") == ("xyz",)
    assert _words("эйбиси", ["эйбиси"])["abc"] == "brand"
    assert spelt_out_letters("биби") == ()  # two letters: only the brand list's
    for word in ("сити", "эмаль", "пиар", "сиди"):
        assert spelt_out_letters(word) == (), word


def test_a_diminutive_of_a_compound_is_cut_as_the_compound() -> None:
    """фитнесбраслетик → фитнесбраслет → фитнес + браслет (probe round 17: nothing found):
    the diminutive's base is cut into two words as the compound itself is; the cuts of
    the word as typed come first."""
    assert diminutive_compounds("фитнесбраслетик") == ["фитнесбраслет"]
    assert ("фитнес", "браслет") in compound_parts_of("фитнесбраслет")
    assert compound_parts_of("фитнесбраслет")[0] == ("фитнесбра", "слет")  # longest first
    assert diminutive_compounds("чайник") == []  # a base too short to be a compound


def test_a_price_typed_in_the_query_is_a_price_filter() -> None:
    """планшет до 15000, часы дешевле 5 тысяч, от 3000 рублей: a bound on the price, the
    number and the currency left out of the words (probe round 17); до/от before a unit
    (до 30 км, от 8 лет, от 1000 деталей) or a small number is no price, and a query that
    names no price is searched exactly as typed."""
    assert price_from_words("планшет до 15000") == ("планшет", None, 15000.0)
    assert price_from_words("умные часы до 5000 рублей") == ("умные часы", None, 5000.0)
    assert price_from_words("часы дешевле 5 тысяч") == ("часы", None, 5000.0)
    assert price_from_words("ноутбук от 50 тыс до 90 тыс руб") == ("ноутбук", 50000.0, 90000.0)
    for query in ("самокат до 30 км", "конструктор от 8 лет", "конструктор от 1000 деталей"):
        assert price_from_words(query) is None, query
    assert price_from_words("наушники до 50") is None
    # A price only: no words left, every product within the bound.
    assert price_from_words("до 5000") == ("", None, 5000.0)
    assert price_from_words("дешевле 1000 рублей") == ("", None, 1000.0)
    text, filters = with_price_from_words("кроссовки от 3000 р", SearchFilters(price_min=5000))
    assert text == "кроссовки" and filters == SearchFilters(price_min=5000)  # the narrower
    text, filters = with_price_from_words("кроссовки до 3000", SearchFilters(price_min=5000))
    assert text == "кроссовки до 3000" and filters == SearchFilters(price_min=5000)


def test_round_17_word_lists() -> None:
    """смарт-браслет, the trade name of a fitness bracelet, in any case form (probe round
    17: смартбраслеты самсунг ranked Samsung phones first)."""
    assert "браслет" in _words("смартбраслеты", ["смартбраслеты"])


def test_robo_is_a_prefix_meaning_robot() -> None:
    """робопылесос: a robot vacuum (probe round 17: the cordless one ranked first — робо-
    was a prefix with no meaning, leaving пылесос alone); the base is still looked for
    (a vacuum is still one), the robot and the vacuum together rank first."""
    assert compound_meanings("робопылесос") == [("робот", "пылесос")]
    assert compound_meanings("роботпылесос") == [("робот", "пылесос")]
    assert compound_endings("робопылесос")[0] == "пылесос"


def test_a_noun_is_also_its_relational_adjective() -> None:
    """мышь для игр: an игровая мышь — игры is also игровой (round 16's open miss: the
    RapidFire mouse, whose text has игровая and гейминг but no игры, was not found); only
    adjectives pymorphy3's dictionary has."""
    assert noun_adjectives("игра") == ("игровой",)
    assert noun_adjectives("бег") == ("беговой",)
    assert noun_adjectives("телефон") == () and noun_adjectives("мышь") == ()
    assert noun_adjectives("игровой") == ()  # an adjective is no noun
    # a long noun's adjective the dictionary lacks (an eighteenth blind review: Наполнитель
    # силикагелевый), after a soft consonant in -евый; not for a word no dictionary has
    assert "силикагелевый" in noun_adjectives("силикагель")
    assert noun_adjectives("ядивкйыабв") == ()
    assert _words("игр", ["игра"])["игровой"] == "synonym"


def test_a_russian_word_typed_in_latin_letters_is_also_its_cyrillic_spelling() -> None:
    """noutbuk asus, pylesos robot, kofemashina bosch: a Russian word typed without a
    Russian layout (probe round 18: nothing, or other ASUS goods, was found); y is ы after
    a consonant and й after a vowel. Brands, English words and short words stay Latin."""
    assert cyrillic_spelling("noutbuk") == "ноутбук"
    assert cyrillic_spelling("pylesos") == "пылесос"
    assert cyrillic_spelling("kofemashina") == "кофемашина"
    assert cyrillic_spelling("elektrochaynik") == "электрочайник"
    assert cyrillic_spelling("dzhinsy") == "джинсы"
    assert cyrillic_spelling("tv") is None and cyrillic_spelling("x11") is None
    assert _words("noutbuk", [])["ноутбук"] == "synonym"
    assert "асус" not in _words("asus", [])  # a brand's Latin name is the brand
    assert "джеанс" not in _words("jeans", []) and "йеанс" not in _words("jeans", [])


def test_ya_yo_yu_after_a_consonant_in_latin_letters_are_a_soft_sign_and_the_vowel() -> None:
    """postelnoe belyo, semya (probe round 45: бельё found nothing): ыо, ыя, ыю are no
    Russian spelling, so after a consonant they are ьё, ья, ью; ye there stays ые (krasnye),
    and at a word's start or after a vowel the pairs are я, е, ю as before."""
    assert cyrillic_spelling("belyo") == "белье"
    assert cyrillic_spelling("semya") == "семья"
    assert cyrillic_spelling("vyuga") == "вьюга"
    assert cyrillic_spelling("krasnye") == "красные"
    assert cyrillic_spelling("yabloko") == "яблоко"
    assert cyrillic_spelling("mayka") == "майка"
    assert cyrillic_spelling("syr") is None  # three letters: an abbreviation as often
    assert cyrillic_spelling("myshka") == "мышка"  # y before a consonant is ы


def test_ation_said_without_its_y_sound_is_still_english_ation() -> None:
    """плейстешн 5 (probe round 45: the PlayStation ranked 5th): -ешн with the й dropped
    is English -ation as -ейшн is."""
    assert "playstation" in english_spellings("плейстешн")
    assert "playstation" in english_spellings("плейстейшн")


def test_an_english_product_word_typed_with_a_slip_is_that_word() -> None:
    """gaming mause, smart wacth (probe round 45): one edit from five letters, two from
    nine, to the nearest English product word; none for a known word, a brand, a word as
    near to two, or a short one. Its meaning only breaks ties (`misspelt_meanings`)."""
    assert misspelt_english("mause") == "mouse"
    assert misspelt_english("wacth") == "watch"
    assert misspelt_english("laptpo") == "laptop"
    assert misspelt_english("headphnes") == "headphones"
    assert misspelt_english("mouse") is None  # a known word
    assert misspelt_english("samsung") is None and misspelt_english("adidos") is None
    assert misspelt_english("hause") is None  # two edits from mouse
    assert misspelt_english("tvv") is None  # too short
    assert misspelt_english("мышь") is None  # Cyrillic: misspelt_word's
    meanings = misspelt_meanings("mause")
    assert [m.word for m in meanings] == ["мышь"] and meanings[0].weight < 0.5


def test_a_letter_a_key_off_is_put_back_when_one_word_comes_of_it() -> None:
    """умные чвсы (probe round 46: smart bulbs first; a stem under five letters gets no
    fuzzy match): a Cyrillic word the dictionary lacks, with no swap that makes a word, is
    read with one letter put back to a key beside it, when every word that comes of it is
    one word's form; of several words, the one noun's (a fourth blind review: мыщь gives
    мышь and мыль, a form of мылить, and found nothing; a query names a thing)."""
    assert set(NEIGHBOUR_KEYS["а"]) == set("впкесм")  # beside it, and the keys it touches
    assert "часы" in neighbour_key_slips("чвсы")
    assert swapped_dictionary_words("чвсы") == ("часы",)
    assert swapped_dictionary_words("пвлатка") == ("палатка",)
    assert swapped_dictionary_words("кдеы") == ("кеды",)  # a swap first, as before
    assert swapped_dictionary_words("сумкв") == ("сумка", "сумку")  # not сумев (суметь)
    assert swapped_dictionary_words("мыщь") == ("мышь",)  # not мыль (мылить)
    assert swapped_dictionary_words("фкн") == ()  # three letters: too many words a key off
    assert swapped_dictionary_words("часы") == ()  # a word


def test_a_word_no_dictionary_has_may_be_a_longer_word_cut_short() -> None:
    """наушн. беспров. sony (probe round 45: Sony soundbars first): a Cyrillic word of five
    letters or more that no dictionary or list has is also the start of a name's word in the
    fuzzy stage; a word the dictionary has, a short one and a Latin one are not."""
    assert may_be_cut_short("наушн")
    assert may_be_cut_short("беспров")
    assert not may_be_cut_short("наушники")  # a word
    assert not may_be_cut_short("ноут")  # four letters (and a list's word)
    assert not may_be_cut_short("samsu")


def test_english_ction_said_kshn_is_ction() -> None:
    """экшенпро (probe round 46: nothing for ActionPro): -кшн, -кшен is English -ction, and
    a leading э before it the a of action."""
    assert "actionpro" in english_spellings("экшенпро")
    assert english_sound_spelling("коллекшн") == "collection"


def test_a_word_a_title_may_glue_to_more_is_also_looked_for_glued() -> None:
    """смартфон на 512 → 512gb (12/512GB), buds → buds2 (Galaxy Buds2): a whole number with
    no unit after it, and a Latin word of letters alone, of three letters or more."""
    assert bare_numbers(("смартфон", "на", "512")) == (2,)
    assert bare_numbers(("смартфон", "512", "гб")) == ()  # its unit is there
    assert bare_numbers(("ноутбук", "15.6")) == ()  # no whole number
    assert bare_latin_words(("galaxy", "buds", "2", "tv", "наушники")) == (0, 1)
    patterns = dict(glued_patterns(("galaxy", "buds", "512")))
    assert patterns[1] == "buds[0-9]+" and patterns[2].startswith("512[")


def test_a_letter_said_by_its_name_before_a_number_is_a_model_code() -> None:
    """нова икс 11 → x11, глайд эс 300 → s300 (probe round 18: nothing was found); a name
    that is also a Russian word (ай, ар, эль) is left alone, and two names still make an
    abbreviation."""
    assert letters_said_apart(("нова", "икс", "11")) == ("нова", "x11")
    assert letters_said_apart(("глайд", "эс", "300")) == ("глайд", "s300")
    assert letters_said_apart(("участок", "ар", "6")) == ("участок", "ар", "6")
    assert letters_said_apart(("эй", "би", "си")) == ("эйбиси",)
    assert letters_said_apart(("смартфон", "11")) == ("смартфон", "11")


def test_a_brand_glued_to_a_word_is_cut_off() -> None:
    """антипригарнаятефаль (probe round 18: the space before the brand missed; Gardena pans
    ranked first): a word pymorphy3 does not know that begins or ends with a dictionary
    brand of 5+ letters is the two words; a known word, or a short brand key, is not cut."""
    assert brands_glued_apart(("сковорода", "антипригарнаятефаль")) == (
        "сковорода",
        "антипригарная",
        "тефаль",
    )
    assert brands_glued_apart(("тефальсковорода",)) == ("тефаль", "сковорода")
    assert brands_glued_apart(("самсунгтелефон",)) == ("самсунг", "телефон")
    assert brands_glued_apart(("электронова", "основа", "сковорода")) == (
        "электронова",
        "основа",
        "сковорода",
    )


def test_an_adjective_made_of_a_brand_is_read_as_the_brand() -> None:
    """Probe round 30: найковские кеды found no Nike (no index has the adjective), and
    самсунговский was only found by luck (cut as самсунг + овский). The word lists' spelling
    when the brand is in them, the word less its link and suffix otherwise; a known
    adjective, or an unknown one with no link, is left as it is."""
    listed = {
        "найковские": "найк",
        "пумовские": "пума",  # the brand's last letter dropped
        "тефалевская": "тефаль",
        "леговский": "лего",
        "леновский": "леново",
        "икеевское": "икеа",
        "нивеевский": "нивея",
        "сяомишный": "сяоми",  # -шн-
        "самсунговский": "самсунг",
    }
    for word, brand in listed.items():
        assert brand_adjective(word) == brand, word
        assert BRANDS[brand]
    assert brand_adjective("кетлеровские") == "кетлер"  # no list spelling: the stem
    assert brand_adjective("сберовская") == "сбер"
    for word in ("московский", "бесшумный", "детский", "дедский", "смешный", "женский"):
        assert brand_adjective(word) is None, word
    plan_words = rewritten_words(("найковские", "кеды"))
    assert plan_words == ("найк", "кеды")


def test_round_18_word_lists() -> None:
    """маунтинбайк, the English loan word typed as heard, is a горный велосипед (probe
    round 18: nothing was found)."""
    assert {"горный", "велосипед"} <= set(_words("маунтинбайк", []))


def test_a_slip_put_right_is_not_lemmatised_by_guessing() -> None:
    """кедды → кеды, фэн → фен: a spelling slip's correction is looked up by its
    dictionary lemmas, or as itself when pymorphy3 does not know it — never guessed, as a
    made-up compound is not (a 32-word gibberish query made 10 guesses more, one per slip:
    `test_building_a_long_gibberish_query_does_bounded_work`)."""
    slips = {a.word: a.guess for a in alternatives("кедды", ["кедды"])}
    assert slips["кеды"] is False
    forms = {form: guess for form, _, guess in word_forms("фэн", ["фэн"])}
    assert forms["фен"] is False and forms["фэн"] is True
    assert all(guess for form, _, guess in word_forms("лэптоп", []) if form == "ноутбук")


def test_a_numbers_case_ending_before_what_it_counts_is_dropped() -> None:
    """4х местная, 2-х местная (split at the hyphen), 3х спальное: the ending says nothing
    the digit does not (probe round 19: палатка 4х местная всесезонная recalled 2 of the
    5 four-place all-season tents). A size (2х20, 4х4) and a word that counts nothing keep
    theirs."""
    assert split_number_units(["палатка", "4х", "местная"]) == ("палатка", "4", "местная")
    assert split_number_units(["палатка", "2", "х", "местная"]) == ("палатка", "2", "местная")
    assert split_number_units(["3х", "спальное"]) == ("3", "спальное")
    assert split_number_units(["гантели", "2х20", "кг"]) == ("гантели", "2х20", "кг")
    assert split_number_units(["4х4"]) == ("4х4",)
    assert split_number_units(["2", "х", "20"]) == ("2", "х", "20")
    assert split_number_units(["5ти", "дверный"]) == ("5ти", "дверный")  # counts no stem


def test_a_size_said_without_a_number_is_optional() -> None:
    """большая, маленький: how big, which no product's text says (probe round 19: игрушка
    мягкая большая 60см needed большая in "all words" and fell to "any word", where 25-cm
    toys ranked among the 60-cm ones). велик is a bicycle, not pymorphy3's short form of
    большой."""
    for word in ("большая", "большой", "маленький", "небольшую", "огромные"):
        assert is_optional_word(word), word
    for word in ("велик", "велики", "мягкая", "малыш"):
        assert not is_optional_word(word), word
    assert query_roles(["игрушка", "мягкая", "большая", "60", "см"]).optional == frozenset({2})


def test_round_19_word_lists() -> None:
    """саб, the clipped сабвуфер (probe round 19: саундбар с беспроводным сабом)."""
    assert "сабвуфер" in _words("саб", ["саб"])
    assert "сабвуфер" in _words("сабом", ["саб"])


def test_a_number_with_its_unit_is_also_the_quantity_in_the_neighbouring_unit() -> None:
    """коврик для йоги 1 см: the catalogue writes a mat's thickness as 10 мм (probe round
    20: a 10-mm mat ranked 3rd, recall 2 of 10); робот пылесос 2,5 часа: run time is 150
    мин. Either is asked for, the typed pair or the converted one; whole numbers come out,
    and from the smaller unit hundredths (вода 500 мл: the titles' 0.5 л, blind probe round
    48); a decimal is one word (2,5 and 2.5 are 2.5), so 2 20 кг is two numbers."""
    assert converted_units(("коврик", "1", "см")) == ((1, 3, ("10", "мм")),)
    assert converted_units(("2.5", "ч")) == ((0, 2, ("150", "мин")),)
    assert converted_units(("300", "мм")) == ((0, 2, ("30", "см")),)
    assert converted_units(("1", "тб")) == ((0, 2, ("1000", "гб")),)
    assert converted_units(("1.5", "л")) == ((0, 2, ("1500", "мл")),)
    assert converted_units(("500", "мл")) == ((0, 2, ("0.5", "л")),)
    assert converted_units(("250", "г")) == ((0, 2, ("0.25", "кг")),)
    assert converted_units(("333", "мл")) == ()  # no hundredths of a litre
    assert converted_units(("512", "гб")) == ()
    assert converted_units(("2", "20", "кг")) == ((1, 3, ("20000", "г")),)
    assert converted_units(("см", "1")) == () and converted_units(("1",)) == ()
    words = tuple(split_number_units(query_words("робот пылесос 2,5 часа работы")))
    assert PhraseMatch(2, 4, (("150", "мин"),)) in phrase_matches(words)


def test_i_after_a_vowel_in_latin_letters_may_be_short_i() -> None:
    """chainik bosch: the informal spelling writes й as i as often as y (probe round 20:
    chainik spelt чаиник, no word, so the kettles were found only through the index's
    Latin forms and two coffee machines shared the first page). The spelling with и comes
    first and wins where the dictionary has it (герои)."""
    assert cyrillic_spellings("chainik") == ("чаиник", "чайник")
    assert cyrillic_spellings("maika") == ("маика", "майка")
    assert cyrillic_spellings("noutbuk") == ("ноутбук",)
    assert cyrillic_spellings("geroi")[0] == "герои"
    assert cyrillic_spellings("tv") == ()
    assert _words("chainik", [])["чайник"] == "synonym"
    assert _words("chaynik", [])["чайник"] == "synonym"  # y for й, as before


def test_latin_ya_after_a_consonant_may_be_ya_and_l_before_one_l_soft() -> None:
    """A sixth blind review: myasorubka, epilyator and multivarka found nothing (read as
    мьясорубка, эпильятор, мултиварка). After a consonant ya is я as often as ья (semya
    keeps семья first), and the informal spelling drops the soft sign after l."""
    assert cyrillic_spellings("semya")[0] == "семья"
    assert _words("myasorubka", [])["мясорубка"] == "synonym"
    assert _words("epilyator", [])["эпилятор"] == "synonym"
    # no dictionary has мультиварка: the index's names are asked for it (typed_shapes)
    assert "мультиварка" in cyrillic_spellings("multivarka")
    assert _words("palto", [])["пальто"] == "synonym"


def test_round_20_word_lists() -> None:
    """хард and hdd, a hard drive (the seed's Внешний жесткий диск BCD); кейборд, keyboard as
    typed in Cyrillic; датчик залива, a leak sensor's third common name (probe round 20:
    хард на 1 тб, датчик залива воды found nothing, кейборд игровой ranked a mouse first)."""
    assert {"жесткий", "диск"} <= set(_words("хард", ["хард"]))
    assert {"жесткий", "диск"} <= set(_words("hdd", []))
    assert "клавиатура" in _words("кейборд", ["кейборд"])
    words = ("датчик", "залива", "воды")
    assert phrase_matches(words)[0].meanings == (("датчик", "протечка"),)


def test_a_unit_is_also_its_latin_spelling_and_a_diagonal_in_cm_its_inches() -> None:
    """смартфон 5000 мач, телефон 120 гц: the seed catalogues write "5000 mAh" and "120Hz"
    (one word in the index); монитор 81 см, телевизор 140 см: the catalogues write the
    diagonal in inches, 32" and 55" (probe round 21: the 120-Hz phone and the 5000-mAh one
    ranked 3rd, monitors of 81/69 см 4th-5th with recall 0.2-0.4). Only from 50 см, and only
    when the whole inch is within 0.25": a pan of 28 см has no diagonal."""
    mah = (("5000", "mah"), ("5000mah",), ("5000мач",))  # and glued as typed (round 43)
    assert unit_readings(("смартфон", "5000", "мач")) == ((1, 3, mah),)
    assert unit_readings(("120", "hz")) == ((0, 2, (("120", "гц"), ("120гц",), ("120hz",))),)
    assert unit_readings(("65", "w")) == ((0, 2, (("65", "вт"), ("65вт",), ("65w",))),)
    # an inch said in words is the number alone: the titles' mark (55") is no word
    assert unit_readings(("телевизор", "55", "дюймов")) == ((1, 3, (("55",),)),)
    assert unit_readings(("6.7", "дюйма")) == ((0, 2, (("6.7",),)),)
    assert (
        1,
        3,
        (("1400", "мм"), ("140", "cm"), ("140cm",), ("55",), ("140см",)),
    ) in unit_readings(("телевизор", "140", "см"))
    assert ("32",) in unit_readings(("монитор", "81", "см"))[0][2]
    assert ("11",) not in unit_readings(("сковорода", "28", "см"))[0][2]  # below 50 см
    assert {("29",), ("30",)}.isdisjoint(unit_readings(("стол", "75", "см"))[0][2])  # 29.5"
    assert unit_readings(("2.5", "ч")) == ((0, 2, (("150", "мин"),)),)
    assert unit_readings(("робот", "5")) == () and unit_readings(("мач",)) == ()
    words = tuple(split_number_units(query_words("смартфон 5000мач")))
    assert PhraseMatch(1, 3, mah) in phrase_matches(words)


def test_a_diminutive_in_ochka_may_be_of_a_word_in_soft_sign() -> None:
    """коляска тросточка: a cane-folding stroller, трость (probe round 21: ranked 2nd, recall
    0.7); кисточка → кисть, косточка → кость, as лампочка → лампка stays a non-word the
    index lacks."""
    assert "трость" in diminutive_bases("тросточка")
    assert "кисть" in diminutive_bases("кисточка")
    assert "ложка" in diminutive_bases("ложечка")


def test_a_diminutive_in_ichka_is_of_an_a_noun_and_in_eshek_of_an_en_noun() -> None:
    """Blind probe round 40: водичка 5 литров ranked vodka's neighbours (-ичка read as
    -ка: водка), пельмешки found nothing."""
    assert diminutive_bases("водичка") == ["вода"]
    assert diminutive_bases("пельмешек") == ["пельмень"]
    assert diminutive_bases("ремешек") == ["ремень"]


def test_a_long_cyrillic_word_has_its_stem() -> None:
    """The stemmer's length limit is in bytes: at 40, a Cyrillic word of 20+ letters had
    no stem, in the index or the query (ультрапастеризованное, blind probe round 40)."""
    assert stems("ультрапастеризованное") == ("ультрапастеризова",)
    assert stems("воздухонепроницаемый")
    assert stems("а" * 41) == ()  # still no stem for a run of letters no word is


def test_a_prefix_typed_apart_before_its_word() -> None:
    """ультра пастеризованное: both parts are words of the grocery index (Always Ultra,
    пастеризованное), so the pair was never joined; a prefix typed apart is joined when
    the index has the whole."""
    assert prefix_typed_before("ультра", "пастеризованное")
    assert prefix_typed_before("электро", "самокат")
    assert not prefix_typed_before("молоко", "пастеризованное")
    assert not prefix_typed_before("ультра", "hd")


def test_bez_typed_apart_from_its_adjective_is_joined_back() -> None:
    """«без лактозное молоко»: лактозное cannot be без's genitive, so без is the
    adjective's prefix (безлактозное) — not the preposition, which left out every milk.
    бес before a voiceless consonant, whichever was typed."""
    assert lacking_prefix_joined(["без", "лактозное", "молоко"]) == ("безлактозное", "молоко")
    assert lacking_prefix_joined(["без", "проводные", "наушники"]) == ("беспроводные", "наушники")
    assert lacking_prefix_joined(["бес", "проводные"]) == ("беспроводные",)
    for words in (["чай", "без", "сахара"], ["без", "сахар"], ["без", "проводных"]):
        assert lacking_prefix_joined(words) == tuple(words)
    assert rewritten_words(["без", "лактозное", "молоко"]) == ("безлактозное", "молоко")


def test_two_words_glued_with_a_typo_are_cut_at_a_dictionary_word() -> None:
    """Blind probe round 43: гречкаядреца, зубнаяпста found nothing — no cut gives two
    words of the index, one part is misspelt. The cuts at a dictionary noun or adjective
    in the nominative, longest first; клав, под, кой are no such word."""
    assert glued_typo_cuts("гречкаядреца") == (("гречка", "ядреца"),)
    assert glued_typo_cuts("зубнаяпста")[0] == ("зубная", "пста")
    assert ("сыр", "мацарела") in glued_typo_cuts("сырмацарела")
    assert glued_typo_cuts("клавиатурв") == ()
    assert glued_typo_cuts("ноутбук") == ()  # too short to be two words


def test_a_latin_word_may_be_a_russian_name() -> None:
    """prostokvashino, miratorg: a Russian brand typed in Latin letters (round 43)."""
    assert cyrillic_names("prostokvashino") == ("простоквашино",)
    assert cyrillic_names("ноутбук") == () and cyrillic_names("abc") == ()


def test_diminutives_in_eek_and_aek() -> None:
    """кофеек, чаек (round 43); a base of three letters at least, so кедик → кед but not
    блик → бл."""
    assert diminutive_bases("кофеек") == ["кофе"]
    assert diminutive_bases("чаек") == ["чай"]
    assert diminutive_bases("кедик") == ["кед"] and diminutive_bases("блик") == []


def test_a_word_whose_base_would_have_no_vowel_is_no_diminutive() -> None:
    """печка, точка, бочка end as ложечка does, but пка, тка, бка are no words: the rule made
    them bases (a search for «печка» also looked for «пка»)."""
    for word in ("печка", "точка", "бочка", "дочка", "почка"):
        assert diminutive_bases(word) == [], word
    assert diminutive_bases("ложечка") == ["ложка"] and diminutive_bases("чаек") == ["чай"]


def test_a_compound_prefix_typed_after_its_word() -> None:
    """самокат электро глайд: электросамокат (probe round 21: e-books ranked first, on
    электро alone); both backends join it only where the index has the compound."""
    assert prefix_typed_after("самокат", "электро") == "электросамокат"
    assert prefix_typed_after("электро", "самокат") is None
    assert prefix_typed_after("tv", "смарт") is None and prefix_typed_after("кот", "аква") is None


def test_one_letter_said_by_its_name_after_a_latin_word_is_that_letter() -> None:
    """зубная щетка юсб си: USB-C, which the index has as usb and c (probe round 21: 6 of
    the first 10 charged by USB-C, си matching nothing); not before a number (эс 23 is the
    code s23) nor inside a run of letters (эй би си is abc), nor after a Russian word."""
    assert letters_said_apart(("щетка", "юсб", "си")) == ("щетка", "юсб", "c")
    assert letters_said_apart(("usb", "си")) == ("usb", "c")
    assert letters_said_apart(("samsung", "эс", "23")) == ("samsung", "s23")
    assert letters_said_apart(("смартфон", "эй", "би", "си")) == ("смартфон", "эйбиси")
    assert letters_said_apart(("колонка", "си")) == ("колонка", "си")
    assert letters_said_apart(("lenovo", "ай")) == ("lenovo", "ай")  # ай: also a word


def test_a_model_lines_english_sounds_are_spelt_as_english_writes_them() -> None:
    """Probe round 36 (marketplace titles): плейстейшен, мультиквик and the like found
    nothing; -ейшен is -ation, ей after a consonant ay, кв qu, a leading ай i, a final и
    after a consonant y. Each adds a spelling; a word with none of them gets none."""
    assert english_sound_spelling("плейстейшен") == "playstation"
    assert english_sound_spelling("плейстейшн") == "playstation"
    assert english_sound_spelling("эдишн") == "edition"
    assert english_sound_spelling("мультиквик") == "multiquic"  # an edit from multiquick
    assert english_sound_spelling("айдиапад") == "idiapad"
    assert english_sound_spelling("хэппи") == "happy"
    assert english_sound_spelling("райзен") == "ryzen"  # ай inside a word stays y
    assert english_sound_spelling("нова") is None
    assert "playstation" in [a.word for a in alternatives("плейстейшен")]


def test_a_silent_final_e_is_put_back_as_one_more_exact_spelling() -> None:
    """пульс про found nothing on the seed catalogues, кеды конверс listed other makers'
    кеды: Russian drops the e of Pulse, Converse, and says the vowel before it as its name
    (lime → лайм, home → хоум). A word ending in a vowel or shorter than four letters gets
    none, and the reading weighs less than the letters' own."""
    assert english_final_e("пульс") == "pulse"
    assert english_final_e("конверс") == "converse"
    assert english_final_e("лайм") == "lime"
    assert english_final_e("байк") == "bike"  # k before the e, where a final к is c
    assert english_final_e("хоум") == "home"
    assert english_final_e("кейс") == "case"
    assert english_final_e("тефаль") is None
    assert english_final_e("пума") is None
    assert english_final_e("кот") is None
    assert english_final_e("bike") is None
    found = {a.word: a for a in alternatives("пульс")}
    assert found["pulse"].weight < found["puls"].weight
    assert "converse" in [a.word for a in alternatives("конверсы", ["конверс"])]


def test_ire_and_a_said_in_cyrillic_are_spelt_as_english_writes_them() -> None:
    """мышка рапидфайр, игровая мышь рэпидфаир: RapidFire (probe round 22: 3rd on both
    backends — rapidfayr is three edits from rapidfire, past the fuzzy stage's two); -айр
    and its spellings are English -ire, э after a consonant the a of rapid. Only for a word
    pymorphy3 does not know (a Russian word keeps its letters)."""
    assert english_sound_spelling("рапидфайр") == "rapidfire"
    assert english_sound_spelling("рэпидфаир") == "rapidfire"
    assert english_sound_spelling("файер") == "fire"
    assert english_sound_spelling("самсунг") is None
    assert "rapidfire" in undeclined_latin_spellings("рэпидфаир")
    assert "rapidfire" in [a.word for a in alternatives("рапидфайр")]
    assert undeclined_latin_spellings("пэр") == ()  # a dictionary word: its letters only


def test_a_vowel_said_as_itself_ends_a_run_of_letters_names() -> None:
    """фитнес-трекер эм эн о: MNO (probe round 22: FitGo ranked first, о matching nothing);
    о, а, и alone are Russian words, so only after two letters' names."""
    assert letters_said_apart(("трекер", "эм", "эн", "о")) == ("трекер", "эмэноу")
    assert "mno" in spelt_out_letters("эмэноу")
    assert letters_said_apart(("часы", "эм", "о")) == ("часы", "эм", "о")
    assert letters_said_apart(("чай", "и", "кофе")) == ("чай", "и", "кофе")


def test_a_double_typed_once_is_the_word_lists_word() -> None:
    """коляска хепи бейби: Happy Baby (probe round 22: nothing found — хепи is a four-letter
    word, too short for an edit); a double said as one sound, for list words only."""
    assert short_word_slips("хепи") == ("хеппи",)
    assert "happy" in [a.word for a in alternatives("хепи")]
    assert short_word_slips("кофе") == ()


def test_below_50_cm_a_screens_size_is_its_inches() -> None:
    """смартфон экран 17 см (6.7"), электронная книга 15 см (6"), планшет 28 см (11"):
    probe round 22 ranked them 3rd-4th, or recalled 3 of 7. Only where a word names a
    screen: a pan or a toy of 28 см has no diagonal; the inch to a tenth when no whole
    inch is within 0.25", as phones are written."""
    assert ("6.7",) in unit_readings(("смартфон", "экран", "17", "см"))[0][2]
    assert ("6",) in unit_readings(("электронная", "книга", "15", "см"))[0][2]
    assert ("11",) in unit_readings(("планшет", "28", "см"))[0][2]
    assert ("11",) not in unit_readings(("сковорода", "28", "см"))[0][2]
    assert ("10",) not in unit_readings(("мягкая", "игрушка", "25", "см"))[0][2]
    assert ("55",) in unit_readings(("телевизор", "140", "см"))[0][2]


def test_round_22_word_lists() -> None:
    """ушки пульс про (slang for headphones: nothing found), галакси таб самсунг (tab, the
    tablet lines' word: 4th), хепи бейби (the spelling of baby with ей)."""
    assert "наушник" in [a.word for a in alternatives("ушки")]
    assert "планшет" in [a.word for a in alternatives("таб")]
    assert "baby" in [a.word for a in alternatives("бейби")]


def test_a_name_said_as_two_words_is_joined_in_any_word_too() -> None:
    """мышка рапид фаер, ридер бук лайт, эир бит наушники: RapidFire, BookLight, AirBeat
    (probe round 23: 3rd-4th on both backends). The other word (мышка) matches, so "any
    word" answers and the fuzzy stage, which joined the pair, never ran; "any word" joins
    them too now. A function word is still never joined."""
    from vitrina.search.query_plan import plan_query

    assert "рапидфаер" in plan_query(("мышка", "рапид", "фаер"), "or").joined
    assert "буклайт" in plan_query(("ридер", "бук", "лайт"), "or").joined
    assert plan_query(("мышка", "рапид", "фаер"), "and").joined == ()
    assert plan_query(("мышь", "для", "ноутбука"), "or").joined == ()


def test_english_one_and_air_as_russian_writes_them() -> None:
    """часы пульс ван: PulseOne (probe round 23: 2nd; умные часы пульс ван 6th since round
    21): a final -ван after a name is one; эир (эйр without й) is air (эир бит → airbit,
    two edits from AirBeat); a joined pair is also spelt as English sounds (рапидфаер →
    rapidfire). диван and ван alone keep their letters."""
    assert english_sound_spelling("пульсван") == "pulsone"
    assert english_sound_spelling("диван") is None
    assert english_sound_spelling("ван") is None
    assert "pulsone" in name_spellings("пульсван")
    assert "rapidfire" in name_spellings("рапидфаер")
    assert transliterate_english("эирбит") == "airbit"


def test_a_colours_typo_is_the_one_nearest_colour() -> None:
    """джынсы прямые сирые, фен для волос чорнвй (probe round 24: 2 of 10 grey jeans, a
    black dryer 2nd): colours are an edit or two apart (серые, синие), so the fuzzy stage
    found the wrong one or never ran. One colour nearer than every other is taken; a
    dictionary word only when it reads as an adjective (белье, one edit from белые, is
    linen); a colour itself is left alone."""
    assert misspelt_colour("сирые", adjective=True) == "серый"
    assert misspelt_colour("чорнвй") == "черный"
    assert misspelt_colour("бклые") == "белый"
    assert misspelt_colour("белье") is None
    assert misspelt_colour("сирые") is None  # a dictionary word read as no adjective
    assert misspelt_colour("черные") is None
    assert misspelt_colour("синие") is None
    assert "серый" in [a.word for a in alternatives("сирые", ["сирый"])]


def test_a_noun_in_ka_stands_for_its_adjective() -> None:
    """палатка всесезонка (probe round 24: 2nd, 6 of 10), демисезонка: the
    shop's word for the goods is the adjective's stem with -ка; only for words the
    dictionary lacks (колонка is no колонный) and adjectives it has. полуторка is 1.5-bed
    linen, as полуторное is."""
    assert ka_adjective("всесезонка") == "всесезонный"
    assert ka_adjective("демисезонку") == "демисезонный"
    assert ka_adjective("колонка") is None
    assert ka_adjective("футболка") is None
    assert "всесезонный" in [a.word for a in alternatives("всесезонка")]
    assert split_number_units(("белье", "полуторка")) == ("белье", "1.5")


def test_round_24_sounds_units_and_case_endings() -> None:
    """пульс уан часы (PulseOne 2nd), ноутбук на райзене (2nd, 4 of 10), телефон 256 гигов
    (6th): уан is one as ван is; ай before a consonant is English y (but -айт is -ight); a
    Cyrillic name's case ending is dropped for its Latin spelling; гиг and кило are the
    units said."""
    assert english_sound_spelling("пульсуан") == "pulsone"
    assert english_sound_spelling("райзен") == "ryzen"
    assert english_sound_spelling("дайсон") == "dyson"
    assert english_sound_spelling("лайтифай") is None
    assert "ryzen" in declined_name_spellings("райзене")
    assert split_number_units(("телефон", "256", "гигов")) == ("телефон", "256", "гб")
    assert split_number_units(("гантели", "5", "кило")) == ("гантели", "5", "кг")


def test_round_24_word_lists() -> None:
    """бт мышь (Bluetooth mice 2nd, 3 of 10), ибук (nothing), художка эксмо (9 of 10 novels),
    колонка для телевизора (no soundbar in the ten)."""
    assert "bluetooth" in [a.word for a in alternatives("бт")]
    assert "книга" in [a.word for a in alternatives("ибук")]
    assert "роман" in [a.word for a in alternatives("художка")]
    assert ("саундбар",) in PHRASE_SYNONYMS[("колонка", "для", "телевизор")]


def test_a_swap_the_dictionary_undoes_is_looked_for_in_all_words() -> None:
    """кдеы пума черные (round 22's miss: a grey pair first, серые being two edits from
    черные in the fuzzy stage, the only one that tried swaps): кеды is an alternative now.
    A dictionary word, or one whose swaps are no words, gets none."""
    assert swapped_dictionary_words("кдеы") == ("кеды",)
    assert "кеды" in [a.word for a in alternatives("кдеы")]
    assert swapped_dictionary_words("кеды") == ()
    assert swapped_dictionary_words("фитгоу") == ()


def test_a_glued_names_english_sounds_are_fuzzy_matched_too() -> None:
    """смарт часы пульсван (6th since round 18), электронная книжка букслайт (3rd since
    round 21): the word's fuzzy match met only its letters (pulsvan, bucslight), three
    edits and more from PulseOne and BookLight; its English sounds are looked for too —
    -ван is one, у between consonants oo, and к after it k (bookslight: one edit). A
    dictionary word is no name and keeps its letters only."""
    assert "pulsone" in english_spellings("пульсван")
    assert "bookslight" in english_spellings("букслайт")
    assert english_spellings("ноутбук") == ["noutbuc"]
    assert english_spellings("альфа") == ["alfa", "alpha"]


def test_zhi_shi_typed_as_heard_is_spelt_by_the_rule() -> None:
    """джынсы прямые сирые (probe round 24: 7 of 10 grey pairs — all words failed on джынсы,
    a six-letter word with one edit left for the fuzzy stage): жы, шы, чя, щя, чю, щю, the
    commonest Russian misspelling, are spelt as the rule has them where that gives a known
    word; a word as typed that is one (мыши) stays."""
    assert hushing_spelt_right("джынсы") == ("джинсы",)
    assert hushing_spelt_right("мякишы") == ("мякиши",)  # a brand of the word lists
    assert hushing_spelt_right("чяйник") == ("чайник",)
    assert hushing_spelt_right("мыши") == ()
    assert "джинсы" in [a.word for a in alternatives("джынсы")]


def test_a_voiced_consonant_typed_as_heard_is_spelt_voiced() -> None:
    """Stop 67 (a seventeenth blind review: тетрать found Tetra fish food, no exercise
    book): a voiceless consonant at a word's end or before a voiceless one is tried voiced,
    where that gives a known word and the typed one is none; a known word stays as typed
    (лотка is лоток's, not a лодка)."""
    assert voiced_spelt_right("тетрать") == ("тетрадь",)
    assert voiced_spelt_right("лошка") == ("ложка",)
    assert voiced_spelt_right("коропка") == ("коробка",)
    assert voiced_spelt_right("утюк") == ("утюг",)
    assert voiced_spelt_right("лотка") == ()
    assert voiced_spelt_right("рюкзак") == ()
    assert "тетрадь" in [a.word for a in alternatives("тетрать")]


def test_a_word_of_two_scripts_is_read_in_the_one_its_letters_look_like() -> None:
    """Latin look-alikes in a Russian word (нoутбук), a Latin capital lower-cased (Hаушники
    → hаушники), Cyrillic ones in a Latin brand (sаmsung); a Latin name glued to Russian
    letters is left for the glued-name rules: a case ending (xboxа), a run that starts the
    word (abcсмарт), letters with no twin (jblколонка), a model code with digits (а31)."""
    assert one_script("нoутбук") == "ноутбук"
    assert one_script("cкoвoрoдa") == "сковорода"
    assert one_script("hаушники") == "наушники"
    assert one_script("сaмсунг") == "самсунг"  # a brand the word lists know
    # a run of Latin look-alikes that starts a word the lists know (no dictionary word):
    # left mixed, it was found by nothing but the fuzzy stage
    assert one_script("caундбар") == "саундбар"
    assert one_script("caундбара") == "саундбара"
    assert one_script("sаmsung") == "samsung"
    assert one_script("lеnovo") == "lenovo"
    assert one_script_words(("нoутбук", "леново")) == ("ноутбук", "леново")
    for word in ("ноутбук", "samsung", "xboxа", "abcсмарт", "jblколонка", "а31", "iphoneе"):
        assert one_script(word) is None, word


def test_a_number_said_in_words_keeps_its_words_as_the_meaning_of_its_digits() -> None:
    """пятьдесят оттенков серого is read as 50 оттенков серого, and the plan looks for
    «пятьдесят» too, as typed: a title says its number in words. A number a later rewrite
    consumed (a price bound) adds no phrase; without understanding, none."""
    words = ("пятьдесят", "оттенков", "серого")
    said = said_in_words(words)
    assert said == (("50", ("пятьдесят",)),)
    plan = plan_query(rewritten_words(words), "and", said=said)
    assert plan.phrases == (PhraseMatch(0, 1, (("пятьдесят",),), as_typed=True),)
    assert typed_words(plan, plan.phrases[0]) == ("пятьдесят",)
    assert plan.phrases[0].weight == 1.0 > PhraseMatch(0, 1, ()).weight
    assert said_in_words(("кеды", "сорок", "второго", "размера")) == (("42", ("сорок", "второго")),)
    assert plan_query(rewritten_words(words), "and", understanding=False, said=said).phrases == ()
    price_said = (("20000", ("двадцати", "тысяч")),)  # до двадцати тысяч: a price filter now
    assert plan_query(("смартфон",), "and", said=price_said).phrases == ()


def test_a_number_said_in_words_is_read_as_digits_beside_what_it_counts() -> None:
    """Hundreds, tens, units or teens, an ordinal last, тысяча between (две тысячи пятьсот);
    only beside a unit, a counted word or a price word — a title's number (три товарища,
    тысяча и одна ночь, Сорок первый alone: it was read as size 41 and found shoes), one
    alone and an ordinal under twenty alone stay words."""
    said = numbers_said_in_words
    assert said(("кеды", "сорок", "второго", "размера")) == ("кеды", "42", "размера")
    assert said(("монитор", "двадцать", "семь", "дюймов")) == ("монитор", "27", "дюймов")
    assert said(("до", "двадцати", "пяти", "тысяч")) == ("до", "25000")
    assert said(("две", "тысячи", "пятьсот", "рублей")) == ("2500", "рублей")
    assert said(("тысяча", "пятьсот", "ватт")) == ("1500", "ватт")
    assert said(("пятьсот", "двенадцать", "страниц")) == ("512", "страниц")
    assert said(("на", "три", "человека")) == ("на", "3", "человека")
    assert said(("кроссовки", "сорок", "третий")) == ("кроссовки", "43")  # a size's ordinal
    assert said(("двадцать", "одна", "скорость")) == ("21", "скорость")
    for kept in (
        ("три", "товарища"),
        ("тысяча", "и", "одна", "ночь"),
        ("второго",),
        ("одна", "пара"),
        ("сорок", "первый"),  # a whole query that is an ordinal: a title, no size of anything
    ):
        assert said(kept) == kept
    assert split_number_units(("сорок", "второго", "размера")) == ("42", "размера")
    assert split_number_units(("фен", "две", "тысячи", "ватт")) == ("фен", "2000", "вт")


def test_a_glued_latin_word_is_also_cut_in_two_for_the_whole_brand_key() -> None:
    """gloriajins is three edits from the key «gloria jeans» (the space, i → e, a), two
    from its cut «gloria jins»; parts of three letters at least, words typed in Latin of
    seven letters or more (a Cyrillic typo's transliterations are not cut)."""
    cuts = brand_cuts("gloriajins")
    assert "gloria jins" in cuts
    assert "gl oriajins" not in cuts and "gloriaji ns" not in cuts
    assert brand_cuts("bosch") == [] and brand_cuts("глориаджинс") == []


def test_a_model_code_said_aloud_is_its_letter_and_number() -> None:
    """Blind probe round 47 (voice): a letter's name, then a number in words, is a model code
    (си шестьдесят пять → c65); after a brand's letters the last name starts the code (джей
    би эл ти пять → JBL T5). A letter's name that is a Russian word makes none (6 ар)."""
    assert rewritten_words(("торнео", "си", "шестьдесят", "пять")) == ("торнео", "c65")
    assert rewritten_words(("делонги", "эм", "сорок", "пять")) == ("делонги", "m45")
    assert rewritten_words(("джей", "би", "эл", "ти", "пять", "макс")) == (
        "джейбиэл",
        "t5",
        "макс",
    )
    assert rewritten_words(("эм", "эн", "о", "5")) == ("эмэноу", "5")  # no brand split off
    assert rewritten_words(("участок", "шесть", "ар")) == ("участок", "шесть", "ар")


def test_a_number_and_a_half_and_a_number_said_last_are_digits() -> None:
    """два с половиной килограмма → 2.5 кг (typed in digits too); пиво балтика семь → 7, the
    words still looked for (a title may say them); полторы тысячи stays 1500, and a number
    said alone (три) or after another number stays words."""
    assert rewritten_words(("гантель", "два", "с", "половиной", "килограмма")) == (
        "гантель",
        "2.5",
        "кг",
    )
    assert rewritten_words(("гантель", "2", "с", "половиной", "кг")) == ("гантель", "2.5", "кг")
    assert said_in_words(("гантель", "2", "с", "половиной", "кг")) == ()
    assert rewritten_words(("пиво", "балтика", "семь")) == ("пиво", "балтика", "7")
    assert said_in_words(("пиво", "балтика", "семь")) == (("7", ("семь",)),)
    assert rewritten_words(("полторы", "тысячи")) == ("1500",)
    assert numbers_said_in_words(("три",)) == ("три",)
    assert numbers_said_in_words(("сорок", "первый")) == ("сорок", "первый")


def test_a_prefix_typed_apart_is_read_as_its_compound_unless_a_brand_follows() -> None:
    """электро чайник → электрочайник (электрический чайник); not before a brand, typed
    right or a letter off (часы смарт самсунк: умные часы Samsung)."""
    assert prefix_meant_joined("электро", "чайник") == "электрочайник"
    assert prefix_meant_joined("смарт", "часы") == "смартчасы"
    assert prefix_meant_joined("смарт", "самсунг") is None
    assert prefix_meant_joined("смарт", "самсунк") is None
    assert prefix_meant_joined("аудио", "колонка") is None  # no adjective: its base is looked for
    assert ("умный", "часы") in compound_meanings("смартчасики")  # the base's synonym


def test_a_request_to_a_voice_assistant_is_optional_words() -> None:
    """а есть у вас подгузники, окей покажи мне наушники: the request's words only add."""
    for word in ("есть", "вас", "окей", "покажи", "покажите", "посмотреть"):
        assert is_optional_word(word), word
    assert spelt_out_letters("элджи") == ("lg",) and spelt_out_letters("эйчпи") == ("hp",)


def test_what_follows_ne_or_krome_after_a_product_word_is_left_out() -> None:
    """Blind probe round 49: «смартфон кроме самсунга», «наушники не sony» listed what they
    excluded first. After a word of the product, не, кроме, исключая leave out what follows,
    as без does; не before any product word (не дорогой ноутбук) leaves out nothing."""
    assert query_roles(("смартфон", "кроме", "самсунга")).absent == {2}
    assert query_roles(("наушники", "беспроводные", "не", "sony")).absent == {3}
    assert query_roles(("планшет", "xiaomi", "но", "не", "lite")).absent == {4}
    assert query_roles(("не", "дорогой", "ноутбук")).absent == frozenset()
    # не before a verb: what the product does not do, or a title's words
    assert query_roles(("книга", "не", "отпускай", "меня")).absent == frozenset()
    assert query_roles(("чайник", "не", "шумит")).absent == frozenset()
    assert query_roles(("молоко", "без", "лактозы")).absent == {2}


def test_a_left_out_brand_is_left_out_in_its_latin_spellings_not_its_synonyms() -> None:
    assert "samsung" in excluded_spellings("самсунга")
    assert "nike" in excluded_spellings("найк")
    assert excluded_spellings("памперс")[0] == "памперс"
    assert "подгузник" not in excluded_spellings("памперс")  # подгузники не памперс
    assert excluded_spellings("sony")[0] == "sony"  # and its Cyrillic spellings (соны)


def test_a_word_that_leaves_out_is_never_a_compound_part() -> None:
    """смартфон не abc was read as смартфонне (stemmed as смартфон), and abc came back."""
    assert not may_be_one_word("смартфон", "не")
    assert not may_be_one_word("не", "abc") and not may_be_one_word("кроме", "самсунга")
    assert may_be_one_word("под", "солнечное")  # other function words may be parts


def test_what_a_product_lacks_may_be_an_adjective_in_ne() -> None:
    """вода без газа: the title says негазированная."""
    assert negated_adjective_start("газа") == "негаз"
    assert negated_adjective_start("5") is None and negated_adjective_start("gas") is None


def test_a_pack_noun_does_not_weigh_a_maker_down() -> None:
    """набор лего: «набор» says how many, not what; lego keeps its weight (blind probe round
    50: sets of garden tools ranked first). смартфон самсунг still weighs the maker less."""
    assert query_roles(("набор", "lego")).makers == frozenset()
    assert query_roles(("комплект", "bosch")).makers == frozenset()
    assert query_roles(("смартфон", "самсунг")).makers == {1}


def test_who_a_product_is_for_as_shoppers_name_them() -> None:
    assert SYNONYMS["кот"] == ("кошка",) and SYNONYMS["геймер"] == ("игровой",)


def test_a_number_said_as_its_noun_last_after_a_name_is_its_digits() -> None:
    """балтика семерка → балтика 7 (blind probe round 51); the noun is still looked for, and
    alone or after a number it stays a word."""
    assert rewritten_words(("балтика", "семерка")) == ("балтика", "7")
    assert said_in_words(("айфон", "десятку")) == (("10", ("десятку",)),)
    assert rewritten_words(("тройка",)) == ("тройка",)
    assert rewritten_words(("5", "тройка")) == ("5", "тройка")
    assert rewritten_words(("тройка", "костюм")) == ("тройка", "костюм")


def test_a_thing_that_works_by_itself_is_a_robot() -> None:
    """штука которая сама моет пол: штука only adds, сама is a robot or automatic."""
    assert is_optional_word("штука") and is_optional_word("вещь")
    assert SYNONYMS["сам"] == ("робот", "автоматический")


def test_a_swap_the_stemmer_cuts_to_a_function_word_is_left_out() -> None:
    """дома → доам is stemmed до, and found «(до 5 кг)» for «варить кофе дома»."""
    assert "доам" not in swapped_neighbours("дома")
    assert "фен" in swapped_neighbours("фне") and "роман" in swapped_neighbours("роамн")


def test_a_task_verb_is_not_a_typo_target() -> None:
    """считать is one edit from читать (→ книга): task verbs are no misspellings' targets."""
    assert SYNONYMS["гладить"] == ("утюг",)
    assert misspelt_word("считать") is None


def test_a_list_of_what_is_left_out_and_where_it_ends() -> None:
    """Blind probe round 53: «кроме сони и jbl» leaves out both; без and кроме govern a
    genitive, so a word in no genitive after it is the product's again (хлебцы без глютена
    доктор корнер); не leaves out one word or a list."""

    def left_out(query: str) -> list[str]:
        words = tuple(query.split())
        return [words[i] for i in sorted(query_roles(words).absent)]

    assert left_out("портативная колонка кроме сони и jbl купить") == ["сони", "jbl"]
    assert left_out("молоко без сахара и лактозы") == ["сахара", "лактозы"]
    assert left_out("хлебцы без глютена доктор корнер") == ["глютена"]
    assert left_out("клавиатура без красной подсветки") == ["красной", "подсветки"]
    assert left_out("сок не яблочный добрый") == ["яблочный"]


def test_a_left_out_brand_is_left_out_in_the_other_script_too() -> None:
    assert "ламбер" in excluded_spellings("lamber")  # the title writes Ламбер
    assert "brighthome" in excluded_spellings("брайтхом")


def test_half_a_unit_and_grams_are_the_titles_numbers() -> None:
    """боржоми пол-литра → 0.5 л; полкило → 0.5 кг; 500 грамм → 500 г (then 0.5 кг);
    пятипроцентный → 5, процент and процентный only adding (the titles write 5%)."""
    assert split_number_units(("боржоми", "пол", "литра")) == ("боржоми", "0.5", "л")
    assert split_number_units(("полкило", "сахара")) == ("0.5", "кг", "сахара")
    assert split_number_units(("пол",)) == ("пол",) and split_number_units(("полы",)) == ("полы",)
    assert split_number_units(("полчаса",)) == ("полчаса",)
    assert split_number_units(("500", "грамм")) == ("500", "г")
    assert split_number_units(("творожок", "пятипроцентный")) == ("творожок", "5", "процентный")
    assert is_optional_word("процентный") and is_optional_word("процента")


def test_russian_names_in_latin_letters_read_x_ci_and_j_the_other_way_too() -> None:
    """yandex → яндекс, stanciya → станция, borjomi → боржоми (blind probe round 54)."""
    assert "яндекс" in cyrillic_spellings("yandex")
    assert "станция" in cyrillic_spellings("stanciya")
    assert "боржоми" in cyrillic_spellings("borjomi")
    assert cyrillic_spellings("noutbuk") == ("ноутбук",)


def test_latin_words_and_a_latin_word_with_a_number_may_be_one_name() -> None:
    assert joinable("air", "pods") and joinable("mach", "3") and joinable("m", "89")
    assert not joinable("ноут", "3")


def test_diminutives_in_ochko_and_ozhok() -> None:
    assert diminutive_bases("молочко") == ["молоко"] and diminutive_bases("творожок") == ["творог"]
    assert compound_meanings("энергонапиток") == [("энергетический", "напиток")]


def test_a_class_of_products_is_looked_for_as_the_kinds_it_covers() -> None:
    """Blind probe round 55: a shopper who browses names a class no title says (крупы,
    кухонная техника, элементы питания); each kind it covers is a meaning of its own."""
    assert "гречка" in SYNONYMS["крупа"] and "электросамокат" in SYNONYMS["электротранспорт"]
    assert ("чайник",) in _meanings("кухонная техника")[0]
    assert ("батарейка",) in _meanings("элементы питания")[0]
    assert ("куртка",) in _meanings("одежда верхняя")[0]  # in any word order
    assert ("чайник",) in _meanings("мелкая бытовая техника")[0]
    assert "дрель" in SYNONYMS["электроинструмент"] and "мука" in SYNONYMS["бакалея"]
    # every class word is a lemma the query's word is read as: else it is never met
    for word in CLASS_WORDS:
        assert word in lemmas(word), word


def test_the_whole_of_a_maker_s_range_is_no_word_a_product_must_have() -> None:
    """всё от сони listed «Ariel Pods Все-в-1» first: все, товары, продукция only add."""
    assert all(is_optional_word(w) for w in ("все", "весь", "товары", "продукцию"))
    assert not is_optional_word("сони")


def test_unstressed_vowels_typed_as_heard_are_turned_back() -> None:
    """о/а and е/и sound alike unstressed: the fewest turned back that make one dictionary
    word; not in a short word (лего is no лига), nor in a word the dictionary has."""
    assert vowels_as_heard("термас") == ("термос",)
    assert vowels_as_heard("утиплитель") == ("утеплитель",)
    assert vowels_as_heard("малако") == ("молоко",)  # two turned in a longer word
    # three in a word of ten letters or more, and a soft sign left out with them
    assert vowels_as_heard("газанакасилка") == ("газонокосилка",)
    assert vowels_as_heard("халадилник") == ("холодильник",)
    assert vowels_as_heard("лего") == ()
    assert vowels_as_heard("самсонайт") == ()
    # Kotanyi typed in Cyrillic: катаньи is only a rare form of катание (roller skates)
    assert vowels_as_heard("котаньи") == ()
    assert vowels_as_heard("плайки") == ("плойки",)  # для плайки: the genitive is typed
    assert swapped_dictionary_words("термас") == ("термос",)  # before a key slip (термам)
    assert swapped_dictionary_words("молоко") == ()


def test_a_dictionary_noun_is_split_only_before_a_long_ending() -> None:
    """A tenth blind review: раковина (the index had none) was read as рако + вина, and
    «раковина кухонная» listed record players. A word the dictionary has as a noun keeps
    endings of five letters or more (газонокосилка → косилка)."""
    assert compound_endings("раковина") == []
    assert compound_endings("сковорода") == []
    assert compound_endings("газонокосилка")[0] == "косилка"
    assert compound_endings("радиомышь") == ["мышь"]  # no dictionary word: four letters do


def test_latin_ts_may_be_t_and_s() -> None:
    """molokootsos found nothing (ts read only as ц: молокооцос); detskiy is детский."""
    assert "молокоотсос" in cyrillic_spellings("molokootsos")
    assert "детский" in cyrillic_spellings("detskiy")
    assert "станция" in cyrillic_spellings("stanciya")  # c stays ц


def test_a_slip_of_a_listed_word_is_searched_as_that_word_too() -> None:
    """A thirteenth blind review: a slip (a double typed once, е for и) that makes a word of
    the lists gave only what that word lists, not the word: «пуховек женский» ranked a
    jacket (пуховик → куртка) above the puffer, «кросовка» found кроссовок, not кроссовка."""
    sneaker = _words("кросовка", list(lemmas("кросовка")))
    assert sneaker.get("кроссовка") == "synonym", sneaker
    puffer = _words("пуховек", list(lemmas("пуховек")))
    assert puffer.get("пуховик") == "synonym", puffer
    # the typed word and its lemmas are never their own alternatives
    assert "кросовка" not in sneaker


def test_a_soft_stem_diminutive_in_ka_is_its_noun() -> None:
    """«дрельку» ranked insoles (стельки) above every drill: -ька of a noun in -ь."""
    assert diminutive_bases("дрелька") == ["дрель"]
    assert diminutive_bases("тетрадька") == ["тетрадь"]
    assert diminutive_bases("полька") == []  # поль is no noun


def test_a_diminutive_in_echka_of_a_noun_in_ka_with_a_soft_sign() -> None:
    """Stop 67 (a seventeenth blind review: «стелечки» ranked sunflower oil, «Золотая
    семечка», above the insoles): -ечка of a noun in -ька is that noun, not -ка alone."""
    assert "стелька" in diminutive_bases("стелечка")
    assert "стелька" in [a.word for a in alternatives("стелечка")]
    assert "тарелька" not in diminutive_bases("тарелочка")


def test_a_russian_word_typed_in_latin_brings_what_it_lists() -> None:
    """spalnik found nothing: спальник was read, but not what it lists (спальный мешок)."""
    assert _words("spalnik", [])["спальный"] == "synonym"
    assert _words("nout", [])["ноутбук"] == "synonym"


def test_a_russian_word_in_latin_letters_has_cyrillic_spellings_for_the_typo_stage() -> None:
    """A twenty-sixth blind review: kastrulya found nothing — its Cyrillic spelling каструля
    is one edit from кастрюля, and only exact spellings were looked for. A Latin word that
    reads as Russian (ya, zh, kh, sh, ch, ts …) brings two Cyrillic spellings to the typo
    stage; an English word does not (electric → электрик is two edits from every
    электрический: the judged «electric scooter» fell to 4th)."""
    from vitrina.search.transliteration import fuzzy_cyrillic_spellings

    assert "каструля" in fuzzy_cyrillic_spellings("kastrulya")
    assert fuzzy_cyrillic_spellings("chainik")
    assert fuzzy_cyrillic_spellings("electric") == ()
    assert fuzzy_cyrillic_spellings("scooter") == ()
    assert fuzzy_cyrillic_spellings("кастрюля") == ()
