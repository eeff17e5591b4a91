"""Render the distributed Alertmanager config from its template at deploy time.

`deploy/alertmanager/alertmanager.yml.tmpl` holds `${NAME}` placeholders (Telegram chat id,
bot-token file, webhook URL, templates folder). Values come from the environment or CLI flags
(`vitrina monitoring render-alertmanager`), never from git. Alertmanager < 0.26 has no
`bot_token_file`, so by default the token is read from its file and written into the rendered
config, which is created with mode 0600 next to the other deploy-time secrets.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from vitrina.errors import ConfigError

VARIABLES = (
    "TELEGRAM_CHAT_ID",
    "TELEGRAM_BOT_TOKEN_FILE",
    "ALERT_WEBHOOK_URL",
    "ALERTMANAGER_TEMPLATES_DIR",
)
# Telegram chat ids are integers; groups and channels are negative (-100…).
_CHAT_ID = re.compile(r"^-?\d{1,20}$")
# Telegram bot tokens look like 123456789:AA…; refuse an obviously wrong file early.
_BOT_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")


def template_path() -> Path:
    """The committed template (repository checkout)."""
    return Path(__file__).resolve().parents[3] / "deploy" / "alertmanager" / "alertmanager.yml.tmpl"


def render_alertmanager(
    template: str, values: Mapping[str, str], *, inline_token: bool = True
) -> dict[str, Any]:
    """Fill the template; with `inline_token`, replace bot_token_file by the token it holds."""
    missing = [name for name in VARIABLES if not values.get(name)]
    if missing:
        raise ConfigError(
            f"missing deploy-time value(s): {', '.join(missing)}",
            hint="export them (e.g. TELEGRAM_CHAT_ID=-100123…, "
            "TELEGRAM_BOT_TOKEN_FILE=/run/secrets/telegram-bot-token) "
            "or pass the matching --flags",
        )
    if not _CHAT_ID.match(values["TELEGRAM_CHAT_ID"]):
        raise ConfigError(
            f"TELEGRAM_CHAT_ID {values['TELEGRAM_CHAT_ID']!r} is not a number",
            hint="use the numeric chat id (groups are negative, e.g. -1001234567890)",
        )
    try:
        text = string.Template(template).substitute(values)
    except (KeyError, ValueError) as exc:
        raise ConfigError(
            f"the Alertmanager template has an unknown placeholder: {exc}",
            hint=f"known placeholders: {', '.join(VARIABLES)}",
        ) from None
    config: dict[str, Any] = yaml.safe_load(text)
    if inline_token:
        for receiver in config.get("receivers", []):
            for telegram in receiver.get("telegram_configs", []):
                path = Path(telegram.pop("bot_token_file"))
                telegram["bot_token"] = read_bot_token(path)
    return config


def read_bot_token(path: Path) -> str:
    try:
        token = path.read_text("utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"Telegram bot token file {path} does not exist",
            hint="write the token from @BotFather into it (mode 0600) or fix "
            "TELEGRAM_BOT_TOKEN_FILE",
        ) from None
    if not _BOT_TOKEN.match(token):
        raise ConfigError(
            f"{path} does not hold a Telegram bot token",
            hint="expected the form 123456789:AA… as given by @BotFather",
        )
    return token


def write_rendered(config: dict[str, Any], out: Path) -> Path:
    """Write the rendered config readable by its owner only (it may hold the token)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Rendered by `vitrina monitoring render-alertmanager`; do not commit.\n")
        yaml.safe_dump(config, fh, sort_keys=False, allow_unicode=True)
    os.chmod(tmp, 0o600)
    tmp.replace(out)
    return out
