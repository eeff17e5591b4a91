"""ErrorWatch on broker failure: a broker killed mid-handshake is transient, not a TLS error."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from vitrina.kafka.errors import (
    CUT_HANDSHAKES,
    CUT_WINDOW_S,
    ClientIdentity,
    ErrorWatch,
    KafkaTlsError,
    explain,
    is_tls_failure,
)

IDENT = ClientIdentity("filter", "127.0.0.1:1,127.0.0.1:2", "SASL_SSL", "SCRAM-SHA-512", "ca.pem")

# What librdkafka 2.x said when one of three brokers was killed -9 under the filter
# (tests/distributed/test_broker_failure.py): the filter stopped with "TLS handshake failed".
CUT = KafkaError(
    KafkaError._TRANSPORT,
    "GroupCoordinator: 127.0.0.1:59709: SSL handshake failed: Disconnected: connection reset "
    "by peer: connecting to a PLAINTEXT broker listener? (after 18ms in state SSL_HANDSHAKE)",
)


def test_a_handshake_cut_by_a_killed_broker_is_retried_not_a_tls_error() -> None:
    now = [0.0]
    watch = ErrorWatch(IDENT, clock=lambda: now[0])
    for _ in range(CUT_HANDSHAKES - 1):  # a kill cuts one handshake per connection
        watch(CUT)
        now[0] += 1.0
    watch.check()  # nothing permanent
    assert not is_tls_failure(CUT)
    assert not isinstance(explain(CUT, IDENT), KafkaTlsError)
    # Spread out (broker restarts over hours), the cuts never add up to a verdict.
    now[0] += CUT_WINDOW_S
    for _ in range(CUT_HANDSHAKES - 1):
        watch(CUT)
    watch.check()


def test_handshakes_cut_again_and_again_mean_a_port_that_is_not_tls() -> None:
    now = [0.0]
    watch = ErrorWatch(IDENT, clock=lambda: now[0])
    with pytest.raises(KafkaTlsError, match="is this port a TLS listener"):
        for _ in range(CUT_HANDSHAKES):
            watch(CUT)
            now[0] += 0.3  # librdkafka's reconnect backoff: 0.1, 0.2, 0.4 … s
    with pytest.raises(KafkaTlsError):
        watch.check()


def test_an_untrusted_certificate_is_still_a_tls_error_at_once() -> None:
    untrusted = KafkaError(
        KafkaError._SSL,
        "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed",
    )
    with pytest.raises(KafkaTlsError, match="certificate not trusted"):
        ErrorWatch(IDENT)(untrusted)


def test_the_report_names_which_broker_went_away(caplog: pytest.LogCaptureFixture) -> None:
    # One of three brokers down: the line says which one and why, not only the bootstrap list.
    ident = ClientIdentity("shop-load", f"127.0.0.1:{id(caplog)},127.0.0.1:2", "SASL_SSL")
    refused = KafkaError(
        KafkaError._TRANSPORT,
        "sasl_ssl://127.0.0.1:2/2: Connect to ipv4#127.0.0.1:2 failed: Connection refused",
    )
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        ErrorWatch(ident)(refused)
    assert "broker 127.0.0.1:2/2 (Connect to ipv4#127.0.0.1:2 failed" in caplog.text


def test_an_outage_long_over_is_not_reported_as_still_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A client API logged "(still, 16 times in the last minute)" at its shutdown about a
    # broker outage that had ended five minutes before.
    from vitrina.kafka.errors import _Reporter

    reporter = _Reporter()
    key = ("127.0.0.1:9092", "unreachable")
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        for t in range(0, 30, 2):  # an outage: 15 errors in 30 s, one line
            reporter.report(key, "cannot reach the Kafka broker", float(t))
        reporter.report(key, "cannot reach the Kafka broker", 330.0)  # a new one, long after
        reporter.report(key, "cannot reach the Kafka broker", 400.0)  # after a minute quiet
        for t in range(400, 470, 5):  # repeats inside the minute, then one past it
            reporter.report(key, "cannot reach the Kafka broker", float(t))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].endswith("(retrying with backoff)")
    assert lines[1].endswith("(retrying with backoff)"), lines  # was "(still, 15 times …)"
    assert lines[2].endswith("(retrying with backoff)"), lines  # one came; none repeated
    assert "still" in lines[3], lines  # it kept coming: still
    assert len(lines) == 4


def test_an_outage_over_within_the_minute_is_not_still_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A docs review: a broker killed and back 12 s later; at shutdown, 50 s after that, the
    # services logged "(still, 301 times in the last minute; retrying)".
    from vitrina.kafka.errors import _Reporter

    reporter = _Reporter()
    key = ("127.0.0.1:43092", "unreachable")
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        for tenth in range(0, 120, 2):  # the outage: an error every 0.2 s for 12 s
            reporter.report(key, "cannot reach the Kafka broker", tenth / 10)
        reporter.report(key, "cannot reach the Kafka broker", 62.0)  # one more, at shutdown
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and lines[1].endswith("(retrying with backoff)"), lines


def test_one_broker_of_a_cluster_away_is_named_alone(caplog: pytest.LogCaptureFixture) -> None:
    # With one broker of three killed every client logged "cannot reach the Kafka broker at
    # <all three addresses>", as if the cluster were down (a blind review of the cluster).
    from confluent_kafka import KafkaError

    from vitrina.kafka.errors import ClientIdentity, ErrorWatch

    cluster = "127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112"
    watch = ErrorWatch(ClientIdentity("filter", cluster, "SASL_SSL"), clock=lambda: 1e6)
    gone = "sasl_ssl://127.0.0.1:29102/2: Connect to ipv4#127.0.0.1:29102 failed: refused"
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        watch(KafkaError(KafkaError._TRANSPORT, gone))
        watch(KafkaError(KafkaError._ALL_BROKERS_DOWN, "3/3 brokers are down"))
    first, second = (r.getMessage() for r in caplog.records)
    assert first.startswith("cannot reach Kafka broker 127.0.0.1:29102/2 (Connect to")
    assert cluster not in first and "the others" in first
    assert second.startswith(f"cannot reach the Kafka broker at {cluster}")  # all of them


def test_one_broker_away_when_a_client_starts_is_named_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A client that starts with one broker down knows no broker ids yet: librdkafka names it
    # "…/bootstrap". `shop load` then named all three addresses (a blind review, B9).
    cluster = "127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112"
    watch = ErrorWatch(ClientIdentity("shop-load", cluster, "SASL_SSL"), clock=lambda: 2e6)
    gone = (
        "sasl_ssl://127.0.0.1:29112/bootstrap: Connect to ipv4#127.0.0.1:29112 failed: "
        "Connection refused (after 0ms in state CONNECT)"
    )
    with caplog.at_level("WARNING", logger="vitrina.kafka"):
        watch(KafkaError(KafkaError._TRANSPORT, gone))
    [said] = (r.getMessage() for r in caplog.records)
    assert said.startswith("cannot reach Kafka broker 127.0.0.1:29112/bootstrap (Connect to")
    assert cluster not in said
