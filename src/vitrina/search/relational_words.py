"""Relational adjectives and their nouns, both ways: a material or property the catalogues
write as the noun ("Материал: шерсть") and the shopper as the adjective (шерстяная куртка),
and a purpose the shopper writes as the noun («мышь для игр») where the name has the
adjective (Игровая мышь). Pure functions over lemmas, for `query_understanding`.
"""

from __future__ import annotations

from functools import lru_cache

from vitrina.search.analysis import is_common_noun_lemma, is_dictionary_word
from vitrina.search.transliteration import is_cyrillic

# A relative adjective is its noun and a suffix (шерст|ян|ой, кож|ан|ый, сатин|ов|ый,
# алюмини|ев|ый, текстиль|н|ый): a material or property the catalogues write as the noun
# ("Материал: шерсть"), the shopper as the adjective (шерстяная куртка). Longest first.
RELATIVE_SUFFIXES = ("янн", "анн", "ян", "ан", "ев", "ов", "н")  # деревянный: дерев|янн|ый
ADJECTIVE_ENDINGS = ("ый", "ий", "ой")
MIN_ADJECTIVE_NOUN = 3  # кож(а), лен: shorter stumps (ум from умный) are no noun
ADJECTIVE_NOUN_WEIGHT = 0.8


# A noun's relational adjective in -овой/-овый (игра → игровой, бег → беговой, сад →
# садовый): «мышь для игр» is an «игровая мышь». Only adjectives pymorphy3's dictionary
# has, so a made-up one (чайниковый) costs a dictionary check and no clause.
NOUN_ADJECTIVE_ENDINGS = ("овой", "овый")
SOFT_NOUN_ADJECTIVE_ENDINGS = ("евой", "евый")  # гель → гелевый, чай → чаевой
MIN_NOUN_FOR_ADJECTIVE = 3  # шар, бег: a shorter noun's -овый is rarely its adjective
# A long noun's adjective is taken even when the dictionary lacks it: materials and
# substances are made into adjectives freely (силикагель → «Наполнитель силикагелевый»,
# which a blind review's «силикагель» did not find); a made-up one costs one term lookup.
MIN_NOUN_FOR_UNLISTED_ADJECTIVE = 8


@lru_cache(maxsize=65_536)
def noun_adjectives(lemma: str) -> tuple[str, ...]:
    """The relational adjectives in -овой/-овый (-евой/-евый after a soft consonant) of a
    noun lemma (игра → игровой, бег → беговой, гель → гелевый): those pymorphy3 knows, and
    for a long dictionary noun any (силикагель → силикагелевый); none for an adjective."""
    if not is_cyrillic(lemma) or lemma.endswith(ADJECTIVE_ENDINGS) or len(lemma) > 20:
        return ()
    soft = lemma[-1] in "ьй"
    stem = lemma[:-1] if lemma[-1] in "аяоеьй" else lemma
    if len(stem) < MIN_NOUN_FOR_ADJECTIVE:
        return ()
    made = [stem + e for e in (SOFT_NOUN_ADJECTIVE_ENDINGS if soft else NOUN_ADJECTIVE_ENDINGS)]
    if len(lemma) >= MIN_NOUN_FOR_UNLISTED_ADJECTIVE and is_common_noun_lemma(lemma):
        return tuple(made)
    return tuple(a for a in made if is_dictionary_word(a))


def adjective_nouns(lemma: str) -> tuple[str, ...]:
    """The nouns a relative adjective (as its dictionary lemma) is made from: шерстяной →
    шерст (шерсть), кожаный → кож (кожа), льняной → лен (лён: a dropped vowel comes back),
    хлопковый → хлопк, хлопок, алюминиевый → алюминий. Stems, as the index joins forms; a
    stump the index lacks matches nothing."""
    if not is_cyrillic(lemma) or not lemma.endswith(ADJECTIVE_ENDINGS):
        return ()
    base = lemma[:-2]
    suffix = next((s for s in RELATIVE_SUFFIXES if base.endswith(s)), None)
    if suffix is None:
        return ()
    stem = base[: -len(suffix)]
    if len(stem) < MIN_ADJECTIVE_NOUN:
        return ()
    found = [stem]
    if len(stem) >= 2 and stem[-2] == "ь":  # льн → лен
        found.append(stem[:-2] + "е" + stem[-1])
    elif len(stem) >= 2 and stem[-1] in "кн" and stem[-2] not in "аеиоуыэюяь":  # хлопк
        found.append(stem[:-1] + "о" + stem[-1])
    if stem.endswith("и"):  # алюмини → алюминий
        found.append(stem + "й")
    return tuple(n for n in dict.fromkeys(found) if len(n) >= MIN_ADJECTIVE_NOUN)
