"""`vitrina monitoring …`: embedded Prometheus/Alertmanager configs, alerts, deploy-time files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vitrina.cli.common import console, handle_errors, settings

app = typer.Typer(
    help="Prometheus, Alertmanager and Grafana: configs, dashboards, alerts.", no_args_is_help=True
)

REPO = Path(__file__).resolve().parents[3]


@app.command("config")
@handle_errors
def config(
    scrape_interval: str = typer.Option("15s", help="Scrape interval of every job."),
    evaluation_interval: str = typer.Option("15s", help="Rule evaluation interval."),
    webhook_url: str = typer.Option("", help="Alertmanager webhook receiver URL (empty: none)."),
) -> None:
    """Write the embedded prometheus.yml, rules and alertmanager.yml into <data_dir>/monitoring."""
    from vitrina.monitoring.embedded import write_configs

    files = write_configs(
        settings(),
        scrape_interval=scrape_interval,
        evaluation_interval=evaluation_interval,
        webhook_url=webhook_url or None,
    )
    console.print(f"prometheus:   {files.prometheus_yml}")
    console.print(f"alertmanager: {files.alertmanager_yml}")
    console.print(f"rules:        {files.rules_dir}")


@app.command("alerts")
@handle_errors
def alerts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the alerts firing in the embedded Prometheus (most severe first)."""
    from rich.table import Table

    from vitrina.monitoring.embedded import firing_alerts

    firing = firing_alerts(settings())
    if as_json:
        console.print_json(json.dumps(firing))
        return
    if not firing:
        console.print("[green]no alert is firing[/]")
        return
    table = Table("alert", "severity", "summary", "runbook")
    for alert in firing:
        table.add_row(alert["name"], alert["severity"], alert["summary"], alert["runbook"])
    console.print(table)


@app.command("dashboards")
@handle_errors
def dashboards(
    out: Path = typer.Option(
        REPO / "deploy" / "grafana" / "dashboards", help="Folder for the Grafana JSON files."
    ),
) -> None:
    """Write the Grafana dashboards (generated from vitrina.monitoring.dashboards)."""
    from vitrina.monitoring.dashboards import all_dashboards

    out.mkdir(parents=True, exist_ok=True)
    for name, board in all_dashboards().items():
        (out / name).write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", "utf-8")
        console.print(f"wrote {out / name}")


@app.command("render-alertmanager")
@handle_errors
def render_alertmanager(
    out: Path = typer.Option(..., help="Where to write the rendered alertmanager.yml (0600)."),
    template: Path = typer.Option(None, help="Template (default: deploy/alertmanager/…tmpl)."),
    telegram_chat_id: str = typer.Option(
        ..., envvar="TELEGRAM_CHAT_ID", help="Numeric Telegram chat id."
    ),
    telegram_bot_token_file: Path = typer.Option(
        ..., envvar="TELEGRAM_BOT_TOKEN_FILE", help="File holding the bot token."
    ),
    webhook_url: str = typer.Option(
        ..., envvar="ALERT_WEBHOOK_URL", help="Webhook receiver (e.g. the client API)."
    ),
    templates_dir: str = typer.Option(
        "/etc/alertmanager/templates",
        envvar="ALERTMANAGER_TEMPLATES_DIR",
        help="Where Alertmanager finds templates/*.tmpl.",
    ),
    inline_token: bool = typer.Option(
        True, help="Inline the token (Alertmanager < 0.26 has no bot_token_file)."
    ),
) -> None:
    """Render the distributed Alertmanager config from env / flags; secrets never in git."""
    from vitrina.monitoring import alertmanager as am

    source = template or am.template_path()
    config = am.render_alertmanager(
        source.read_text("utf-8"),
        {
            "TELEGRAM_CHAT_ID": telegram_chat_id,
            "TELEGRAM_BOT_TOKEN_FILE": str(telegram_bot_token_file),
            "ALERT_WEBHOOK_URL": webhook_url,
            "ALERTMANAGER_TEMPLATES_DIR": templates_dir,
        },
        inline_token=inline_token,
    )
    am.write_rendered(config, out)
    console.print(f"wrote {out} (mode 0600)")
