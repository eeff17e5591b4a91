"""Personal data in the lake: emails become a keyed hash, never clear text.

HMAC-SHA256 with a secret key (not a bare hash) so nobody holding the lake can confirm a
guessed email by hashing it; the same email always gives the same hash, so analytics can
still count distinct customers by email.
"""

from __future__ import annotations

import hashlib
import hmac

from vitrina.settings import Settings, local_secret

PII_KEY_FILE = "lake-pii.key"


def pii_key(settings: Settings) -> bytes:
    """The lake PII key: `lake.pii_key` if set, else a local secret generated on first use."""
    if settings.lake.pii_key is not None:
        return settings.lake.pii_key.get_secret_value().encode()
    return local_secret(settings, PII_KEY_FILE).encode()


def normalise_email(email: str) -> str:
    """Emails differing only in case or surrounding blanks are the same customer."""
    return email.strip().lower()


def email_hash(key: bytes, email: str | None) -> str | None:
    """Hex HMAC-SHA256 of the normalised email; None when there is no email."""
    if email is None or not email.strip():
        return None
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()
