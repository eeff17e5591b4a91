"""Shared CLI plumbing: settings from the global options, one way to print errors."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from vitrina.errors import VitrinaError
from vitrina.settings import Settings, load_settings

console = Console()
err_console = Console(stderr=True)
# C0, DEL and C1: an escape sequence in a store's brand recoloured the terminal for good
# (a table cut off its reset), a carriage return can overwrite what a line showed. And the
# direction controls, which reorder what a terminal shows after them (U+202E in a store's
# brand, a blind review).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def spelt(text: object) -> str:
    """Text from outside (stores, customers, dead letters) with every control character
    spelt `\\xNN` (a direction control `\\uNNNN`), for plain output."""
    return _CONTROL.sub(_spelt_out, str(text))


def _spelt_out(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def shown(text: object) -> str:
    """`spelt` and rich markup escaped, for a table cell or a rich line (`[link=…]` in a
    name must not become a link)."""
    return escape(spelt(text))


def price_text(product: dict[str, Any] | None) -> str:
    """A product's price as the web page writes it, Russian style: 4 999,99 RUB. The two
    search CLIs wrote it two ways (4,999.99 RUB and 4 999.99 RUB)."""
    price = (product or {}).get("price") or {}
    amount = f"{price.get('amount', 0):,.2f}".replace(",", " ").replace(".", ",")
    return f"{amount} {price.get('currency', '')}".strip()


F = TypeVar("F", bound=Callable[..., Any])

_state: dict[str, Any] = {"profile": None, "settings": None, "settings_file": None}


def counting_bar(quiet: bool) -> Any:
    """A rich progress bar that counts (`done/total`), off and gone when output is JSON."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=quiet,
        disable=quiet,
    )


def set_profile(profile: str | None, settings_file: Path | None = None) -> None:
    _state["profile"] = profile
    _state["settings_file"] = settings_file
    _state["settings"] = None


def settings() -> Settings:
    if _state["settings"] is None:
        _state["settings"] = load_settings(_state["profile"], settings_file=_state["settings_file"])
    return _state["settings"]


# The HTTP clients' own loggers: at WARNING they print every failed request with its
# traceback (`vitrina status` with OpenSearch down: 146 lines, 51 of them stack frames) and
# every expected 404. What matters is said by Vitrina's own message; their errors still show.
CHATTY_LOGGERS = ("opensearch", "urllib3")


def quiet_http_clients(level: int | str = logging.WARNING) -> None:
    """Hold CHATTY_LOGGERS to ERROR (or to `level` when that is higher)."""
    floor = logging.getLevelName(level) if isinstance(level, str) else level
    for logger in CHATTY_LOGGERS:
        logging.getLogger(logger).setLevel(max(logging.ERROR, floor))


def fail(message: str, hint: str | None = None, code: int = 1) -> typer.Exit:
    # Escaped: messages quote user input and Kafka syntax ("SCRAM-SHA-512=[password=…]")
    # that rich would otherwise swallow as markup. Never wrapped (the terminal wraps them):
    # rich broke the commands and paths they name mid-word, and a copy-paste failed.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        err_console.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Print VitrinaError as one clear message (and its hint) instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VitrinaError as exc:
            raise fail(exc.message, exc.hint) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]
