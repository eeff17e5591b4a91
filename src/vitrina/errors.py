"""One error root for the whole platform.

Every error says what went wrong and how to fix it. API errors carry their HTTP status so
the CLI can print exactly the message the API returns.
"""

from __future__ import annotations


class VitrinaError(Exception):
    """Root of every error Vitrina raises on purpose."""

    status_code: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(VitrinaError):
    """Settings are invalid or missing."""


class BrokerError(VitrinaError):
    """The broker is unreachable, refused a request or could not be started."""

    status_code = 503


class ContractError(VitrinaError):
    """A message does not satisfy its contract (JSON Schema / typed model)."""

    status_code = 422

    def __init__(self, message: str, *, field: str = "", rule: str = "", hint: str | None = None):
        super().__init__(message, hint=hint)
        self.field = field
        self.rule = rule


class NotFoundError(VitrinaError):
    status_code = 404


class AuthError(VitrinaError):
    status_code = 401


class BadRequestError(VitrinaError):
    status_code = 400


class UnsupportedEncoding(VitrinaError):
    """A request body in a coding (Content-Encoding) or form the API does not read."""

    status_code = 415


class UnavailableError(VitrinaError):
    """A dependency (broker, index) is away; retry later."""

    status_code = 503
