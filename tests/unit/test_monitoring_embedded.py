"""Embedded monitoring: generated configs, argv lists, errors when things are missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import free_port

from vitrina.errors import ConfigError, UnavailableError, VitrinaError
from vitrina.monitoring import alertmanager as am
from vitrina.monitoring.embedded import (
    client_api_webhook,
    firing_alerts,
    monitoring_processes,
    write_configs,
)
from vitrina.settings import load_settings


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(
        data_dir=tmp_path / "data",
        ports={"prometheus": 19990, "alertmanager": 19993, "filter": 19101},
    )


def test_prometheus_config_scrapes_each_service_on_localhost(settings) -> None:
    files = write_configs(
        settings,
        services=["filter", "client-api", "mirror"],
        scrape_interval="1s",
        evaluation_interval="1s",
    )
    config = yaml.safe_load(files.prometheus_yml.read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets["filter"] == ["127.0.0.1:19101"]
    assert targets["client-api"] == [f"127.0.0.1:{settings.ports.client_api}"]
    assert targets["mirror"] == [f"127.0.0.1:{settings.ports.mirror}"]
    assert targets["prometheus"] == ["127.0.0.1:19990"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:19993"
    ]
    assert config["global"]["scrape_interval"] == "1s"
    assert config["global"]["scrape_timeout"] == "1s"  # never longer than the interval
    assert config["rule_files"] == [str(files.rules_dir / "*.yml")]
    assert files.root == (settings.data_dir / "monitoring").resolve()


def test_default_targets_are_the_built_services(settings) -> None:
    from vitrina.services import SERVICES

    files = write_configs(settings)
    jobs = {
        j["job_name"] for j in yaml.safe_load(files.prometheus_yml.read_text())["scrape_configs"]
    }
    built = {s.name for s in SERVICES if s.available()}
    assert built and built <= jobs
    assert jobs - built == {"prometheus", "alertmanager"}


def test_for_override_shortens_every_alert_and_keeps_the_rest(settings) -> None:
    files = write_configs(settings, for_override="2s")
    rules = [
        r
        for path in files.rules_dir.glob("*.yml")
        for g in yaml.safe_load(path.read_text())["groups"]
        for r in g["rules"]
    ]
    assert rules and all(r["for"] == "2s" for r in rules)
    down = next(r for r in rules if r["alert"] == "KafkaBrokerDown")
    assert "max(vitrina_worker_broker_up) == 0" in down["expr"]
    assert down["annotations"]["runbook"]
    files = write_configs(settings)  # regenerating restores the real windows
    kafka = yaml.safe_load((files.rules_dir / "kafka.yml").read_text())
    assert kafka["groups"][0]["rules"][0]["for"] == "30s"


def test_alertmanager_config_webhook_or_none(settings) -> None:
    files = write_configs(settings)
    config = yaml.safe_load(files.alertmanager_yml.read_text())
    assert config["receivers"] == [{"name": "operator"}]
    assert config["inhibit_rules"][0]["source_matchers"] == ["alertname = KafkaBrokerDown"]
    files = write_configs(settings, webhook_url=client_api_webhook(settings))
    receiver = yaml.safe_load(files.alertmanager_yml.read_text())["receivers"][0]
    assert receiver["webhook_configs"][0]["url"] == (
        f"http://127.0.0.1:{settings.ports.client_api}/api/v1/alerts/webhook"
    )
    token_file = receiver["webhook_configs"][0]["http_config"]["authorization"]["credentials_file"]
    assert token_file == str((settings.secrets_dir / "alert-webhook.token").resolve())


def test_monitoring_processes_listen_on_localhost_with_storage_in_the_data_dir(settings) -> None:
    if not all(__import__("shutil").which(b) for b in ("prometheus", "prometheus-alertmanager")):
        pytest.skip("apt-get install -y prometheus prometheus-alertmanager")
    procs = dict(monitoring_processes(settings))
    assert set(procs) == {"prometheus", "alertmanager"}
    prom, alert = procs["prometheus"], procs["alertmanager"]
    data = str((settings.data_dir / "monitoring").resolve())
    assert prom[0].endswith("prometheus")
    assert "--web.listen-address=127.0.0.1:19990" in prom
    assert any(a.startswith("--storage.tsdb.path=" + data) for a in prom)
    assert "--web.listen-address=127.0.0.1:19993" in alert
    assert any(a.startswith("--storage.path=" + data) for a in alert)
    assert "--cluster.listen-address=" in alert  # no gossip port on 0.0.0.0
    assert Path(prom[1].split("=", 1)[1]).is_file()


def test_missing_binaries_raise_with_an_install_hint(settings, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VitrinaError) as info:
        monitoring_processes(settings)
    assert "prometheus is not installed" in info.value.message
    assert "apt-get install -y prometheus prometheus-alertmanager" in (info.value.hint or "")


def test_firing_alerts_without_prometheus_is_a_clear_error(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path, ports={"prometheus": free_port()})
    with pytest.raises(UnavailableError) as info:
        firing_alerts(settings, timeout=0.5)
    assert "vitrina up --monitoring" in (info.value.hint or "")


VALUES = {
    "TELEGRAM_CHAT_ID": "-100123",
    "TELEGRAM_BOT_TOKEN_FILE": "/nonexistent",
    "ALERT_WEBHOOK_URL": "http://x/hook",
    "ALERTMANAGER_TEMPLATES_DIR": "/t",
}


def test_render_refuses_missing_values_bad_chat_id_and_missing_token() -> None:
    template = am.template_path().read_text()
    with pytest.raises(ConfigError, match="TELEGRAM_CHAT_ID"):
        am.render_alertmanager(template, {**VALUES, "TELEGRAM_CHAT_ID": ""})
    with pytest.raises(ConfigError, match="not a number"):
        am.render_alertmanager(template, {**VALUES, "TELEGRAM_CHAT_ID": "@channel"})
    with pytest.raises(ConfigError, match="does not exist"):
        am.render_alertmanager(template, VALUES)


def test_render_refuses_a_file_that_is_not_a_token(tmp_path) -> None:
    token = tmp_path / "token"
    token.write_text("changeme\n")
    with pytest.raises(ConfigError, match="does not hold a Telegram bot token"):
        am.render_alertmanager(
            am.template_path().read_text(), {**VALUES, "TELEGRAM_BOT_TOKEN_FILE": str(token)}
        )


def test_render_without_inlining_keeps_bot_token_file() -> None:
    config = am.render_alertmanager(am.template_path().read_text(), VALUES, inline_token=False)
    telegram = config["receivers"][0]["telegram_configs"][0]
    assert telegram["bot_token_file"] == "/nonexistent" and "bot_token" not in telegram
    assert config["templates"] == ["/t/*.tmpl"]
