"""Parse store catalogues in any of the shapes stores send: JSON array, single object, JSON Lines,
or pretty-printed objects one after another (a store that dumps product after product).

The parser yields one `Record` per product position, each holding either the parsed value or
the parse error, so one broken line or array element never stops a load. Files that are JSON
Schemas (some stores ship theirs next to the data) are recognised and skipped with a reason.
Hostile input (too large, too deep) gives a clear error instead of exhausting memory.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any, NamedTuple

import orjson

from vitrina.domain.limits import MAX_DEPTH, MAX_RECORD_BYTES

# 1 GiB: a whole catalogue is read into memory; bigger files should be split or sent as JSONL
# through the API in batches.
MAX_CATALOG_BYTES = 1 << 30
__all__ = [
    "BOM",
    "MAX_CATALOG_BYTES",
    "MAX_RECORD_BYTES",
    "Catalog",
    "CatalogError",
    "Record",
    "check_size",
    "dump_catalog",
    "jsonl_records",
    "malformed",
    "parse_catalog",
    "wrapped_products",
]
BOM = b"\xef\xbb\xbf"  # UTF-8 byte order mark, which Windows tools put first
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
NOT_UTF8 = (
    "the text is UTF-16 (what Windows PowerShell writes by default), not UTF-8; save it "
    "as UTF-8, e.g. `iconv -f UTF-16 -t UTF-8` (rule: encoding)"
)
_WS = b" \t\r\n"
_NON_WS = re.compile(rb"[^ \t\r\n]")
GZIP = b"\x1f\x8b"  # the first two bytes of gzip-compressed data
BROKEN_GZIP = "the file is gzip-compressed but does not unpack (cut short or damaged)"


def malformed(raw: bytes | str | None, exc: Exception) -> tuple[str, str]:
    """Why `raw` is not JSON, in words, and the rule (`encoding` or `json`). orjson says
    "str is not valid UTF-8: surrogates not allowed" of any byte that is not UTF-8 —
    CP1251 or Latin-1 text, a gzip file — which sent people looking for surrogates
    (hostile-input review)."""
    if isinstance(raw, bytes) and "UTF-8" in str(exc):
        if raw.startswith(GZIP):
            return "not JSON but gzip-compressed data; unpack it first (rule: encoding)", "encoding"
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return (
                f"not UTF-8: byte 0x{raw[bad.start]:02x} at byte {bad.start} (rule: encoding); "
                "save the text as UTF-8, e.g. `iconv -f CP1251 -t UTF-8`",
                "encoding",
            )
    return f"malformed JSON: {exc}", "json"


class CatalogError(ValueError):
    """The catalogue as a whole cannot be read (too large, not JSON of any known shape)."""


class Record(NamedTuple):
    """One product position: `value` when it parsed, else `error`; `raw` = its original bytes.

    A NamedTuple, not a dataclass: one is built per product and this is the loader's hot path.
    """

    position: int
    unit: str  # "line" (JSON Lines) or "item" (array); `where` says both
    value: Any = None
    error: str | None = None
    raw: bytes | None = None
    rule: str | None = None  # with `error`: json | size | depth | truncated | encoding

    @property
    def where(self) -> str:
        """E.g. `line 12`: built when a message needs it, not for every record."""
        return f"{self.unit} {self.position}"

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Catalog:
    """A parsed catalogue: its shape and a stream of records (empty when `skipped`)."""

    shape: str  # "array" | "object" | "jsonl" | "objects" | "schema" | "empty" | "utf-16"
    records: Iterable[Record] = field(default_factory=list)
    skipped: str | None = None
    estimate: int = 0  # records expected (exact for arrays, lines for JSON Lines), for progress
    # JSON Lines: the bytes `records` reads, for a reader that checks the lines itself
    # (`vitrina shop load` checks and forwards them in one pass, without a dict per line).
    body: bytes | None = None


def is_json_schema(value: Any) -> bool:
    """True for a JSON Schema document (a store's product schema), not a product."""
    if not isinstance(value, dict) or "product_id" in value:
        return False
    if "$schema" in value:
        return True
    return value.get("type") == "object" and isinstance(value.get("properties"), dict)


# Fields of a page saved from a paginated API, beside its list: they say nothing of a product.
PAGING_FIELDS = frozenset(
    {
        "total", "total_count", "totalCount", "count", "page", "pages", "total_pages",
        "totalPages", "per_page", "perPage", "page_size", "pageSize", "limit", "offset",
        "next", "previous", "prev", "has_more", "hasMore", "cursor", "next_cursor", "nextCursor",
    }
)  # fmt: skip
_SCALARS = (str, int, float, bool, type(None))


def wrapped_products(value: Any) -> list[Any] | None:
    """The products of a catalogue wrapped in one key (`{"products": [...]}`, `[]` when that
    list is empty), alone or beside paging fields with plain values (`{"items": [...],
    "total": 120, "page": 3}`, PAGING_FIELDS); None otherwise — anything else beside the list
    (a store, a second list) may say something of the products, and is not guessed at."""
    if not isinstance(value, dict):
        return None
    rest = [v for k, v in value.items() if k not in PAGING_FIELDS]
    if len(rest) != 1 or not all(
        isinstance(v, _SCALARS) for k, v in value.items() if k in PAGING_FIELDS
    ):
        return None
    [inner] = rest
    if isinstance(inner, list) and all(isinstance(item, dict) for item in inner):
        return inner
    return None


TOO_DEEP = f"the record nests deeper than {MAX_DEPTH} levels (rule: depth); flatten it"


def _bad_json(position: int, unit: str, raw: bytes, exc: Exception) -> Record:
    if "depth" in str(exc) or "ecursion" in str(exc):
        return Record(position, unit, error=TOO_DEEP, raw=raw[:1000], rule="depth")
    error, rule = malformed(raw, exc)
    return Record(position, unit, error=error, raw=raw, rule=rule)


def _too_big(raw: bytes, limit: int) -> str | None:
    if len(raw) > limit:
        return (
            f"record is {len(raw):,} bytes, over the {limit:,}-byte limit "
            f"(Kafka's max message size; rule: size); split or trim it"
        )
    return None


def _one(position: int, unit: str, raw: bytes, limit: int) -> Record:
    too_big = _too_big(raw, limit)
    if too_big:
        return Record(position, unit, error=too_big, raw=raw[:1000], rule="size")
    try:
        return Record(position, unit, value=orjson.loads(raw), raw=raw)
    except orjson.JSONDecodeError as exc:
        return _bad_json(position, unit, raw, exc)


def jsonl_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) of JSON Lines bytes; blank lines are skipped but counted."""
    # Line by line with find(), not data.split(): no list of every line held at once (a
    # second copy of the whole catalogue), and each line is parsed while it is in cache.
    find, size = data.find, len(data)
    start = line_no = 0
    while start <= size:
        end = find(b"\n", start)
        if end < 0:
            end = size
        line_no += 1
        line = data[start:end].strip(_WS)
        start = end + 1
        if line:
            yield line_no, line


def jsonl_record(line_no: int, line: bytes, limit: int = MAX_RECORD_BYTES) -> Record:
    """The record of one JSON Lines line (parsed, or the reason it is not a record)."""
    return _one(line_no, "line", line, limit)


def jsonl_records(data: bytes, limit: int = MAX_RECORD_BYTES) -> Iterator[Record]:
    """Records of JSON Lines bytes; positions are 1-based line numbers (blank lines count)."""
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for line_no, line in jsonl_lines(data):
        if len(line) > limit:
            yield _one(line_no, "line", line, limit)
            continue
        try:
            value = loads(line)
        except decode_error as exc:
            yield _bad_json(line_no, "line", line, exc)
        else:
            yield Record(line_no, "line", value, None, line)


def _split_array(data: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Split a (possibly broken) top-level JSON array into element byte slices.

    Used only when the array as a whole does not parse: brackets and strings are tracked so
    a broken element costs only that element. Yields (offset, bytes) per element, and last
    (offset, None) when the data ends before the array's closing `]`.
    """
    depth = 0
    in_string = escape = False
    start = data.find(b"[") + 1
    element_start = start
    for i in range(start, len(data)):
        ch = data[i]
        if in_string:
            if escape:
                escape = False
            elif ch == 0x5C:  # backslash
                escape = True
            elif ch == 0x22:  # quote
                in_string = False
            continue
        if ch == 0x22:
            in_string = True
        elif ch in (0x7B, 0x5B):  # { [
            depth += 1
        elif ch in (0x7D, 0x5D):  # } ]
            if depth == 0 and ch == 0x5D:
                yield element_start, data[element_start:i]
                return
            depth -= 1
        elif ch == 0x2C and depth == 0:  # comma between elements
            yield element_start, data[element_start:i]
            element_start = i + 1
    yield element_start, data[element_start:]  # unterminated array: last piece is an error
    yield len(data), None


ARRAY_NOT_CLOSED = (
    "the array is not closed with ']': the file ends after item {last} — it may be "
    "truncated (an upload or export cut short) and the rest of the catalogue missing; "
    "send the whole file again (rule: truncated)"
)


def _array_fallback(data: bytes, limit: int) -> Iterator[Record]:
    index = 0
    for _offset, piece in _split_array(data):
        if piece is None:  # the items before were read; say the rest may be lost
            error = ARRAY_NOT_CLOSED.format(last=index)
            yield Record(index + 1, "item", error=error, raw=data[-200:], rule="truncated")
            return
        piece = piece.strip(_WS)
        if not piece:
            continue
        index += 1
        yield _one(index, "item", piece, limit)


def _array(values: list[Any], limit: int) -> Iterator[Record]:
    for index, value in enumerate(values, 1):
        try:
            raw = orjson.dumps(value)
        except orjson.JSONEncodeError as exc:  # nested too deep to serialise again
            yield _bad_json(index, "item", b"", exc)
            continue
        too_big = _too_big(raw, limit)
        if too_big:
            yield Record(index, "item", error=too_big, raw=raw[:1000], rule="size")
        else:
            yield Record(index, "item", value=value, raw=raw)


_SCAN = json.JSONDecoder(parse_constant=lambda _: None).raw_decode  # boundaries only
_STREAM_GAP = re.compile(r"[ \t\r\n,]*")  # between objects: whitespace, a stray comma
# A broken value costs a scan up to ~1,000 levels deep (Python's recursion limit) when what
# follows is unclosed objects: `{"a":` line after line took 45 s for 6 MB. So a file is not
# taken for a stream after 100 broken values without a good one, and a stream stops being
# read after 1,000 broken values in a row (one record says so).
_STREAM_TRIES = 100
_STREAM_BROKEN_RUN = 1000


def _stream_pieces(text: str) -> Iterator[tuple[int, str, bool]]:
    """(1-based start line, text, parsed as one value) of concatenated JSON values.

    Python's C scanner finds where each value ends (the pieces are parsed again with orjson,
    so both agree on what is valid); a broken value runs to the next line starting with `{`.
    """
    end, size, line, counted = 0, len(text), 1, 0
    while True:
        start = _STREAM_GAP.match(text, end).end()  # type: ignore[union-attr]
        if start >= size:
            return
        line += text.count("\n", counted, start)
        counted = start
        try:
            end = _SCAN(text, start)[1]
            yield line, text[start:end], True
        except (ValueError, RecursionError):
            end = text.find("\n{", start + 1)
            end = size if end < 0 else end + 1
            yield line, text[start:end], False


def _stream(data: bytes, limit: int) -> Catalog | None:
    """Pretty-printed objects one after another; None when the data is not of that shape.

    The shape is recognised by its first value that parses spanning several lines (a JSON
    Lines value never does); broken JSON Lines stay line by line (each line its own record).
    """
    text = data.decode("utf-8", "surrogateescape")
    pieces = _stream_pieces(text)
    seen: list[tuple[int, str, bool]] = []
    for piece in pieces:
        seen.append(piece)
        if piece[2]:
            if "\n" not in piece[1].rstrip():
                return None
            break
        if len(seen) >= _STREAM_TRIES:
            return None
    else:
        return None

    def records() -> Iterator[Record]:
        broken = 0
        for line, piece, parsed in chain(seen, pieces):  # lazily: not (*seen, *pieces)
            broken = 0 if parsed else broken + 1
            if broken > _STREAM_BROKEN_RUN:
                yield Record(
                    line,
                    "line",
                    error=f"malformed JSON: {_STREAM_BROKEN_RUN:,} broken objects in a row; "
                    "the rest of the file was not read (fix the file and load it again)",
                    raw=piece[:1000].encode("utf-8", "surrogateescape"),
                    rule="json",
                )
                return
            yield _one(line, "line", piece.encode("utf-8", "surrogateescape"), limit)

    return Catalog("objects", records(), estimate=data.count(b"\n{") + 1)


def _lines(body: bytes) -> int:
    return body.count(b"\n") + (not body.endswith(b"\n"))


def is_utf16(data: bytes) -> bool:
    """UTF-16 text: JSON's first two characters (ASCII) each with a NUL byte before or
    after it, after a UTF-16 byte order mark if there is one (FF FE alone, followed by
    UTF-8, is only bytes that are not UTF-8)."""
    head = data[2:6] if data[:2] in UTF16_BOMS else data[:4]
    return len(head) == 4 and (
        (head[1] == head[3] == 0 and head[0] != 0 and head[2] != 0)
        or (head[0] == head[2] == 0 and head[1] != 0 and head[3] != 0)
    )


def _gunzipped(data: bytes, max_bytes: int) -> bytes | None:
    """A gzip-compressed catalogue (`catalog.json.gz`) unpacked, within the same size limit
    as any catalogue (a small file may unpack to gigabytes); None when it does not unpack."""
    unpacker = zlib.decompressobj(wbits=31)  # 31: gzip's header and trailer
    try:
        out = unpacker.decompress(data, max_bytes + 1)
    except zlib.error:
        return None
    check_size(len(out), max_bytes)
    return out if unpacker.eof else None


def check_size(size: int, max_bytes: int = MAX_CATALOG_BYTES) -> None:
    """CatalogError for a catalogue over the limit: callers check a file's size before
    reading it (a 20 GB file would not fit in memory to be refused)."""
    if size > max_bytes:
        raise CatalogError(
            f"catalogue is {size:,} bytes, over the {max_bytes:,}-byte limit; "
            "split it into smaller files or use JSON Lines"
        )


def parse_catalog(
    data: bytes, *, max_bytes: int = MAX_CATALOG_BYTES, max_record_bytes: int = MAX_RECORD_BYTES
) -> Catalog:
    """Recognise the catalogue's shape and return its records; raise CatalogError if hopeless."""
    check_size(len(data), max_bytes)
    if data.startswith(GZIP):
        unpacked = _gunzipped(data, max_bytes)
        if unpacked is None:  # one record saying so, as for UTF-16
            error = Record(1, "line", error=BROKEN_GZIP, raw=data[:1000], rule="encoding")
            return Catalog("gzip", [error], estimate=1)
        data = unpacked
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if b"\r" in data and b"\n" not in data:
        # Lines ended by CR alone (classic Mac OS): read as one line, every product after
        # the first was lost as "content after document". CR outside a JSON string is only
        # whitespace, and inside one it is not JSON, so a line break it is.
        data = data.replace(b"\r", b"\n")
    if is_utf16(data):  # one record saying so, not a "malformed JSON" that hides why
        error = Record(1, "line", error=NOT_UTF8, raw=data[:1000], rule="encoding")
        return Catalog("utf-16", [error], estimate=1)
    start = _NON_WS.search(data)
    if start is None:
        return Catalog("empty", skipped="the file is empty")
    # Not data.strip(): that copies the whole file (a catalogue ends in a newline) and a
    # 240 MB copy showed in the loader's profile. Only leading whitespace is cut (rare);
    # orjson and the line reader skip the trailing whitespace themselves.
    body = data[start.start() :] if start.start() else data
    first = body[:1]
    if first == b"[":
        try:
            whole = orjson.loads(body)
        except orjson.JSONDecodeError:
            return Catalog(
                "array", _array_fallback(body, max_record_bytes), estimate=body.count(b"\n{") or 1
            )
        if not isinstance(whole, list):  # pragma: no cover - '[' always parses to a list
            raise CatalogError("a catalogue starting with '[' must be a JSON array")
        if len(whole) == 1 and is_json_schema(whole[0]):
            return Catalog("schema", skipped="the file is a JSON Schema, not a catalogue")
        return Catalog("array", _array(whole, max_record_bytes), estimate=len(whole))
    if first == b"{":
        # JSON Lines: the first line is a whole object and more follows. Checked on that line
        # alone, so a big JSONL file is not parsed twice (once whole, failing, then by line).
        end = body.find(b"\n")
        if end > 0 and _NON_WS.search(body, end):
            try:
                first_line = orjson.loads(body[:end])
            except orjson.JSONDecodeError:
                first_line = None
            if isinstance(first_line, dict):
                return Catalog(
                    "jsonl", jsonl_records(body, max_record_bytes), estimate=_lines(body), body=body
                )
        try:
            whole = orjson.loads(body)
        except orjson.JSONDecodeError:
            stream = _stream(body, max_record_bytes)
            if stream is not None:
                return stream
            return Catalog(
                "jsonl", jsonl_records(body, max_record_bytes), estimate=_lines(body), body=body
            )
        if is_json_schema(whole):
            return Catalog("schema", skipped="the file is a JSON Schema, not a catalogue")
        inner = wrapped_products(whole)
        if inner is not None:
            return Catalog("array", _array(inner, max_record_bytes), estimate=len(inner))
        return Catalog("object", _array([whole], max_record_bytes), estimate=1)
    # Any other start (a scalar, garbage): read it line by line, so each bad line becomes one
    # rejected record with its reason and a garbage first line costs only that line. Text
    # with no JSON value in its first lines is no catalogue at all: refused whole (a new
    # user's `shop load README.md` left 89 dead letters of Markdown for good). Bytes that
    # are not UTF-8 stay records, each refused for its encoding.
    if _plain_text(body, NO_JSON_LINES):
        raise CatalogError(
            f"not a catalogue: no line of its first {NO_JSON_LINES} is JSON "
            f"(it starts with {body[:40].decode('utf-8', 'replace')!r})"
        )
    return Catalog("jsonl", jsonl_records(body, max_record_bytes), estimate=_lines(body), body=body)


# A file not starting as JSON is read as JSON Lines only when one of its first lines is.
NO_JSON_LINES = 20


def _plain_text(body: bytes, lines: int) -> bool:
    """Whether the first `lines` lines are all UTF-8 text and none of them JSON."""
    for _, line in islice(jsonl_lines(body), lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return False
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        return False
    return True


def dump_catalog(products: Iterable[dict[str, Any]], *, jsonl: bool) -> Iterator[bytes]:
    """Serialise products as a JSON array (one product per line) or as JSON Lines, in chunks."""
    if jsonl:
        for product in products:
            yield orjson.dumps(product) + b"\n"
        return
    first = True
    for product in products:
        yield (b"[\n" if first else b",\n") + orjson.dumps(product)
        first = False
    yield b"[]\n" if first else b"\n]\n"
