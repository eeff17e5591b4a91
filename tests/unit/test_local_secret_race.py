"""Processes starting together share one local secret (the client API's two workers once
died with FileExistsError on admin.token in `vitrina demo` on the cluster profile)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from vitrina.settings import load_settings, local_secret


def test_a_secret_another_process_made_meanwhile_is_the_one_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(data_dir=tmp_path)
    token = tmp_path / "secrets" / "admin.token"
    real = secrets.token_urlsafe

    def another_worker_wins_meanwhile(nbytes: int) -> str:
        token.write_text("theirs\n")  # the other worker, between our check and our write
        return real(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", another_worker_wins_meanwhile)
    assert local_secret(settings, "admin.token") == "theirs"
    assert token.read_text() == "theirs\n"
    assert [p.name for p in token.parent.iterdir()] == ["admin.token"]  # nothing left aside
