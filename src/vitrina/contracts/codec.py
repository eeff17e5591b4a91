"""One codec for every topic: JSON bytes <-> dicts, validated against the JSON Schema files.

Validation uses the compiled schema files (jsonschema-rs, a Rust validator) so the hot path
stays cheap; errors name the field path and the rule broken. Two rules JSON Schema cannot
say are checked here too, so every door and every worker applies the same ones: nesting
depth (`depth`, domain/limits.py) and real calendar instants (`date-time`, no 2025-02-30).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson
from pydantic import BaseModel

from vitrina.domain.catalog import malformed
from vitrina.domain.instants import parse_instant
from vitrina.domain.limits import (
    MAX_DEPTH,
    PATTERN_MEANINGS,
    may_nest_deeper,
    nesting_depth_over,
)
from vitrina.errors import ContractError

SCHEMA_PACKAGE = "vitrina.contracts"
# Fields holding an instant in the open formats stores send (domain/instants.py).
INSTANT_FIELDS: dict[str, tuple[str, ...]] = {
    "product": ("created_at", "updated_at"),
    "blocked_product": ("created_at", "updated_at"),
    "order": ("order_date", "timestamp"),
}


def schema_text(name: str) -> str:
    try:
        return (resources.files(SCHEMA_PACKAGE) / "schemas" / f"{name}.json").read_text("utf-8")
    except FileNotFoundError:
        raise ContractError(f"no contract named {name!r}") from None


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads(schema_text(name))


@cache
def validator(name: str) -> Any:
    """The compiled schema of contract `name` (jsonschema-rs), for hot yes/no checks."""
    return jsonschema_rs.validator_for(schema(name), validate_formats=True)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _most_specific(err: Any) -> Any:
    """For `anyOf` (e.g. "an object or null") report the rule really broken inside it."""
    branches = getattr(err.kind, "context", None)
    if not branches:
        return err
    inner = [e for branch in branches for e in branch if 'of type "null"' not in e.message]
    if not inner:
        return err
    return _most_specific(max(inner, key=lambda e: len(list(e.instance_path))))


def check_depth(name: str, value: Any, raw: bytes | None = None) -> None:
    """ContractError (rule `depth`) when `value` nests deeper than MAX_DEPTH levels."""
    if raw is not None and not may_nest_deeper(raw):
        return
    if nesting_depth_over(value, MAX_DEPTH):
        raise ContractError(
            f"{name}: objects/arrays nest deeper than {MAX_DEPTH} levels (rule: depth)",
            field="(root)",
            rule="depth",
            hint=f"flatten the record to at most {MAX_DEPTH} levels",
        )


def check_instants(name: str, value: Any) -> None:
    """ContractError (rule `date-time`) for an instant that matches the pattern but is no date."""
    for field in INSTANT_FIELDS.get(name, ()):
        instant = value.get(field) if isinstance(value, dict) else None
        if instant is None:
            continue
        try:
            parse_instant(instant)
        except (ValueError, OverflowError, OSError) as exc:
            raise ContractError(
                f"{name}: field {field}: {exc} (rule: date-time)", field=field, rule="date-time"
            ) from None


def is_valid(name: str, value: Any, raw: bytes | None = None) -> bool:
    """Yes/no for hot loops: the same rules as `validate`, without building the message."""
    try:
        check_depth(name, value, raw)
        if not validator(name).is_valid(value):
            return False
        check_instants(name, value)
    except ContractError:
        return False
    return True


def validate(name: str, value: Any, raw: bytes | None = None) -> None:
    """Raise ContractError for the first rule `value` breaks in contract `name`."""
    check_depth(name, value, raw)
    compiled = validator(name)
    if compiled.is_valid(value):
        check_instants(name, value)
        return
    err = _most_specific(next(iter(compiled.iter_errors(value))))
    field = _path(err.instance_path)
    rule = str(list(err.schema_path)[-1]) if list(err.schema_path) else "schema"
    message = err.message if len(err.message) <= 300 else err.message[:300] + "…"
    meaning = PATTERN_MEANINGS.get(getattr(err.kind, "pattern", None) or "")
    if rule == "pattern" and meaning is not None:  # what the rule means, not its regex
        shown = repr(err.instance) if len(repr(err.instance)) <= 80 else "the value"
        message = f"{shown} {meaning}"
    raise ContractError(f"{name}: field {field}: {message} (rule: {rule})", field=field, rule=rule)


def loads(raw: bytes | str | None) -> Any:
    if raw is None:
        raise ContractError("empty message (null value)", field="(root)", rule="json")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message, rule = malformed(raw, exc)
        raise ContractError(message, field="(root)", rule=rule) from None


def decode(name: str, raw: bytes | str | None) -> dict[str, Any]:
    """Parse and validate one message of contract `name`."""
    value = loads(raw)
    validate(name, value, raw if isinstance(raw, bytes) else None)
    return value


def dumps(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        return value.model_dump_json(exclude_none=True).encode()
    return orjson.dumps(value)


def encode(name: str, value: Any) -> bytes:
    """Validate (on produce) and serialise one message of contract `name`."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    validate(name, value)
    return orjson.dumps(value)
