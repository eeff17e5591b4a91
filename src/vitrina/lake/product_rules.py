"""The product contract's rules as vectorised checks over a parsed batch (`pyarrow.compute`),
and the lake's two JSON columns (`images`, `specifications`) assembled from parsed values as
orjson writes them (sorted keys, its escapes). `lake.product_batch` parses a batch and uses
these; every check may be stricter than the contract, never looser (see its docstring).
"""

from __future__ import annotations

from typing import Any

import numpy
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from vitrina.domain.limits import PRODUCT_ID_PATTERN, SHOWN_PATTERN, re2_pattern

_TEXT = pa.string()

# The schema's patterns, anchored (RE2's `$` is the end of the text, never before a "\n").
_PRODUCT_ID = re2_pattern(PRODUCT_ID_PATTERN)
_SHOWN = re2_pattern(SHOWN_PATTERN)  # a name's and a category's
_CURRENCY = r"^[A-Z]{3}$"
_INSTANT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{6})?Z$"
# (field, shortest, longest, required) of each plain text the contract limits.
_TEXTS = (  # (every shortest is 0 or 1: `rows_ok` counts bytes where it can)
    ("name", 1, 500, True),
    ("category", 1, 200, True),
    ("description", 0, 20_000, False),
    ("brand", 0, 200, False),
    ("sku", 0, 200, False),
    ("store_id", 0, 200, False),
    ("index", 0, 200, False),
)
_MAX_TAGS, _MAX_IMAGES, _MAX_URL, _MAX_ALT = 100, 50, 2048, 1000
_MAX_AMOUNT = 1_000_000_000_000.0


# What orjson writes escaped, in the order to replace it (the backslash first); any other
# control character (written as \u00XX) leaves its row to the per-record path.
_ESCAPES: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
)
_OTHER_CONTROL = "[\\x00-\\x07\\x0b\\x0e-\\x1f]"
_NEEDS_ESCAPE = '["\\\\\\x00-\\x1f]'


def all_of(checks: list[Any]) -> pa.Array:
    ok = checks[0]
    for check in checks[1:]:
        ok = pc.and_(ok, check)
    return ok


def rows_ok(
    parsed: pa.Table, records: pa.Array | None, any_null: bool, known: frozenset[str]
) -> pa.Array:
    """Per row: true when every field but the two JSON columns keeps the contract, and no
    unknown field is set (no nulls in the answer)."""
    price = column(parsed, "price")
    stock = column(parsed, "stock")
    amount = price.field("amount")
    checks = [
        price.is_valid(),
        _matches(parsed.column("product_id"), _PRODUCT_ID, required=True),
        _matches(parsed.column("name"), _SHOWN, required=True),
        _matches(parsed.column("category"), _SHOWN, required=True),
        _matches(price.field("currency"), _CURRENCY, required=True),
        pc.fill_null(
            pc.and_(pc.greater_equal(amount, 0), pc.less_equal(amount, _MAX_AMOUNT)), False
        ),
        _matches(parsed.column("created_at"), _INSTANT, required=False),
        _matches(parsed.column("updated_at"), _INSTANT, required=False),
        _tags_ok(column(parsed, "tags")),
        # A stock, when given, holds both counts, neither negative.
        pc.or_(
            stock.is_null(),
            pc.fill_null(
                pc.and_(
                    pc.greater_equal(stock.field("available"), 0),
                    pc.greater_equal(stock.field("reserved"), 0),
                ),
                False,
            ),
        ),
    ]
    for name, shortest, longest, required in _TEXTS:
        length = _length(parsed.column(name), longest)
        fits = pc.and_(pc.greater_equal(length, shortest), pc.less_equal(length, longest))
        checks.append(pc.fill_null(fits, not required))
    # A JSON null in `specifications` parses as an absent key: a row holding a "null"
    # anywhere (even inside a text) and a specifications map is left to the dict path.
    if any_null and records is not None:  # (a search of the batch's bytes first: the
        # row-wise one costs more)
        nulls = pc.match_substring(records, "null")
        checks.append(pc.or_(pc.invert(nulls), specifications_column(parsed).is_null()))
    for name in parsed.column_names:
        if name not in known:  # an unknown field: the dict path ignores it, but checks it
            checks.append(parsed.column(name).is_null())
    ok = all_of(checks)
    return ok.combine_chunks() if isinstance(ok, pa.ChunkedArray) else ok


def _length(texts: Any, longest: int) -> Any:
    """Per text, a length that compares with `longest` (and with 0 or 1) as its code points
    do: its bytes (code points ≤ bytes, and ≥ 1 exactly when bytes are), unless a text is
    longer in bytes than allowed; then its code points (the UTF-8 count costs more)."""
    length = pc.binary_length(texts)
    if (pc.max(length).as_py() or 0) > longest:
        return pc.utf8_length(texts)
    return length


def specifications_column(parsed: pa.Table) -> Any:
    """The inferred `specifications` column (all null when no record of the batch has it)."""
    if "specifications" in parsed.column_names:
        return parsed.column("specifications")
    return pa.chunked_array([pa.nulls(parsed.num_rows)])


def column(parsed: pa.Table, name: str) -> Any:
    return parsed.column(name).combine_chunks()


def _matches(texts: Any, pattern: str, required: bool) -> Any:
    """A null value (absent or JSON null) fails a required field and passes an optional one."""
    return pc.fill_null(pc.match_substring_regex(texts, pattern), not required)


def _quoted(texts: Any, escapes: bool) -> tuple[Any, Any]:
    """Texts as orjson writes them (in quotes, escaped), and per text whether that is sure
    (false for a control character written as \\u00XX; null for a null text)."""
    texts, sure = _escaped(texts, escapes)
    return pc.binary_join_element_wise('"', texts, '"', ""), sure


def _escaped(texts: Any, escapes: bool) -> tuple[Any, Any]:
    """`_quoted` without the quotes."""
    sure = pc.is_valid(texts)
    if escapes:
        needs = pc.fill_null(pc.match_substring_regex(texts, _NEEDS_ESCAPE), False)
        if needs.true_count:  # escaped where needed only (a few texts of the batch)
            escaped = texts.filter(needs)
            for character, replacement in _ESCAPES:
                escaped = pc.replace_substring(escaped, character, replacement)
            texts = pc.replace_with_mask(texts, needs, escaped)
            sure = pc.invert(pc.match_substring_regex(texts, _OTHER_CONTROL))
    return texts, sure


def _per_row(lists: pa.ListArray, element_ok: Any) -> pa.Array:
    """Per list: true when every element is ok (true for an empty or null list)."""
    bad = pc.invert(pc.fill_null(element_ok, False))
    if not pc.any(bad).as_py():
        return pa.array([True] * len(lists))
    parents = pc.list_parent_indices(lists).filter(bad)
    return pc.invert(
        pc.is_in(pa.array(range(len(lists)), pa.int64()), value_set=parents.cast(pa.int64()))
    )


def _tags_ok(tags: pa.ListArray) -> pa.Array:
    """At most 100 tags, none of them null (a tag is a string)."""
    count = pc.fill_null(pc.less_equal(pc.list_value_length(tags), _MAX_TAGS), True)
    return pc.and_(count, _per_row(tags, pc.is_valid(pc.list_flatten(tags))))


def images_json(column: Any, escapes: bool) -> tuple[pa.Array, pa.Array]:
    """The images JSON texts, and per row whether they are sure: at most 50 images, each
    with a url (≤ 2048 code points) and an alt (≤ 1000; an absent alt and a null one parse
    alike)."""
    images: pa.ListArray = column.combine_chunks()
    flat = pc.list_flatten(images)
    url, alt = flat.field("url"), flat.field("alt")
    escaped_url, url_sure = _escaped(url, escapes)
    escaped_alt, alt_sure = _escaped(alt, escapes)
    element_ok = all_of(
        [
            flat.is_valid(),
            pc.less_equal(_length(url, _MAX_URL), _MAX_URL),
            pc.less_equal(_length(alt, _MAX_ALT), _MAX_ALT),
            url_sure,
            alt_sure,
        ]
    )
    count = pc.fill_null(pc.less_equal(pc.list_value_length(images), _MAX_IMAGES), True)
    ok = pc.and_(count, _per_row(images, element_ok))
    # Keys in sorted order (alt < url), as orjson's OPT_SORT_KEYS writes them.
    each = pc.binary_join_element_wise('{"alt":"', escaped_alt, '","url":"', escaped_url, '"}', "")
    starts = images.offsets
    lists = pa.ListArray.from_arrays(
        pc.subtract(starts, starts[0]), pc.fill_null(each, ""), mask=images.is_null()
    )
    text = pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")
    return text, ok


def specifications_json(column: Any, escapes: bool) -> tuple[pa.Array, pa.Array]:
    """The specifications JSON texts, and per row whether they are sure: a map of texts and
    booleans (numbers take the per-record path: orjson's float text), keys in sorted order.

    Each row holds a few of the batch's keys: the pieces `"key":value` are made per key for
    the rows that hold it, then ordered by (row, key) and joined per row."""
    specifications = column.combine_chunks()
    n = len(specifications)
    kind = specifications.type
    if pa.types.is_null(kind):
        return pa.nulls(n, _TEXT), pa.array([True] * n)
    if not pa.types.is_struct(kind):  # not an object: the contract refuses it
        return pa.nulls(n, _TEXT), specifications.is_null()
    order = sorted(range(kind.num_fields), key=lambda i: kind.field(i).name)
    checks = [pa.array([True] * n)]
    # Per held (row, key): where it sorts, the key as orjson writes it, and the value.
    at: list[pa.Array] = []
    keys: list[pa.Array] = []
    texts: list[pa.Array] = []  # string values, escaped together below
    literals: list[tuple[pa.Array, pa.Array, pa.Array]] = []  # (at, key, true/false)
    for rank, index in enumerate(order):
        field = kind.field(index)
        values = specifications.field(index)
        if pa.types.is_null(field.type):
            continue  # JSON nulls only: rows holding one are left by `rows_ok`
        if not (pa.types.is_string(field.type) or pa.types.is_boolean(field.type)):
            checks.append(values.is_null())  # a number, a list, an object: not sure
            continue
        held = pc.indices_nonzero(values.is_valid())
        if not len(held):
            continue
        where = pc.add(pc.multiply(held, len(order)), rank)
        key = pa.repeat(orjson.dumps(field.name).decode() + ":", len(held))
        if pa.types.is_string(field.type):
            at.append(where)
            keys.append(key)
            texts.append(values.take(held))
        else:
            literals.append((where, key, pc.if_else(values.take(held), "true", "false")))
    pieces: list[pa.Array] = []
    if texts:
        quoted, sure = _quoted(pa.concat_arrays(texts), escapes)
        pieces.append(pc.binary_join_element_wise(pa.concat_arrays(keys), quoted, ""))
        if sure.false_count:
            rows = pc.divide(pa.concat_arrays(at).filter(pc.invert(sure)), len(order))
            everyone = pa.array(range(n), pa.int64())
            checks.append(pc.invert(pc.is_in(everyone, value_set=rows)))
    for where, key, literal in literals:
        at.append(where)
        pieces.append(pc.binary_join_element_wise(key, literal, ""))
    if pieces:
        held_at = pa.concat_arrays(at)
        sort = pc.sort_indices(held_at)
        row_of = pc.divide(held_at.take(sort), len(order))
        counts = pc.value_counts(row_of).flatten()
        per_row = numpy.zeros(n + 1, numpy.int64)
        per_row[pc.add(counts[0], 1).to_numpy()] = counts[1].to_numpy()
        offsets = pa.array(per_row.cumsum(), pa.int32())
        joined = pc.binary_join(
            pa.ListArray.from_arrays(offsets, pa.concat_arrays(pieces).take(sort)), ","
        )
    else:
        joined = pa.array([""] * n, _TEXT)
    text = pc.if_else(
        specifications.is_valid(), pc.binary_join_element_wise("{", joined, "}", ""), None
    )
    return text, all_of(checks)
