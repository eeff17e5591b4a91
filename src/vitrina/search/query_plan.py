"""One plan of a text query for both backends: what each word is asked for in a stage, how
much it weighs, which words are optional or must be absent, which phrases fold into one
clause, which adjacent words the fuzzy stage joins — and how those pieces make one query.

Both backends build their query from this plan (`assemble`); each only translates it into
its own clauses through a small `Clauses` adapter (`tantivy_query`: tantivy.Query objects,
probed term by term against the index; `opensearch_query`: query DSL dicts, within the
cluster's term budget). A rule of assembly written here holds on both: written twice, once
per backend, the two drifted apart whenever one was changed and the other forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from vitrina.domain.search_document import LACKING_PREFIX
from vitrina.search.analysis import stems
from vitrina.search.lookalikes import one_script_words
from vitrina.search.model_codes import (
    CODE_SUFFIX_PATTERN,
    GLUED_DIGITS_PATTERN,
    adjacent_words_joined,
    bare_latin_words,
    cut_codes,
)
from vitrina.search.number_units import (
    GLUED_LETTERS_PATTERN,
    bare_numbers,
    said_numbers,
    split_number_units,
)
from vitrina.search.phrases import (
    PhraseMatch,
    phrase_matches,
)
from vitrina.search.query_roles import (
    MAKER_WEIGHT,
    PURPOSE_WEIGHT,
    lacking_prefix_joined,
    query_roles,
    with_lacking_prefix,
)
from vitrina.search.query_understanding import (
    excluded_spellings,
    joined_dictionary_words,
)
from vitrina.search.transliteration import is_cyrillic
from vitrina.search.typed_shapes import brand_adjectives, brands_glued_apart, letters_said_apart

# What a stage asks of one word: the word or its alternatives ("word"); that, or its fuzzy
# clause when the index has neither ("word_or_fuzzy": "any word", so a misspelt brand next
# to a word that matches still counts); stems a few edits away ("fuzzy").
WordRequest = Literal["word", "word_or_fuzzy", "fuzzy"]
C = TypeVar("C")
# The stage after "all words" (`query_roles.heads`): the nouns that say what the product
# is are needed, the query's other words only add to the score. Before it, «тапки
# домашние» ranked cat food «для домашних кошек» above the slippers and «поводок для
# собак» dog food above the leash: "any word" let the other words outweigh the product's
# name (a blind review). The nouns are asked exactly (a misspelt noun is the fuzzy
# stage's); the other words exactly or fuzzily, as in "any word" (рибок кроссовки).
HEAD_MODE = "head"
# Stages whose needed words must all match.
ALL_NEEDED_MODES = frozenset({"and", HEAD_MODE})
# Fuzzy clauses for at most this many words of a query (the first ones): each costs ~1–3 ms
# of an index's automaton walks, a query may have 32 words (a 32-word gibberish query cost
# ~100 ms of CPU), and the longest judged query has 6.
MAX_FUZZY_WORDS = 8
# No fuzzy clause for a word longer than this (the longest product words are ~20 letters,
# многофункциональный 19): an automaton of two edits and the brand cuts at every place
# grow with the word, and one 256-letter Latin word cost 1.3 s of CPU (a blind review).
MAX_FUZZY_CHARS = 24


@dataclass(frozen=True)
class PlannedWord:
    """One query word in one stage. `request` None: the stage leaves it out (an optional
    word's typos find nothing, and its exact clause was the fuzzy stage's dearest part)."""

    word: str
    request: WordRequest | None
    optional: bool = False  # для, купить …: only adds to what the other words found
    weight: float = 1.0  # «X для Y»: Y's words weigh less
    absent: bool = False  # «без подсветки»: products with the word as typed are left out
    purpose: bool = False  # a word of Y in «X для Y» (its weight is PURPOSE_WEIGHT's)


@dataclass(frozen=True)
class QueryPlan:
    """A text query of one stage (`mode`: "and", "or" or "fuzzy"), built from its words."""

    mode: str
    words: tuple[PlannedWord, ...]
    # «звуковая панель»: in "and", the phrase's words all or one of its meanings, each typed
    # word still counting; in "or" and "fuzzy", a meaning counts as one more word
    phrases: tuple[PhraseMatch, ...] = ()
    joined: tuple[str, ...] = ()  # "any word"'s and fuzzy's adjacent words joined (эйр бит)
    # (position, pattern): a word typed alone that a title may glue to more, also a name's
    # word matching the pattern (`glued_patterns`: 512 → 12/512GB, buds → Buds2)
    glued: tuple[tuple[int, str], ...] = ()


def rewritten_words(words: Iterable[str]) -> tuple[str, ...]:
    """The rewrites that need no index: 512гб → 512 гб, двухместная → 2 местная; sound bar
    → soundbar, вайфай → вай фай; эй би си → эйбиси (abc), икс 11 → x11; a brand glued
    to a word cut off (антипригарнаятефаль → антипригарная тефаль); an adjective made of a
    brand read as the brand (найковские → найк); a word typed in two scripts read in one
    (нoутбук with a Latin o → ноутбук). The index-dependent ones (compounds, keyboard
    layout, model codes) each backend reads its own way: doc-freq probes, one probe
    request."""
    return joined_dictionary_words(
        letters_said_apart(
            brands_glued_apart(
                brand_adjectives(lacking_prefix_joined(split_number_units(one_script_words(words))))
            )
        )
    )


def said_in_words(words: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The numbers of a query's words (as typed) that `rewritten_words` reads as digits,
    with the words they were said in (`number_units.said_numbers`), for `plan_query`."""
    return said_numbers(one_script_words(words))


def plan_query(
    words: tuple[str, ...],
    mode: str,
    understanding: bool = True,
    said: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> QueryPlan:
    """The plan of `words` (already rewritten) in stage `mode`; without `understanding`
    (the embedded index's plain analysis) every word is needed, alike, as typed. `said`
    (`said_in_words` of the words as typed): each number read from words is a phrase
    whose meaning is those words — Двенадцать стульев, a title, says its number so."""
    roles = query_roles(words) if understanding else None
    if mode == HEAD_MODE and (roles is None or not roles.heads or phrase_matches(words)):
        return QueryPlan(mode, ())  # nothing apart from "all words" (or a phrase to fold)
    planned = []
    fuzzy_left = MAX_FUZZY_WORDS
    for i, word in enumerate(words):
        optional = roles is not None and i in roles.optional
        absent = roles is not None and i in roles.absent
        # the head stage: a needed word besides the nouns only adds to what they found
        besides_head = (
            mode == HEAD_MODE and roles is not None and not (optional or absent or i in roles.heads)
        )
        optional = optional or besides_head
        request: WordRequest | None
        fuzzy_left_here = fuzzy_left and len(word) <= MAX_FUZZY_CHARS
        if mode == "fuzzy":
            request = None if optional or not fuzzy_left_here else "fuzzy"
        elif mode == "or" and understanding and not optional and fuzzy_left_here:
            request = "word_or_fuzzy"
        elif besides_head and fuzzy_left_here:
            request = "word_or_fuzzy"  # a misspelt brand beside the noun (рибок кроссовки)
        else:
            request = "word"
        if request in ("fuzzy", "word_or_fuzzy"):
            fuzzy_left -= 1
        weight = roles.weights[i] if roles is not None else 1.0
        purpose = weight == PURPOSE_WEIGHT  # before a maker's weight is applied below
        if mode in ("or", HEAD_MODE) and roles is not None and i in roles.makers:
            weight *= MAKER_WEIGHT  # what it is outranks who makes it, when not both
        planned.append(PlannedWord(word, request, optional, weight, absent, purpose))
    joined: tuple[str, ...] = ()
    # "any word" too: a name said as two words (рапид фаер, бук лайт) beside a word that
    # matches (мышка) ends the search there, and the fuzzy stage that joins them never runs
    if mode in ("or", "fuzzy") and understanding:
        joined = tuple(adjacent_words_joined(words, [w.optional for w in planned]))
    phrases = phrase_matches(words) if understanding else ()
    if said and understanding:
        phrases = _with_numbers_said(words, phrases, said)
    glued = glued_patterns(words) if understanding else ()
    return QueryPlan(mode, tuple(planned), phrases, joined, glued)


# A name's word matched by a pattern scores a constant (its boost) on both backends: times
# the name's boost it weighs as a name word in ~1 % of the products does (BM25's idf ln 100
# ≈ 4.6), so 8/256GB ranks with 12/256 ГБ for «галакси 256», not below every 256.
GLUED_IDF = 4.6


def glued_patterns(words: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """Each word a title may have glued to more, with the pattern of such a name's word: a
    whole number with no unit after it and letters (`number_units.bare_numbers`: 512 →
    512gb), a Latin word and digits (`model_codes.bare_latin_words`: buds → buds2), a model
    code and its suffix (`model_codes.cut_codes`: df333 → df333dwye). Letters and digits
    alone: nothing for a regular expression to read."""
    found = [(i, words[i] + GLUED_LETTERS_PATTERN) for i in bare_numbers(words)]
    found += [(i, words[i] + GLUED_DIGITS_PATTERN) for i in bare_latin_words(words)]
    found += [(i, words[i] + CODE_SUFFIX_PATTERN) for i in cut_codes(words)]  # df333
    return tuple(sorted(found))


def _with_numbers_said(
    words: tuple[str, ...],
    phrases: tuple[PhraseMatch, ...],
    said: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[PhraseMatch, ...]:
    """`phrases` and, for each number read from words, its digits (the first such word not
    in a phrase) with the words as its meaning; a number a later rewrite consumed (a price
    bound, 1.5) has no word left and adds nothing."""
    taken = {i for phrase in phrases for i in range(phrase.start, phrase.end)}
    found = list(phrases)
    for digits, spoken in said:
        at = next((i for i, w in enumerate(words) if w == digits and i not in taken), None)
        if at is not None:
            found.append(PhraseMatch(at, at + 1, (spoken,), as_typed=True))
            taken.add(at)
    return tuple(sorted(found, key=lambda match: match.start))


class Clauses(Protocol[C]):
    """A backend's translation of a plan's pieces into its clauses."""

    def word(self, index: int, planned: PlannedWord) -> C | None:
        """The word's clause for its request; None when it has no terms at all."""

    def weighted(self, clause: C, weight: float) -> C: ...

    def meaning(self, phrase: PhraseMatch) -> C | None:
        """Any of the phrase's meanings, each with all its words; None if none can match."""

    def typed(self, word: str) -> list[C]:
        """Should-clauses of a phrase's word as typed."""

    def served(self, word: str) -> list[C]:
        """Should-clauses of a word the query says the product is for, found where a name
        says what its product serves (`fields.name_served`); none on an index without it."""

    def absent(self, word: str) -> C | None:
        """What a product must not have: the word as typed."""

    def joined(self, joined: str) -> C | None:
        """Two adjacent words joined, a few edits from a name or brand."""

    def name_starting(self, start: str) -> C:
        """A name's word (its stem) that starts with `start`, weighted as a name's word."""

    def name_word_matching(self, pattern: str) -> C:
        """A name's word (its stem) that matches the regular expression, weighted as a name
        word in ~1 % of the products (`GLUED_IDF`)."""

    def all_of(self, clauses: list[C]) -> C: ...

    def any_of(self, clauses: list[C]) -> C: ...

    def with_should(self, must: C, should: list[C]) -> C: ...

    def query(self, mode: str, needed: list[C], extra: list[C], absent: list[C]) -> C:
        """The whole: every needed clause ("and") or any of them, the extra ones adding to
        the score, the absent ones excluding."""


# The stem's letters kept, at least: a shorter root (шум → шу) starts too many words.
MIN_LACKING_ROOT = 3
NEGATING_PREFIX = "не"


def lacking_adjective_start(word: str) -> str | None:
    """How an adjective of lacking the word starts (лактозы → безлакто: безлактозное;
    проводов → беспрово: беспроводные; мешка → безмеш: безмешковый): без or бес and the
    word's stem less its last letter, which the adjective may change (молока → безмолочный);
    None for a root too short to say anything."""
    stem = next(iter(stems(word)), "")
    root = stem[:-1]
    if len(root) < MIN_LACKING_ROOT or not root.isalpha():
        return None
    return with_lacking_prefix(root)


def negated_adjective_start(word: str) -> str | None:
    """How an adjective of not having the word starts: не and its stem (газа → негаз:
    негазированная; вода без газа ranked a sparkling water first, blind probe round 49);
    None for a stem too short or not Cyrillic."""
    stem = next(iter(stems(word)), "")
    if len(stem) < MIN_LACKING_ROOT or not (stem.isalpha() and is_cyrillic(stem)):
        return None
    return NEGATING_PREFIX + stem


def typed_words(plan: QueryPlan, phrase: PhraseMatch) -> tuple[str, ...]:
    """A phrase's words as typed: its span's, or for a number said in words those words,
    not the digits read from them."""
    if phrase.as_typed:
        return phrase.meanings[0]
    return tuple(w.word for w in plan.words[phrase.start : phrase.end])


def _weighted(clause: C | None, planned: PlannedWord, clauses: Clauses[C]) -> C | None:
    """A word's clause at its weight. Y of «X для Y» weighs little (a name saying Y is
    another product), but found where a name says what its product serves, it is what was
    asked (крем для рук): that adds at a name's weight."""
    if clause is None or planned.weight == 1.0:
        return clause
    weighted = clauses.weighted(clause, planned.weight)
    served = clauses.served(planned.word) if planned.purpose else []
    return clauses.with_should(weighted, served) if served else weighted


def _meaning(plan: QueryPlan, phrase: PhraseMatch, clauses: Clauses[C]) -> C | None:
    """A phrase's meanings at its words' weight: «наполнитель для кошачьего туалета» is
    litter, and the meaning of кошачий туалет (a cat's tray) weighs as the words after для
    do, not as the thing asked for (the tray ranked above the litter: a sixteenth blind
    review, and a fifth's «наполнитль для кошачего туалета» once the phrase was listed)."""
    meaning = clauses.meaning(phrase)
    weight = max((w.weight for w in plan.words[phrase.start : phrase.end]), default=1.0)
    return meaning if meaning is None or weight == 1.0 else clauses.weighted(meaning, weight)


def assemble(plan: QueryPlan, clauses: Clauses[C]) -> C | None:
    """The query of `plan` in a backend's clauses; None when nothing is left to look for."""
    words = plan.words
    built = [clauses.word(i, w) if w.request is not None else None for i, w in enumerate(words)]
    for i, pattern in plan.glued:  # смартфон на 512: or 512GB, one word in the title
        clause = built[i]
        if clause is not None and not words[i].absent:
            built[i] = clauses.any_of([clause, clauses.name_word_matching(pattern)])
    built = [_weighted(c, w, clauses) for c, w in zip(built, words, strict=True)]
    optional = [w.optional for w in words]
    # «без подсветки»: left out in every stage, as typed (its alternatives are not). Before
    # the phrases fold: the indexes are the words' as typed (фитнес браслет без зарядки
    # folded to three slots, and the fifth word's index was out of range)
    absent = [
        c
        for w in words
        if w.absent
        for spelling in excluded_spellings(w.word)  # не самсунг: nor Samsung
        if (c := clauses.absent(spelling)) is not None
    ]
    built = [None if w.absent else c for c, w in zip(built, words, strict=True)]
    meanings = [_meaning(plan, phrase, clauses) for phrase in plan.phrases]
    if plan.mode == "and":  # the phrase's words all, or one of its meanings (звуковая панель)
        for phrase, meaning in reversed(list(zip(plan.phrases, meanings, strict=True))):
            if meaning is None:
                continue
            span = [c for c in built[phrase.start : phrase.end] if c is not None]
            either = clauses.any_of([clauses.all_of(span), meaning])
            # each word of the phrase, as typed, still counts (яндекс станция: a smart
            # speaker, and Яндекс's first)
            typed = [c for word in typed_words(plan, phrase) for c in clauses.typed(word)]
            built[phrase.start : phrase.end] = [clauses.with_should(either, typed)]
            optional[phrase.start : phrase.end] = [False]
    needed = [c for c, opt in zip(built, optional, strict=True) if c is not None and not opt]
    extra = [c for c, opt in zip(built, optional, strict=True) if c is not None and opt]
    # «хлебцы без глютена»: a title that says the product lacks the word has it glued to без
    # (`search_document.lacking_glued`), which was what was asked; or says it in one
    # adjective (молоко без лактозы: Молоко безлактозное)
    lacking = []
    for w in (w for w in words if w.absent):
        lacking += clauses.typed(LACKING_PREFIX + w.word)
        for start in (lacking_adjective_start(w.word), negated_adjective_start(w.word)):
            if start is not None:
                lacking.append(clauses.name_starting(start))
    needed += [c for j in plan.joined if (c := clauses.joined(j)) is not None]
    if plan.mode != "and":  # any word (and the fuzzy stage): a meaning counts as one word more
        needed += [m for m in meanings if m is not None]
    if not needed and lacking:  # «без сахара» alone: what lacks it is what was asked
        needed, lacking = [clauses.any_of(lacking)], []
    extra += lacking
    if not needed:  # the other words have no terms at all: the optional ones are all
        needed, extra = extra, []
    if not needed:
        return None
    return clauses.query(plan.mode, needed, extra, absent)
