"""What users meet right after a kill (chaos review): `vitrina up` waits for the ports of a
killed platform's services to be freed (a port that stays taken is named), and a `shop load`
whose broker died says how many of its products were published."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from vitrina.orchestrate import ports_in_use
from vitrina.settings import load_settings


def _listening() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def test_a_port_freed_while_up_waits_is_not_in_use(tmp_path: Path) -> None:
    """Right after a kill -9 of `vitrina up`, its services held their ports for ~0.6 s and
    an `up` started then was refused: "ports already in use … another program listens
    there" (chaos review)."""
    sock, port = _listening()
    settings = load_settings(data_dir=tmp_path, ports={"filter": port})
    freed = threading.Event()

    def free_soon() -> None:
        freed.wait(0.5)
        sock.close()

    assert ports_in_use(settings, ["filter"]) == [f"ports.filter = {port}"]  # no wait: taken
    closer = threading.Thread(target=free_soon)
    closer.start()
    assert ports_in_use(settings, ["filter"], wait_s=30) == []
    closer.join()


def test_a_port_that_stays_taken_is_named_after_the_wait(tmp_path: Path) -> None:
    sock, port = _listening()
    try:
        settings = load_settings(data_dir=tmp_path, ports={"filter": port})
        assert ports_in_use(settings, ["filter"], wait_s=0.5) == [f"ports.filter = {port}"]
    finally:
        sock.close()


def test_a_refused_ownership_claim_says_how_many_products_were_published_before_it(
    tmp_path: Path,
) -> None:
    """`shop load` said "the products it covers were not published" and nothing else when
    the broker died under it: 17,806 of 30,000 products were published (chaos review)."""
    from vitrina.services.shop_load import ShopLoader

    settings = load_settings(data_dir=tmp_path, kafka={"bootstrap_servers": "127.0.0.1:9"})
    loader = ShopLoader(settings, producer=object())  # type: ignore[arg-type]
    loader.claimed_and_produced = 17806
    message = loader._claims_failed("was refused").message
    assert "17,806 of this load's before them were" in message
