"""`vitrina run SERVICE`: a service that fails exits at once, whatever would block its exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import threading

    from vitrina.cli.run import run_service
    from vitrina.errors import BrokerError
    from vitrina.settings import Settings

    # Stands in for a librdkafka client whose destroy never returns (it has no deadline):
    # a thread the interpreter's exit would wait for, for ever.
    threading.Thread(target=threading.Event().wait, name="stuck teardown").start()

    def main(settings):
        raise BrokerError(
            "filter: adding offsets to the transaction failed: Broker: Unknown member",
            hint="the supervisor restarts the worker",
        )

    run_service(main, Settings())
    """
)


def test_a_failed_service_says_why_and_exits_although_its_teardown_would_block() -> None:
    """Regression (rehearsal of stop 30): the filter printed its error and then stayed
    alive for the test's 180 s, so its supervisor never restarted it. Before the fix this
    child never exits (the timeout below)."""
    result = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 1
    assert "Unknown member" in result.stderr
    assert "the supervisor restarts the worker" in result.stderr  # the hint too


def test_a_service_log_keeps_the_http_clients_failed_request_tracebacks_out() -> None:
    # With OpenSearch down the indexer logged 767 lines in 20 s: opensearch-py and urllib3
    # log every failed request with its traceback at WARNING (three a retry), and every
    # expected 404 at start. The service logs the outage once itself; their errors show.
    import logging

    from vitrina.cli.common import CHATTY_LOGGERS
    from vitrina.cli.run import configure_logging

    saved = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("indexer", "INFO")
        for name in CHATTY_LOGGERS:
            client = logging.getLogger(name)
            assert not client.isEnabledFor(logging.WARNING), name
            assert client.isEnabledFor(logging.ERROR), name
        assert logging.getLogger("vitrina.services.indexer").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in saved.items():
            logging.getLogger(name).setLevel(old)
