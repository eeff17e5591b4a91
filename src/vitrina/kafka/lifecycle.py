"""Letting go of a librdkafka client with a deadline.

`Consumer.close()` and the destruction of every client (`rd_kafka_destroy`, run when the
last Python reference goes) wait without any deadline: for the group coordinator, for each
broker thread to end. librdkafka has open reports of both blocking for ever after a broker
became unreachable (confluentinc/librdkafka#4519). A one-shot command that has done its
work must not hang there because a broker was killed at the wrong moment: `release` closes
and destroys the client in a daemon thread and waits at most `timeout`. If that is not
enough it says so and goes on; the handle is reclaimed when the process exits.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

# 10 s: a reader without group membership closes in milliseconds (0.00-0.03 s in 8 trials on
# the 3-broker cluster, each just after its group coordinator was killed -9).
RELEASE_S = 10.0


def release(box: list[Any], what: str, timeout: float = RELEASE_S) -> bool:
    """Close the client in `box` (a Consumer) or destroy it (a Producer, an AdminClient),
    waiting at most `timeout` seconds. True when it ended in time.

    `box` is a one-item list holding the only reference to the client (`[self.producer]`
    after `self.producer = None`): the destruction runs where the last reference goes, so
    the caller must not keep one — not even as a call argument, which CPython holds until
    the call returns.
    """
    done = threading.Event()

    def let_go() -> None:
        try:
            _close(box.pop(), what)  # returning drops the last reference: destroyed there
        finally:
            done.set()

    threading.Thread(target=let_go, name=f"release {what}", daemon=True).start()
    if done.wait(timeout):
        return True
    log.warning(
        "%s did not close within %.0f s (a broker went away at the wrong moment); "
        "going on without waiting for it",
        what,
        timeout,
    )
    return False


def _close(client: Any, what: str) -> None:
    if hasattr(client, "produce"):
        return  # a producer: no close() (it would flush without a deadline), just destroy
    try:
        if hasattr(client, "close"):
            client.close()  # a consumer: close() also destroys the handle
    except Exception as exc:  # the client is going away; what failed is only logged
        log.debug("closing %s: %s", what, exc)
