"""librdkafka errors as `VitrinaError`s that name the cause and the fix — fast and once.

librdkafka retries everything forever: a wrong password, an untrusted CA or a broker that is
not there all look like "Broker transport failure" once a request times out. The precise
cause arrives earlier, through the client's `error_cb` (`_AUTHENTICATION` ~0.3 s after the
first connection, `_SSL` / `_TRANSPORT` "certificate verify failed" at once). `ErrorWatch` is
that callback: it turns permanent errors (authentication, TLS trust) into a `VitrinaError`
raised out of the next `poll()` / `consume()` / short `flush()`, and says transient trouble
(broker unreachable) once per process and address, then again at most every minute, while
the client retries quietly with its own backoff (reconnect.backoff.max.ms).

`explain` maps a `KafkaError` (delivery report, metadata error, exception) to the same
messages, so the CLI, the APIs and the workers all say the same thing.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException

from vitrina.errors import BrokerError

log = logging.getLogger("vitrina.kafka")

# The same "still failing" line at most once a minute per (address, kind): the client keeps
# retrying in the background, the operator needs to know, not to read it twelve times a second.
REPEAT_S = 60.0
# A report that came this long after the one before it starts a new episode, not "still".
STILL_GAP_S = 15.0
# A TLS handshake cut by a closed connection is a killed broker once, a non-TLS port when it
# keeps happening: librdkafka reconnects after 0.1, 0.2, 0.4 … s, so a PLAINTEXT listener
# cuts 5 handshakes in about 2 s, while one broker killed cuts one per connection (a consumer
# has two to a broker: the broker and the group coordinator).
CUT_HANDSHAKES = 5
CUT_WINDOW_S = 30.0


class KafkaAuthError(BrokerError):
    """The broker refused the credentials (SASL) of a principal."""


class KafkaTlsError(BrokerError):
    """The TLS handshake with the broker failed (untrusted CA, wrong host name)."""


class KafkaAccessDenied(BrokerError):
    """An ACL does not allow this principal the operation."""

    status_code = 403


class KafkaUnreachable(BrokerError):
    """No broker answered at the bootstrap address."""


@dataclass(frozen=True)
class ClientIdentity:
    """Who a client is and where it connects: what every message needs to name."""

    principal: str | None  # SASL user, None without SASL
    bootstrap: str
    protocol: str
    mechanism: str = ""
    ca_location: str | None = None
    password_source: str = ""  # where the password came from (file or variable)
    embedded: bool = False  # the embedded development broker (`vitrina broker …`)

    @property
    def who(self) -> str:
        return f"principal {self.principal}" if self.principal else "the client"


_AUTH = {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED}
_UNREACHABLE = {
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._RESOLVE,
    KafkaError._TIMED_OUT,
}
_DENIED: dict[int, str] = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "consumer group",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
}


def _text(err: KafkaError) -> str:
    return err.str() or err.name()


def is_refused_login(err: KafkaError) -> bool:
    """The broker said the credentials are wrong — not a connection lost mid-handshake
    (a broker stopping also ends a login with `_AUTHENTICATION`, "Disconnected")."""
    text = _text(err).lower()
    return err.code() in _AUTH and (
        "invalid credentials" in text or "authentication failed" in text
    )


def is_cut_handshake(err: KafkaError) -> bool:
    """A TLS handshake that ended because the connection closed, with no verdict on the
    certificate: a broker killed (or stopping) mid-handshake, or — when it happens again and
    again — a port that is not a TLS listener. Only repetition tells them apart."""
    text = _text(err)
    return (
        err.code() in (KafkaError._SSL, KafkaError._TRANSPORT)
        and "SSL handshake" in text
        and "Disconnected" in text
        and "certificate" not in text
    )


def is_tls_failure(err: KafkaError) -> bool:
    """A TLS failure that is a verdict (untrusted CA, wrong host name, protocol mismatch),
    not a connection cut during the handshake (see `is_cut_handshake`)."""
    text = _text(err)
    if is_cut_handshake(err):
        return False
    return err.code() == KafkaError._SSL or (
        err.code() == KafkaError._TRANSPORT
        and ("certificate verify failed" in text or "SSL handshake" in text)
    )


def auth_failed(ident: ClientIdentity) -> KafkaAuthError:
    mech = f" ({ident.mechanism})" if ident.mechanism else ""
    source = f" from {ident.password_source}" if ident.password_source else ""
    return KafkaAuthError(
        f"authentication failed for principal {ident.principal} at {ident.bootstrap}: "
        f"the broker rejected the SASL{mech} credentials",
        hint=f"fix: use the password `vitrina security init` made for {ident.principal} "
        f"(the password was read{source}), or create the user on the cluster "
        f"(kafka-configs --alter --entity-type users --entity-name {ident.principal} "
        f"--add-config 'SCRAM-SHA-512=[password=…]')",
    )


def tls_failed(ident: ClientIdentity, detail: str) -> KafkaTlsError:
    if "certificate verify failed" in detail or "could not be verified" in detail:
        what = "certificate not trusted"
        if "hostname" in detail.lower() or "host name" in detail.lower():
            what = "certificate does not match the host name"
        return KafkaTlsError(
            f"TLS handshake failed: {what} (ssl.ca.location {ident.ca_location}) "
            f"at {ident.bootstrap}",
            hint="fix: point kafka.ssl_ca_location (VITRINA__KAFKA__SSL_CA_LOCATION) at the "
            "ca.pem that signed the brokers' certificates (`vitrina security init`), and "
            "connect by a name the certificates list (kafka-N, localhost, 127.0.0.1)",
        )
    return KafkaTlsError(
        f"TLS handshake failed at {ident.bootstrap}: {detail}",
        hint="fix: check kafka.security_protocol and kafka.ssl_ca_location; "
        "is this port a TLS listener?",
    )


# librdkafka's count of brokers down, e.g. "0/1 brokers are down" when the one broker went
# away between its checks (read as a contradiction beside "cannot reach": chaos review).
_BROKERS_DOWN = re.compile(r"\s*\d+/\d+ brokers are down")


# librdkafka's error about one broker: "127.0.0.1:29092/1: Connect to … failed: …"
# ("sasl_ssl://" before it on a secured listener, "bootstrap" for a broker id not known yet).
_ONE_BROKER = re.compile(
    r"(?:[a-z_]+://)?(?P<broker>[^\s/,]+:\d+/(?:\d+|bootstrap)): (?P<why>.+)", re.S
)


def unreachable(ident: ClientIdentity, detail: str = "") -> KafkaUnreachable:
    detail = _BROKERS_DOWN.sub("", detail).strip(" :;,")
    more = f" ({detail})" if detail else ""
    if ident.embedded:
        hint = (
            "start it (`vitrina broker start` or `vitrina up`) or fix "
            "kafka.bootstrap_servers / VITRINA__KAFKA__BOOTSTRAP_SERVERS"
        )
    else:
        hint = (
            "is the cluster up? `vitrina broker status` checks kafka.bootstrap_servers "
            "(`vitrina cluster status` for the native cluster); fix the address with "
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS"
        )
    return KafkaUnreachable(f"cannot reach the Kafka broker at {ident.bootstrap}{more}", hint=hint)


def denied(ident: ClientIdentity, operation: str, kind: str, name: str | None) -> KafkaAccessDenied:
    target = f"{kind} {name}" if name else kind
    return KafkaAccessDenied(
        f"{ident.who} is not allowed to {operation} {target}",
        hint="see what each principal may do with `vitrina acl plan`; run this as the "
        "service that owns the operation, or change the plan and `vitrina acl apply`",
    )


def missing_topic(ident: ClientIdentity, topic: str) -> BrokerError:
    return BrokerError(
        f"topic {topic} does not exist on {ident.bootstrap}",
        hint="create the topics with `vitrina topics apply`",
    )


def explain(
    err: KafkaError | KafkaException,
    ident: ClientIdentity,
    *,
    operation: str = "use",
    topic: str | None = None,
    group: str | None = None,
) -> BrokerError | None:
    """The VitrinaError for a client error, or None when it is not one we can name."""
    if isinstance(err, KafkaException):
        if not err.args or not isinstance(err.args[0], KafkaError):
            return None
        err = err.args[0]
    code = err.code()
    if is_refused_login(err):
        return auth_failed(ident)
    if is_tls_failure(err):
        return tls_failed(ident, _text(err))
    if code in _DENIED:
        kind = _DENIED[code]
        name = {"topic": topic, "consumer group": group}.get(kind)
        op = "READ" if kind == "consumer group" else operation
        return denied(ident, op, kind, name or (None if kind != "cluster" else ""))
    if code == KafkaError.UNKNOWN_TOPIC_OR_PART and topic:
        return missing_topic(ident, topic)
    if code in (
        KafkaError._MSG_TIMED_OUT,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    ):
        # Not "unreachable": with acks=all a write also waits while fewer replicas than
        # min.insync.replicas are in sync (a broker down of three is fine, two are not).
        return BrokerError(
            f"the cluster at {ident.bootstrap} did not acknowledge the write"
            + (f" to {topic}" if topic else "")
            + f" ({_text(err)})",
            hint="are enough brokers up? acks=all waits for min.insync.replicas in-sync "
            "replicas: `vitrina broker status`; the write is safe to retry",
        )
    if code in _UNREACHABLE:
        return unreachable(ident, _text(err))
    return None


def check_topic(ident: ClientIdentity, topic: str, metadata: Any, operation: str = "READ") -> None:
    """Raise the right error when `topic` is missing or not visible to this principal."""
    info = metadata.topics.get(topic)
    if info is not None and info.error is None and info.partitions:
        return
    err = info.error if info is not None else None
    if err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
        raise denied(ident, operation, "topic", topic)
    raise missing_topic(ident, topic)


class _Reporter:
    """Process-wide "say it once": when each (address, kind) was last logged, how often it
    came since, and when it last came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], tuple[float, int, float]] = {}

    def report(self, key: tuple[str, str], message: str, now: float) -> None:
        with self._lock:
            logged, count, came = self._seen.get(key, (0.0, 0, 0.0))
            if count and now - logged < REPEAT_S:
                self._seen[key] = (logged, count + 1, now)
                return
            self._seen[key] = (now, 1, now)
        # "still" only while it kept coming: a client API logged "still, 16 times in the last
        # minute" at its shutdown about an outage five minutes over (a blind review), and
        # "still, 301 times" about one that had ended 50 s before (a docs review). While a
        # broker is away librdkafka retries at least every 10 s (reconnect.backoff.max.ms).
        if count > 1 and now - came < STILL_GAP_S:
            log.warning("%s (still, %d times in the last minute; retrying)", message, count)
        else:
            log.warning("%s (retrying with backoff)", message)


REPORTER = _Reporter()


class ErrorWatch:
    """A client's `error_cb`: raise permanent errors, report transient ones once.

    Permanent (authentication, TLS trust) errors are kept in `problem` and raised from the
    callback, so they come out of the client call that served it (poll, consume, flush).
    `on_error` is called first with every error (e.g. a worker's broker-up metric).
    """

    def __init__(
        self,
        ident: ClientIdentity,
        *,
        raise_permanent: bool = True,
        on_error: Callable[[KafkaError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ident = ident
        self.raise_permanent = raise_permanent
        self.on_error = on_error
        self.clock = clock
        self.problem: BrokerError | None = None
        self._cuts: list[float] = []  # when TLS handshakes were cut (is_cut_handshake)

    def _cut_again(self, now: float) -> bool:
        """Note a cut handshake; True when they repeat like a port that does not speak TLS."""
        self._cuts = [t for t in self._cuts if now - t < CUT_WINDOW_S] + [now]
        return len(self._cuts) >= CUT_HANDSHAKES

    def __call__(self, err: KafkaError) -> None:
        if self.on_error is not None:
            self.on_error(err)
        if is_cut_handshake(err) and self._cut_again(self.clock()):
            self.problem = self.problem or tls_failed(self.ident, _text(err))
            if self.raise_permanent:
                raise self.problem
            return
        if is_refused_login(err) or is_tls_failure(err):
            self.problem = self.problem or explain(err, self.ident)
            if self.raise_permanent:
                raise self.problem  # type: ignore[misc]
            return
        if self.problem is not None:
            return  # "all brokers down" after a refused login says nothing new
        if err.code() in _UNREACHABLE:
            one = _ONE_BROKER.match(_text(err)) if "," in self.ident.bootstrap else None
            if one is not None and err.code() != KafkaError._ALL_BROKERS_DOWN:
                # One node of a cluster: the message named every bootstrap address as if the
                # whole cluster were away (a blind review, one broker of three killed).
                REPORTER.report(
                    (one["broker"], "unreachable"),
                    f"cannot reach Kafka broker {one['broker']} ({one['why']}); "
                    "the client goes on with the others that answer",
                    self.clock(),
                )
                return
            REPORTER.report(
                (self.ident.bootstrap, "unreachable"),
                unreachable(self.ident, _text(err)).message,
                self.clock(),
            )
            return
        if err.fatal():
            self.problem = self.problem or BrokerError(
                f"fatal Kafka client error for {self.ident.who}: {_text(err)}",
                hint="the client cannot continue; restart it (the supervisor does)",
            )
            if self.raise_permanent:
                raise self.problem
            return
        REPORTER.report(
            (self.ident.bootstrap, err.name()), f"kafka client: {_text(err)}", self.clock()
        )

    def check(self) -> None:
        """Raise the permanent problem seen so far, if any."""
        if self.problem is not None:
            raise self.problem


def wait_flushed(
    producer: Any, timeout: float, ident: ClientIdentity | None = None, step: float = 0.25
) -> int:
    """`producer.flush(timeout)` in short steps, so a permanent error raised by the
    ErrorWatch comes out at once instead of after the whole timeout. Returns what is left."""
    deadline = time.monotonic() + timeout
    while True:
        left = producer.flush(min(step, max(0.0, deadline - time.monotonic())))
        if left == 0 or time.monotonic() >= deadline:
            return int(left)


# A command typed by hand fails at once when nothing listens at any bootstrap address; a
# service keeps librdkafka's retries (its broker may be restarting). The CLI turns it on.
_fail_fast = False


def fail_fast_when_refused(on: bool = True) -> None:
    """Whether `fetch_metadata` first asks each bootstrap address for a TCP connection and
    fails at once when every one is refused or does not resolve."""
    global _fail_fast
    _fail_fast = on


def refused_everywhere(bootstrap: str, timeout: float = 1.0) -> str | None:
    """Why no bootstrap address can be a broker: each refused the connection or named no
    host. None when one accepts, or only times out (a slow network is not an answer)."""
    reasons = []
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition("://")[2].rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return None
        except ConnectionRefusedError:
            reasons.append(f"{address.strip()}: connection refused")
        except (socket.gaierror, ValueError):
            reasons.append(f"{address.strip()}: no such host or port")
        except OSError:  # a timeout, no route: librdkafka's retries decide
            return None
    return "; ".join(reasons)


def fetch_metadata(
    admin: Any,
    ident: ClientIdentity,
    topic: str | None = None,
    timeout: float = 10.0,
    step: float = 1.0,
) -> Any:
    """`list_topics` that fails fast with the precise cause.

    A metadata request only reports "transport failure" after its timeout; the cause
    (authentication, TLS) sits in the error callback, which `poll()` serves: ask in
    short steps and poll in between.
    """
    if _fail_fast and (refused := refused_everywhere(ident.bootstrap)):
        raise unreachable(ident, refused)
    deadline = time.monotonic() + timeout
    last: KafkaException | None = None
    while True:
        remaining = deadline - time.monotonic()
        try:
            return admin.list_topics(topic, timeout=max(0.1, min(step, remaining)))
        except KafkaException as exc:
            last = exc
        admin.poll(0)  # serves error_cb: an ErrorWatch raises auth / TLS problems here
        if time.monotonic() >= deadline:
            detail = last.args[0].str() if last and isinstance(last.args[0], KafkaError) else ""
            raise unreachable(ident, detail) from None


def init_transactions(producer: Any, timeout: float = 30.0, step: float = 1.0) -> None:
    """`producer.init_transactions(timeout)` in retriable steps, polling in between, so a
    wrong password or an untrusted CA ends it in about a second (raised by the ErrorWatch)
    instead of a bare "timed out" after the whole timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            producer.init_transactions(max(0.1, min(step, deadline - time.monotonic())))
            return
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if (
                not (isinstance(err, KafkaError) and err.retriable())
                or time.monotonic() >= deadline
            ):
                raise
        producer.poll(0)  # serves error_cb
