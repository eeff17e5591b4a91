"""A ban record under another key than its product_id is no ban, for every reader.

Seen on the cluster (a principal with WRITE on banned-products wrote key 100005, value
product_id 100006): the filter dead-lettered it and kept 100005 published and indexed, but
the client API's view folded it as a ban of 100005 and answered 404 for a product the
catalogue shows, and `ban list` listed it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vitrina.contracts.codec import encode
from vitrina.contracts.models import Ban
from vitrina.errors import ContractError
from vitrina.services.bans import decode_ban
from vitrina.services.recs_view import LocalView
from vitrina.settings import load_settings


def ban_of(product_id: str) -> bytes:
    return encode(
        "ban",
        Ban(product_id=product_id, reason="t", banned_by="test", banned_at=datetime.now(UTC)),
    )


def test_a_ban_under_another_key_is_refused() -> None:
    assert decode_ban(ban_of("100005"), "100005") is not None
    assert decode_ban(None, "100005") is None
    with pytest.raises(ContractError, match="differs from product_id"):
        decode_ban(ban_of("100006"), "100005")


def test_the_client_api_view_does_not_ban_the_key_of_a_mismatched_record(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    view = LocalView(settings)  # not started: the test folds the records itself
    topic = settings.topics.banned_products
    view.apply(topic, b"100005", ban_of("100006"))
    assert not view.is_banned("100005")
    assert not view.is_banned("100006")
    view.apply(topic, b"100007", ban_of("100007"))
    assert view.is_banned("100007")


def test_a_ban_whose_latest_record_is_not_a_ban_is_written_again(tmp_path: Path) -> None:
    """A record that is no ban leaves the product banned, but it is the key's latest record,
    and compaction keeps only the latest: the ban would be lost, and the product published
    again at the filter's next start (hostile-input review). The view writes such a ban
    again, once, and only when the key's latest record is not a ban."""
    settings = load_settings(data_dir=tmp_path / "data")
    topic = settings.topics.banned_products
    written: list[dict[str, dict[str, object]]] = []
    view = LocalView(settings, on_shadowed_bans=written.append)  # not started
    ban = ban_of("100011")
    view.apply(topic, b"100011", ban)
    view.apply(topic, b"100011", b"garbage!!")
    view.apply(topic, b"100012", ban_of("100012"))
    view.apply(topic, b"100012", b"garbage!!")
    view.apply(topic, b"100012", None)  # unbanned after it: nothing to keep
    view.apply(topic, b"100013", b"garbage!!")  # never banned: nothing to keep
    view.apply(topic, b"100014", ban_of("100014"))
    view.apply(topic, b"100014", b"garbage!!")
    view.apply(topic, b"100014", ban_of("100014"))  # a ban is its latest record again
    assert view.is_banned("100011") and not view.is_banned("100012")
    view._repair_bans()
    assert written == [{"100011": decode_ban(ban, "100011")}]
    view._repair_bans()
    assert len(written) == 1  # once


class _ScriptedFollower:
    """A follower whose polls return the given batches, at its end from the start."""

    def __init__(self, view: LocalView, batches: list[list[tuple[bytes, bytes | None]]]) -> None:
        self.view, self.batches, self.at_end = view, batches, True

    def poll(self, *args: object, **kwargs: object) -> list[object]:
        if not self.batches:
            self.view._stop.set()
            return []
        topic = self.view.settings.topics.banned_products
        return [_Message(topic, key, value) for key, value in self.batches.pop(0)]

    def close(self) -> None:
        pass


class _Message:
    def __init__(self, topic: str, key: bytes, value: bytes | None) -> None:
        self._topic, self._key, self._value = topic, key, value

    def topic(self) -> str:
        return self._topic

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes | None:
        return self._value


def test_a_shadowed_ban_is_written_again_only_once_the_view_has_caught_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bad record, then an unban in the next fetch: written again after the first poll,
    the ban would have undone the unban. It is written only after a poll finds nothing."""
    settings = load_settings(data_dir=tmp_path / "data")
    written: list[dict[str, dict[str, object]]] = []
    view = LocalView(settings, on_shadowed_bans=written.append)
    batches: list[list[tuple[bytes, bytes | None]]] = [
        [(b"100021", ban_of("100021")), (b"100021", b"garbage!!")],
        [(b"100021", None)],  # the operator's unban, fetched a poll later
        [(b"100022", ban_of("100022")), (b"100022", b"garbage!!")],
    ]
    monkeypatch.setattr(view, "_follow_all", lambda: _ScriptedFollower(view, batches))
    view._run()
    assert not view.is_banned("100021") and view.is_banned("100022")
    assert [sorted(w) for w in written] == [["100022"]]
