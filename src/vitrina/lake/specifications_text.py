"""A batch's `specifications` objects cut out of the raw products as text, and written as
the lake's sorted-key JSON without parsing them.

The lake keeps `specifications` as JSON text (orjson's, keys sorted). Parsed by Arrow's JSON
reader, the ~50 keys a batch meets become one struct column: about half of the reader's
time (~2.7 µs a product), and ~2 µs more to write it back as text. Here each object is
found in the record's bytes (`bytes.find`, a C scan), replaced by `{}` in the lines the
reader parses, and kept as text. A cut object is sure when it is a flat object of texts and
booleans, compact, whose escapes are the ones orjson writes (`_OBJECT`): its pairs are then
orjson's own, and only their order differs, which vectorised string kernels sort.

Why the cut is exact: `"specifications":` cannot occur inside a JSON text (its quotes would
be escaped there), so in valid JSON it is a key and the `{` after it starts its value. A key
met deeper (an image's, an unknown field's) leaves `"specifications":{}` there, which the
reader refuses or reports as an unknown field, as before. A `}` inside a text cuts the
object short: the cut text is then not an object, and its record is left. Records left
(also a `"specifications":` not followed by `{`: null, spaces, a number) are replaced by `{}`
in the lines and judged by the caller's other paths.
"""

from __future__ import annotations

import numpy
import pyarrow as pa
import pyarrow.compute as pc

_TEXT = pa.string()
_KEY = b'"specifications":'
_OPEN = b'"specifications":{'
# A text as orjson writes it: any character but the quote, the backslash and the controls,
# or one of orjson's escapes (the short ones, else \u00XX in lower-case hex).
_CHARACTER = r'(?:[^"\\\x00-\x1f]|\\["\\bfnrt]|\\u00(?:0[0-7bef]|1[0-9a-f]))'
_STRING = f'"{_CHARACTER}*"'
_PAIR = f"{_STRING}:(?:{_STRING}|true|false)"
_OBJECT = f"^{{(?:{_PAIR}(?:,{_PAIR})*)?}}$"
# The comma after a pair (in a sure object the pairs follow each other: a left-to-right
# search stays on pair boundaries) marked by a byte no sure object holds. The whole match
# (\0) is rewritten, not a group: RE2 then finds bounds only (~30 % less time).
_PAIR_AND_COMMA = f"{_PAIR},"
_MARK = "\x01"


_BLANKS = memoryview(b" " * (1 << 20))  # a cut object's inside, blanked in place


def cut_objects(raws: list[bytes]) -> tuple[bytearray, list[bytes | None], list[int]]:
    """The batch as JSON Lines with the inside of each `specifications` object blanked (a
    JSON space: the reader meets `{ }`, and each record keeps its line and length), the
    objects' texts (None where none is cut), and the positions of records holding the key
    where no object is cut (then to be left: `blank_lines`)."""
    data = bytearray(b"\n").join(raws)
    lines = memoryview(data)  # its slice assignment: ~0.1 µs a record less than data's
    texts: list[bytes | None] = []
    left: list[int] = []
    at = 0  # where the record's line starts in `data`
    for position, raw in enumerate(raws):
        # The last one: the object usually ends the record's parts (fewer bytes to scan).
        found = raw.rfind(_OPEN)
        end = 0 if found < 0 else raw.find(b"}", found) + 1  # 0: no end
        if end == 0 or end - found > len(_BLANKS):
            texts.append(None)
            if _KEY in raw:  # null, a space before the object, no end, not an object
                left.append(position)
        else:
            start = found + len(_KEY)
            texts.append(raw[start:end])
            lines[at + start + 1 : at + end - 1] = _BLANKS[: end - start - 2]
        at += len(raw) + 1
    lines.release()
    return data, texts, left


def lake_texts(texts: list[bytes | None]) -> tuple[pa.Array, pa.Array, pa.Array]:
    """The cut objects (None where none is cut) → per row: whether the cut text is sure to
    blank (a flat, compact object of texts and booleans with orjson's escapes; false for
    None), the lake's sorted-key JSON text (null for None), and whether that text is sure
    (`sorted_json`; true for None).

    A product line's products share their specifications (5,000 generated products hold
    ~1,650 distinct objects, 100,000 hold ~2,500): each distinct text is checked and sorted
    once per process, not once per batch (`_KNOWN`), and a batch looks it up."""
    encoded = pc.dictionary_encode(pa.array(texts, pa.binary()))
    distinct = encoded.dictionary
    keys = distinct.to_pylist()
    cached = [_KNOWN.get(key) for key in keys]
    missing = [i for i, value in enumerate(cached) if value is None]
    learnt = iter(_learn(distinct.take(missing)) if missing else ())
    known = [next(learnt) if value is None else value for value in cached]
    indices = encoded.indices
    cut = pa.array([k[0] for k in known], pa.bool_()).take(indices)
    text = pa.array([k[1] for k in known], pa.binary()).view(_TEXT).take(indices)
    sure = pa.array([k[2] for k in known], pa.bool_()).take(indices)
    return pc.fill_null(cut, False), text, pc.fill_null(sure, True)


# Cut text → (sure to blank, sorted text, sorted text sure), across batches and threads
# (a dict's get and set are atomic). At most 10,000 texts of at most 2,048 bytes (~40 MB at
# worst, ~4 MB for 10,000 of ~200 bytes): then forgotten at once and learnt again; a
# catalogue holds a few thousand, and a longer text is checked and sorted with its batch.
_KNOWN: dict[bytes, tuple[bool, bytes | None, bool]] = {}
_KNOWN_MAX = 10_000
_KNOWN_LONGEST = 2_048


def _learn(texts: pa.Array) -> list[tuple[bool, bytes | None, bool]]:
    """Check and sort these distinct texts (raises ArrowInvalid for bad UTF-8, as a batch
    Arrow refuses), remember those short enough, and return them all."""
    checked = texts.cast(_TEXT)  # UTF-8 checked here
    cut = pc.fill_null(pc.match_substring_regex(checked, _OBJECT), False).to_pylist()
    text, sure = sorted_json(checked)
    learnt = list(zip(cut, text.cast(pa.binary()).to_pylist(), sure.to_pylist(), strict=True))
    if len(_KNOWN) + len(learnt) > _KNOWN_MAX:
        _KNOWN.clear()
    for key, value in zip(texts.to_pylist(), learnt, strict=True):
        if len(key) <= _KNOWN_LONGEST:
            _KNOWN[key] = value
    return learnt


def blank_lines(data: bytearray, raws: list[bytes], positions: list[int]) -> None:
    """These records' lines become `{}` and spaces: rows of nothing, left by the caller
    (an object blanked where it was not sure may have left broken JSON)."""
    starts = numpy.zeros(len(raws) + 1, numpy.int64)
    numpy.cumsum([len(raw) + 1 for raw in raws], out=starts[1:])
    for position in positions:
        start, length = int(starts[position]), len(raws[position])
        data[start : start + length] = b"{}" + b" " * (length - 2)


def sorted_json(texts: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Sure objects' texts → the same objects with their keys in orjson's sorted order
    (code point order, as UTF-8 bytes compare), and per row whether that is sure: false for
    a key written with an escape (its order is the unescaped text's) or met twice (orjson
    keeps the last value). Null texts stay null (and sure)."""
    n = len(texts)
    inner = pc.utf8_slice_codeunits(texts, 1, -1)
    marked = pc.replace_substring_regex(inner, _PAIR_AND_COMMA, "\\0" + _MARK)
    pairs = pc.split_pattern(marked, "," + _MARK)
    flat = pc.list_flatten(pairs)
    if not len(flat):
        return texts, pa.array(numpy.ones(n, bool))
    parents = pc.list_parent_indices(pairs)
    # A key ends at the first `":` (no quote inside a key without escapes).
    keys = pc.list_element(pc.split_pattern(flat, '":', max_splits=1), 0)
    order = pc.sort_indices(
        pa.table({"row": parents, "key": keys}),
        sort_keys=[("row", "ascending"), ("key", "ascending")],
    )
    keys, parents = keys.take(order), parents.take(order)
    bad = pc.match_substring(keys, "\\")
    if len(keys) > 1:
        repeated = pc.and_(pc.equal(keys[1:], keys[:-1]), pc.equal(parents[1:], parents[:-1]))
        # Both rows of a repeated key (the same row): flag the later of each pair.
        bad = pc.or_(bad, pa.concat_arrays([pa.array([False]), repeated]))
    sure = pc.invert(
        pc.is_in(pa.array(numpy.arange(n)), value_set=parents.filter(bad).cast(pa.int64()))
    )
    # Sorted by row first, so each row's pairs stay within the row's offsets.
    joined = pc.binary_join(
        pa.ListArray.from_arrays(pairs.offsets, flat.take(order)), pa.scalar(",", _TEXT)
    )
    text = pc.if_else(texts.is_valid(), pc.binary_join_element_wise("{", joined, "}", ""), None)
    return text, sure
