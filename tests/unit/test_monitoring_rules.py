"""Alert rules and Alertmanager configs checked by the real promtool / amtool.

CI installs them (scripts/install-system-deps.sh: Debian `prometheus`, `prometheus-alertmanager`);
locally the tool-based tests skip with the install command when a binary is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from vitrina.monitoring import alertmanager as am
from vitrina.monitoring.embedded import inhibit_rules, write_configs
from vitrina.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.yml"))
TOKEN = "123456789:AAbbccddeeffgghhiijjkkllmmnnoopp"  # fake, shaped like a real one


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed: apt-get install -y prometheus prometheus-alertmanager")
    return path


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def all_alerts() -> dict[str, dict]:
    alerts = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["alert"] not in alerts, f"duplicate alert {rule['alert']}"
                    alerts[rule["alert"]] = rule
    return alerts


def test_the_issue_s_alerts_exist() -> None:
    names = set(all_alerts())
    for expected in (
        "KafkaBrokerDown",
        "KafkaUnderReplicatedPartitions",
        "KafkaOfflinePartitions",
        "VitrinaConsumerLagGrowing",
        "VitrinaPipelineStalled",
        "VitrinaDeadLetters",
        "VitrinaServiceDown",
        "VitrinaAnalyticsStale",
        "VitrinaApiErrorRate",
        "VitrinaApiLatencyHigh",
    ):
        assert expected in names


def test_every_alert_has_severity_summary_description_and_one_line_runbook() -> None:
    for name, rule in all_alerts().items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        notes = rule["annotations"]
        assert notes.get("summary") and notes.get("description"), name
        assert notes.get("runbook") and "\n" not in notes["runbook"].strip(), name


def test_every_alert_has_a_firing_and_a_quiet_promtool_case() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = set(all_alerts())
    assert alerts - fires == set(), "alerts never shown firing"
    assert alerts - quiet == set(), "alerts never shown staying quiet"


def test_promtool_check_rules() -> None:
    result = run(need("promtool"), "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_distributed_config() -> None:
    result = run(need("promtool"), "check", "config", "prometheus.yml", cwd=PROM)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)} rule files found" in result.stdout


def test_promtool_rule_unit_tests() -> None:
    result = run(
        need("promtool"), "test", "rules", *(p.name for p in TEST_FILES), cwd=PROM / "tests"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def test_promtool_accepts_the_embedded_config(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    files = write_configs(settings, for_override="2s")
    result = run(need("promtool"), "check", "config", str(files.prometheus_yml))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)} rule files found" in result.stdout


def rendered_distributed(tmp_path: Path) -> Path:
    token = tmp_path / "telegram-bot-token"
    token.write_text(TOKEN + "\n")
    config = am.render_alertmanager(
        am.template_path().read_text(),
        {
            "TELEGRAM_CHAT_ID": "-1001234567890",
            "TELEGRAM_BOT_TOKEN_FILE": str(token),
            "ALERT_WEBHOOK_URL": "http://client-api:8080/api/v1/alerts/webhook",
            "ALERTMANAGER_TEMPLATES_DIR": str(ROOT / "deploy" / "alertmanager" / "templates"),
        },
    )
    return am.write_rendered(config, tmp_path / "alertmanager.yml")


def test_amtool_checks_the_rendered_distributed_config(tmp_path: Path) -> None:
    out = rendered_distributed(tmp_path)
    result = run(need("amtool"), "check-config", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout and "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "alertname=KafkaBrokerDown"], "telegram-oncall,operator-webhook"),
        (["severity=warning", "alertname=VitrinaDeadLetters"], "telegram-oncall,operator-webhook"),
        (["alertname=Watchdog"], "operator-webhook"),
    ],
)
def test_alert_routing(tmp_path: Path, labels: list[str], receivers: str) -> None:
    out = rendered_distributed(tmp_path)
    result = run(need("amtool"), "config", "routes", "test", f"--config.file={out}", *labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receivers


def test_amtool_checks_the_embedded_config(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    files = write_configs(settings, webhook_url="http://127.0.0.1:8080/api/v1/alerts/webhook")
    result = run(need("amtool"), "check-config", str(files.alertmanager_yml))
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_deployments_inhibit_the_same_way() -> None:
    template = yaml.safe_load(am.template_path().read_text().replace("${", "{"))
    assert template["inhibit_rules"] == inhibit_rules()
    first = inhibit_rules()[0]
    assert first["source_matchers"] == ["alertname = KafkaBrokerDown"]
    for consequence in (
        "VitrinaConsumerLagGrowing",
        "VitrinaPipelineStalled",
        "VitrinaApiErrorRate",
    ):
        assert consequence in first["target_matchers"][0]


def test_telegram_token_is_not_in_git_and_inlined_only_in_the_0600_render(tmp_path: Path) -> None:
    assert TOKEN not in am.template_path().read_text()
    assert "bot_token:" not in am.template_path().read_text()
    out = rendered_distributed(tmp_path)
    assert out.stat().st_mode & 0o777 == 0o600
    telegram = yaml.safe_load(out.read_text())["receivers"][0]["telegram_configs"][0]
    assert telegram["bot_token"] == TOKEN and telegram["chat_id"] == -1001234567890


def test_telegram_message_template_renders_and_escapes_html(tmp_path: Path) -> None:
    import json

    alert = {"startsAt": "2026-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "a"}
    data = {
        "receiver": "telegram-oncall",
        "status": "firing",
        "externalURL": "http://am",
        "groupLabels": {},
        "commonLabels": {"severity": "critical"},
        "commonAnnotations": {},
        "alerts": [
            {
                **alert,
                "status": "firing",
                "endsAt": "0001-01-01T00:00:00Z",
                "labels": {"alertname": "VitrinaConsumerLagGrowing", "service": "indexer"},
                "annotations": {"summary": "lag <1000 & rising", "runbook": "add replicas"},
            },
            {
                **alert,
                "status": "resolved",
                "endsAt": "2026-01-01T00:05:00Z",
                "labels": {"alertname": "KafkaBrokerDown"},
                "annotations": {},
            },
        ],
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    result = run(
        need("amtool"),
        "template",
        "render",
        f"--template.glob={ROOT / 'deploy' / 'alertmanager' / 'templates'}/*.tmpl",
        '--template.text={{ template "vitrina.telegram.message" . }}',
        f"--template.data={tmp_path / 'data.json'}",
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "<b>FIRING</b> [critical]" in text
    assert "<b>VitrinaConsumerLagGrowing</b> · indexer" in text
    assert "lag &lt;1000 &amp; rising" in text  # Telegram HTML mode needs escaping
    assert "▶ add replicas" in text
    assert "Resolved:\n• KafkaBrokerDown" in text
