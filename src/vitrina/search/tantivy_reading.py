"""How the embedded index suggests reading a query's words, from doc-freq probes of one
searcher: a compound typed as two words joined (саунд бар → саундбар), a code split by a
space joined (м 89 → m89), a word typed on the Latin layout and split at a punctuation key
joined back (yjen,er → ноутбук); and, for one word the index lacks, its two parts or the
longest ending a name has. OpenSearch reads the same from one probe request
(`opensearch_reading`). Doc-freq probes only: no query objects are built here.
"""

from __future__ import annotations

from typing import Any

import tantivy

from vitrina.search.analysis import stems
from vitrina.search.fields import BOOSTS
from vitrina.search.keyboard_layout import SHORT_LATIN_FRAGMENT, SPLITTING_KEYS, keyboard_twin
from vitrina.search.model_codes import joined_spellings, latin_pair, may_be_one_word, split_code
from vitrina.search.query_understanding import (
    compound_endings,
    prefix_meant_joined,
    prefix_typed_after,
    prefix_typed_before,
    word_cuts,
)


def known(searcher: Any, word: str) -> bool:
    """Some text field has a stem of `word`."""
    return any(searcher.doc_freq(name, stem) for stem in stems(word) for name in BOOSTS)


def read_words(searcher: Any, words: tuple[str, ...]) -> tuple[str, ...]:
    """The words with the layout splits, then the compounds and codes, joined."""
    return joined_compounds(searcher, joined_layout_splits(searcher, words))


def joined_compounds(searcher: Any, words: tuple[str, ...]) -> tuple[str, ...]:
    """Adjacent words joined where one of them is not in the index and together they
    are (саунд бар → саундбар): a compound typed as two words, the other way round
    from `compound_parts`."""
    out: list[str] = []
    for word in words:
        after = prefix_typed_after(out[-1], word) if out else None
        if after is not None and known(searcher, after):  # самокат электро → электросамокат
            out[-1] = after
            continue
        if (
            out
            and may_be_one_word(out[-1], word)
            and (
                split_code(out[-1], word)
                or prefix_typed_before(out[-1], word)
                or latin_pair(out[-1], word)
                or not (known(searcher, out[-1]) and known(searcher, word))
            )
        ):
            # pulse one → pulseone, м 89 → m89: a name or code split by a space
            joined = next((j for j in joined_spellings(out[-1] + word) if known(searcher, j)), None)
            if joined is not None:
                out[-1] = joined
                continue
        meant = prefix_meant_joined(out[-1], word) if out else None
        if meant is not None and not known(searcher, out[-1]):  # электро чайник
            out[-1] = meant
            continue
        out.append(word)
    return tuple(out)


def joined_layout_splits(searcher: Any, words: tuple[str, ...]) -> tuple[str, ...]:
    """Adjacent Latin words the index does not have joined back into the one Russian
    word they were typed as with the wrong layout: the keys of б ю ж э х ъ ё are
    punctuation on the Latin layout, so the query's words were split there (yjen,er →
    yjen + er → ноутбук)."""

    def latin_unknown(word: str) -> bool:
        short = len(word) <= SHORT_LATIN_FRAGMENT
        return word.isascii() and word.isalpha() and (short or not known(searcher, word))

    out: list[str] = []
    for word in words:
        if out and latin_unknown(word) and latin_unknown(out[-1]):
            joined = next(
                (
                    candidate
                    for letter in SPLITTING_KEYS
                    if known(
                        searcher,
                        candidate := f"{keyboard_twin(out[-1])}{letter}{keyboard_twin(word)}",
                    )
                ),
                None,
            )
            if joined is not None:
                out[-1] = joined
                continue
        out.append(word)
    return tuple(out)


def compound_parts(searcher: Any, word: str) -> tuple[str, str] | None:
    """Two words the index has whose concatenation is `word`: a compound typed as one
    word where names hyphenate or space it (фитнесбраслет ← Фитнес-браслет). The longest
    first part wins; stems only, so trying every cut costs a few dictionary probes,
    not a lemmatisation each."""
    for parts in word_cuts(word):  # gloriajeans → gloria + jeans, abc5g → abc + 5g
        if all(any(searcher.doc_freq("name", stem) for stem in stems(part)) for part in parts):
            return parts
    return None


def compound_ending(searcher: Any, schema: Any, word: str) -> str | None:
    """The first of `compound_endings` some product's name has, or None; None too when a
    name has a word one edit from this one (`typo_of_a_name`)."""
    ending = next(
        (
            ending
            for ending in compound_endings(word)
            if any(searcher.doc_freq("name", stem) for stem in stems(ending))
        ),
        None,
    )
    return None if ending is None or typo_of_a_name(searcher, schema, word) else ending


def typo_of_a_name(searcher: Any, schema: Any, word: str) -> bool:
    """Whether some product's name has a word one edit from this one: гипсакартон is
    гипсокартон with a slip, not a compound to look for by its ending, картон («Колпаки
    картонные» ranked first, the plasterboard sixth: a sixteenth blind review)."""
    return any(
        searcher.search(tantivy.Query.fuzzy_term_query(schema, "name", stem, distance=1), 1).count
        for stem in stems(word)
    )
