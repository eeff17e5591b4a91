"""How to read a query that found nothing, as the index suggests (the OpenSearch side of the
embedded builder's rules that depend on what the index holds, `tantivy_reading`).

A word the index lacks is split into two words it
has (фитнесбраслет → фитнес + браслет) or looked for as typed on the other keyboard layout
(ыщтн → sony); two adjacent words are joined when they are not both in the index and together
they are (саунд бар → саундбар; yjen er → ноутбук, split by the Latin layout at the б key).
The embedded builder asks its term dictionary; here one probe request asks the cluster
(`probe_body`: a `filters` aggregation, one doc count per question), and only after the
plain "all words" query found nothing — as then some word matches nothing, which is when
these rules apply. Why a probe and not index-side analysis: a decompounder needs a word
list or a hyphenation grammar, and shingles (tokens joined without a separator) would mean
a new mapping and a reindex of every deployed index and would match across any two adjacent
words of a name; the probe needs neither, applies the embedded rules as they are, and
leaves queries that find something as they were (same request, same ranking, no extra
round trip).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from vitrina.search.fields import BOOSTS
from vitrina.search.keyboard_layout import SHORT_LATIN_FRAGMENT, SPLITTING_KEYS, keyboard_twin
from vitrina.search.model_codes import (
    codes_without_a_digit,
    joined_spellings,
    latin_pair,
    may_be_one_word,
    split_code,
)
from vitrina.search.opensearch_query import any_of, forms_clauses, term_clauses
from vitrina.search.query_understanding import (
    compound_endings,
    compound_meanings,
    prefix_meant_joined,
    prefix_typed_after,
    prefix_typed_before,
    word_cuts,
)
from vitrina.search.typed_shapes import cyrillic_names, latin_lemmas

# Words longer than this are not cut: the longest two-part compounds of the catalogues are
# ~20 letters, and each cut is two more questions in the probe (a 256-letter word: 500).
MAX_SPLIT_CHARS = 30
# Joins of up to three typed words (фитнес брас лет): longer spans would add a question per
# span to the probe of every long zero-hit query for compounds nobody types.
MAX_JOINED_WORDS = 3


@dataclass(frozen=True)
class Reading:
    """A zero-hit query's words as the index suggests reading them: adjacent words joined
    (саунд бар → саундбар; yjen er → ноутбук, typed on the Latin layout, split at the б key),
    words looked for as two (фитнесбраслет → фитнес, браслет), and words looked for as the
    same keys give them on the other layout (ктyjdj → леново)."""

    words: tuple[str, ...]
    splits: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    twins: Mapping[str, str] = field(default_factory=dict)
    # Words nothing in the index matches, read every way: "any word" looks for them fuzzily
    # (нордвей велосипед: велосипед matches, so the fuzzy stage, where нордвей ~ Nordway,
    # would never run and the brand's bicycles would rank anywhere among the others).
    unmatched: frozenset[str] = frozenset()
    # Words looked for by what follows a compound prefix (аудиоколонка → колонка).
    bases: Mapping[str, str] = field(default_factory=dict)
    # Latin names typed in Cyrillic with a case ending, looked for as their dictionary
    # form's Latin spelling (снапдрагоне → snapdragon).
    latins: Mapping[str, str] = field(default_factory=dict)

    def rereads(self, words: list[str]) -> bool:
        """Whether "all words" would look for anything else than it did."""
        return (
            self.words != tuple(words)
            or bool(self.splits)
            or bool(self.twins)
            or bool(self.bases)
            or bool(self.latins)
        )


def latin_readings(word: str) -> tuple[str, ...]:
    """What a word the index lacks may be in the other script: a Latin name's dictionary
    form (снапдрагоне → snapdragon), a model code with a digit too many (а311 → a31), a
    Russian name typed in Latin letters (prostokvashino → простоквашино)."""
    return (*latin_lemmas(word), *codes_without_a_digit(word), *cyrillic_names(word))


def _latin(word: str) -> bool:
    return word.isascii() and word.isalpha()


def _layout_joins(first: str, second: str) -> list[str]:
    """One Russian word two Latin-layout words may have been, split at a key that is
    punctuation on the Latin layout (yjen + er → ноутбук), in `SPLITTING_KEYS` order."""
    return [f"{keyboard_twin(first)}{key}{keyboard_twin(second)}" for key in SPLITTING_KEYS]


def _spans(words: list[str]) -> list[str]:
    """Adjacent words joined, as a join may need them: every word after the first Cyrillic."""
    found: list[str] = []
    for start in range(len(words)):
        for end in range(start + 1, min(start + MAX_JOINED_WORDS, len(words)) + 1):
            if end - start > 1 and not may_be_one_word(words[end - 2], words[end - 1]):
                break
            joined = "".join(words[start:end])
            found += joined_spellings(joined) if end - start > 1 else [joined]
    return found


def _questions(words: list[str], matched_nothing: frozenset[str]) -> dict[str, dict[str, Any]]:
    """Filter name → query, the doc counts the rules need (names as in tantivy_reading):
    `known X` — a stem of X in some text field (`joined_compounds`, `joined_layout_splits`);
    `matches W` — W or an alternative matches something (else W may be split, or typed on
    the other layout, and "any word" looks for it fuzzily); `name P` — a stem of part P in
    some product name (`compound_parts`); `both A B` — some product has both (a prefixed
    compound's adjective and base, `compound_meanings`). Words of `matched_nothing` are known
    to match nothing: not asked."""
    texts: list[str] = []
    if len(words) > 1:
        texts += _spans(words)
        texts += [j for a, b in pairwise(words) if (j := prefix_typed_after(a, b)) is not None]
        for first, second in pairwise(words):
            if _latin(first) and _latin(second):
                texts += _layout_joins(first, second)
    out: dict[str, dict[str, Any]] = {
        f"known {text}": {"multi_match": {"query": text, "fields": list(BOOSTS)}} for text in texts
    }
    for word in words:
        cuts, twin = word_cuts(word, MAX_SPLIT_CHARS), keyboard_twin(word)
        if (cuts or twin is not None or len(words) > 1) and word not in matched_nothing:
            out[f"matches {word}"] = any_of(forms_clauses(word))
        for part in (p for cut in cuts for p in cut):
            out[f"name {part}"] = {"match": {"name": part}}
        if cuts and compound_endings(word):  # a slip of a name's word is no compound
            out[f"typo {word}"] = {"match": {"name": {"query": word, "fuzziness": 1}}}
        for latin in latin_readings(word):  # снапдрагоне → snapdragon, а311 → a31
            # the clause the query sends for it (`_word_plan`), not its alternatives too:
            # протечьки → protechka matched as its Cyrillic spelling протечка here, and then
            # nothing in the query, which left out the fuzzy look that finds протечки
            out[f"matches {latin}"] = any_of(term_clauses(latin))
        if len(words) > 1:  # for "any word": is there any way the word matches?
            if twin is not None:
                out[f"matches {twin}"] = any_of(forms_clauses(twin))
            for meaning in compound_meanings(word):
                out[f"both {' '.join(meaning)}"] = {
                    "bool": {"must": [any_of(term_clauses(part)) for part in meaning]}
                }
    return out


def probe_body(
    words: list[str], matched_nothing: frozenset[str] = frozenset()
) -> dict[str, Any] | None:
    """One request for every doc count the rules need; None when there is no question.
    The customer's filters are left out on purpose: the rules ask what the index holds,
    as doc_freq does."""
    questions = _questions(words, matched_nothing)
    if not questions:
        return None
    return {"size": 0, "aggs": {"questions": {"filters": {"filters": questions}}}}


def probe_counts(response: dict[str, Any]) -> dict[str, int]:
    buckets = ((response.get("aggregations") or {}).get("questions") or {}).get("buckets") or {}
    return {name: int(bucket.get("doc_count") or 0) for name, bucket in buckets.items()}


def read_words(
    words: list[str], counts: Mapping[str, int], matched_nothing: frozenset[str] = frozenset()
) -> Reading | None:
    """The embedded builder's rules over the probe's doc counts, in its order: words split
    by the Latin layout joined, then compounds joined (a joined word is in the index, so it
    is never split nor twinned), then each word that matches nothing split, else twinned,
    and if still nothing matches it, marked for a fuzzy look in "any word". None when they
    change nothing. A join the probe did not ask about (of a layout-joined
    word with its neighbour, of more than three words) is not made."""

    def known(text: str) -> bool:
        return counts.get(f"known {text}", 0) > 0

    def matches(word: str) -> bool:
        return word not in matched_nothing and counts.get(f"matches {word}", 1) > 0

    joined: list[str] = []
    for word in words:
        latin_unknown = [
            _latin(w) and (len(w) <= SHORT_LATIN_FRAGMENT or not known(w))
            for w in (joined[-1:] or [""]) + [word]
        ]
        if joined and all(latin_unknown):
            layout = next((w for w in _layout_joins(joined[-1], word) if known(w)), None)
            if layout is not None:
                joined[-1] = layout
                continue
        joined.append(word)
    words_read: list[str] = []
    for word in joined:
        after = prefix_typed_after(words_read[-1], word) if words_read else None
        if after is not None and known(after):  # самокат электро → электросамокат
            words_read[-1] = after
            continue
        if (
            words_read
            and may_be_one_word(words_read[-1], word)
            and (
                split_code(words_read[-1], word)
                or prefix_typed_before(words_read[-1], word)
                or latin_pair(words_read[-1], word)
                or not (known(words_read[-1]) and known(word))
            )
        ):
            # pulse one → pulseone, м 89 → m89: a name or code split by a space
            spelt = next((j for j in joined_spellings(words_read[-1] + word) if known(j)), None)
            if spelt is not None:
                words_read[-1] = spelt
                continue
        meant = prefix_meant_joined(words_read[-1], word) if words_read else None
        if meant is not None and f"known {words_read[-1]}" in counts and not known(words_read[-1]):
            words_read[-1] = meant  # электро чайник → электрочайник: электрический чайник
            continue
        words_read.append(word)
    splits: dict[str, tuple[str, str]] = {}
    twins: dict[str, str] = {}
    bases: dict[str, str] = {}
    latins: dict[str, str] = {}
    unmatched: set[str] = set()
    for word in (w for w in words_read if w in words and not matches(w)):
        parts = next(
            (
                cut
                for cut in word_cuts(word, MAX_SPLIT_CHARS)
                if all(counts.get(f"name {p}", 0) for p in cut)
            ),
            None,
        )
        twin = keyboard_twin(word)
        # the cuts asked for each ending: аудиоколонка → колонка, робопылесос → пылесос
        endings = compound_endings(word) if parts is None else []
        base = next((e for e in endings if counts.get(f"name {e}", 0)), None)
        if counts.get(f"typo {word}", 0):  # гипсакартон: гипсокартон, not картон
            base = None
        both = any(counts.get(f"both {' '.join(m)}", 0) for m in compound_meanings(word))
        latin = next((w for w in latin_readings(word) if counts.get(f"matches {w}", 0)), None)
        if parts is not None:
            splits[word] = parts
        elif base is not None:
            bases[word] = base
        # the twin is asked if 2+ words; unasked, it is taken unless a reading in the other
        # script is known to match (prostokvashino: простоквашино, not зкщыещлмфырштщ)
        elif twin is not None and counts.get(f"matches {twin}", 0 if latin else 1):
            twins[word] = twin
        elif latin is not None:
            latins[word] = latin
        if (
            parts is None
            and word not in bases
            and word not in latins
            and (twin is None or not counts.get(f"matches {twin}", 0))
            and not both
        ):
            unmatched.add(word)
    if len(words_read) < 2:
        unmatched.clear()  # one word has no "any word" stage
    if words_read == words and not (splits or twins or unmatched or bases or latins):
        return None
    return Reading(tuple(words_read), splits, twins, frozenset(unmatched), bases, latins)
