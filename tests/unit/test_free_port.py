"""free_port() hands out listening ports outgoing connections can never take."""

from __future__ import annotations

from tests.conftest import ephemeral_range_low, free_port


def test_ports_are_below_the_ephemeral_range_and_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert max(ports) < ephemeral_range_low()
