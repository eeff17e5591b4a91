"""Points in time as stores and order generators send them, and their one canonical form.

Accepted: ISO 8601 with `T` or a space between date and time, optional fraction, optional
zone (`Z`, `+03:00`, `+0300`); a time without a zone is UTC. Epoch seconds as a number.
Not accepted: a leap second (`23:59:60`) — neither Python, the index nor the lake can hold
it — and dates that do not exist (`2025-02-30`). On the way in every instant becomes
`YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (UTC), so every consumer reads one form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Seconds 00..59 only: a leap second is refused by the contract itself, at the door.
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,9})?(Z|z|[+-][0-9]{2}:?[0-9]{2})?$"
)
# 253402300799: 9999-12-31T23:59:59Z, the last second a datetime can hold.
MAX_EPOCH_S = 253_402_300_799
_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?Z")
_INSTANT = re.compile(INSTANT_PATTERN)
_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})$")


def from_iso(text: str) -> datetime:
    """`datetime.fromisoformat` for the forms the pattern allows that it reads wrongly or
    not at all: a lower-case `z` (refused: valid records were dead-lettered) and an offset
    of 24 hours or more, or of 60 minutes or more (`+9959` was refused in Python's words,
    `+00:60` read as +01:00). ValueError saying why."""
    if text.endswith("z"):
        text = f"{text[:-1]}Z"
    offset = _OFFSET.search(text, 19)  # after the date and time: never a date's `-`
    if offset is not None and (int(offset[2]) > 23 or int(offset[3]) > 59):
        raise ValueError(f"{text[:60]!r}: the zone offset {offset[0]} is not within ±23:59")
    return datetime.fromisoformat(text)  # ValueError for 2025-02-30 and the like


def parse_instant(value: object) -> datetime:
    """A tz-aware UTC datetime; ValueError saying why when `value` is not an instant."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{value!r} is not a date-time (ISO 8601 text or epoch seconds)")
    if isinstance(value, int | float):
        if not 0 <= value <= MAX_EPOCH_S:
            raise ValueError(f"{value} is not epoch seconds between 0 and {MAX_EPOCH_S}")
        return datetime.fromtimestamp(value, UTC)
    if _INSTANT.match(value) is None or value.endswith("\n"):
        raise ValueError(
            f"{value[:60]!r} is not an ISO 8601 date-time "
            "(e.g. 2025-08-01T16:33:58Z; seconds 00..59)"
        )
    parsed = from_iso(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def canonical_instant(value: object) -> str:
    """The canonical text of an instant: UTC, `T`, `Z`, microseconds only when non-zero."""
    parsed = parse_instant(value)
    if isinstance(value, str) and _CANONICAL.fullmatch(value):
        return value
    return parsed.isoformat().replace("+00:00", "Z")


def is_canonical(value: object) -> bool:
    return isinstance(value, str) and _CANONICAL.fullmatch(value) is not None
