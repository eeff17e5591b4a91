"""Who is in a consumer group is asked before work that must not run beside its members
(`vitrina lake compact`, `vitrina index rebuild`). A broker that could not say was taken
for "nobody" (None, logged at INFO), and the work went on beside a running sink.

The broker's answers are faked (an AdminClient whose describe_consumer_groups fails with
given codes, then answers): an error at the right moment cannot be had from a real broker
on demand. The real group is asked in tests/integration/test_lake_compact.py."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, ClassVar

import pytest
from confluent_kafka import KafkaError, KafkaException

from vitrina.errors import BrokerError
from vitrina.kafka import inspect
from vitrina.services import lake_compact
from vitrina.settings import load_settings


class Member:
    client_id, host = "vitrina-lake-sink", "/127.0.0.1"


class Described:
    members: ClassVar[list[Member]] = [Member()]


class FakeAdmin:
    """describe_consumer_groups fails with `codes` in turn, then names one member."""

    codes: ClassVar[list[int]] = []
    calls = 0

    def __init__(self, config: dict[str, Any]) -> None:
        pass

    def describe_consumer_groups(self, groups: list[str], request_timeout: float) -> Any:
        FakeAdmin.calls += 1
        future: Future[Any] = Future()
        if FakeAdmin.codes:
            future.set_exception(KafkaException(KafkaError(FakeAdmin.codes.pop(0))))
        else:
            future.set_result(Described())
        return {groups[0]: future}


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[FakeAdmin]:
    import confluent_kafka.admin

    monkeypatch.setattr(confluent_kafka.admin, "AdminClient", FakeAdmin)
    monkeypatch.setattr(inspect.time, "sleep", lambda _: None)
    FakeAdmin.codes, FakeAdmin.calls = [], 0
    return FakeAdmin


def test_a_transient_error_is_asked_again_and_the_running_sink_is_seen(
    admin: type[FakeAdmin], tmp_path: Any
) -> None:
    """Regression: one timed-out request made the group "unknown", and `lake compact` merged
    files beside the running sink."""
    admin.codes = [KafkaError._TRANSPORT, KafkaError.REQUEST_TIMED_OUT]
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(lake_compact.SinkRunning, match="1 member"):
        lake_compact.refuse_if_sinking(settings)
    assert admin.calls == 3


def test_a_broker_that_cannot_say_stops_the_command(admin: type[FakeAdmin], tmp_path: Any) -> None:
    admin.codes = [KafkaError.GROUP_AUTHORIZATION_FAILED]
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(BrokerError, match="cannot tell whether the lake sink runs"):
        lake_compact.refuse_if_sinking(settings)


def test_a_group_that_never_existed_has_no_members(admin: type[FakeAdmin], tmp_path: Any) -> None:
    admin.codes = [KafkaError.GROUP_ID_NOT_FOUND]
    settings = load_settings(data_dir=tmp_path)
    assert inspect.group_members(settings, "never-joined", "lake-sink") == []
