"""`vitrina status` said every line "up" (exit 0) while the lake sink crash-looped (its
metrics port answered between deaths) and while OpenSearch was killed and every search
answered 503 (a blind review of the native cluster). Now a service the supervisor reports in
a crash loop, and an OpenSearch index or a remote lake that does not answer, are down."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import free_port
from tests.support import run_vitrina

from vitrina.runstate import PlatformLock
from vitrina.settings import load_settings


def test_status_names_a_crash_loop_and_storage_that_does_not_answer(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    lock = PlatformLock(settings, services=["lake-sink"], looping=["lake-sink"]).acquire()
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "VITRINA__DATA_DIR": str(tmp_path),
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "VITRINA__BROKER__PORT": str(free_port()),
            "VITRINA__SEARCH__BACKEND": f'{{"type": "opensearch", "url": "http://127.0.0.1:{free_port()}"}}',
            "VITRINA__LAKE__BACKEND": f'{{"type": "webhdfs", "url": "webhdfs://127.0.0.1:{free_port()}"}}',
        }
        done = run_vitrina("status", env=env, timeout=60)
    finally:
        lock.release()
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CRASH LOOP" in lines["lake-sink"], lines
    assert "DOWN" in lines["search"] and "OpenSearch http://127.0.0.1" in lines["search"]
    assert "DOWN" in lines["lake"] and "does not answer" in lines["lake"]
    said = " ".join(done.stderr.split())
    assert "lake-sink" in said and "search" in said and "lake" in said
    assert "cluster up --only hdfs|opensearch|s3" in said  # not only "vitrina up"
    # the HTTP clients' failed-request tracebacks stay out (a review saw 146 lines)
    assert 'File "' not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_status_on_the_packaged_cluster_profile_points_at_the_written_one(
    tmp_path: Path,
) -> None:
    """`vitrina --profile cluster status` (as README says) asked the packaged profile's
    default ports while the cluster ran on others, and said `vitrina up` starts everything."""
    written = tmp_path / "cluster" / "profile.yaml"
    written.parent.mkdir(parents=True)
    written.write_text("profile: cluster\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VITRINA__DATA_DIR": str(tmp_path),
        "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
    }
    done = run_vitrina("--profile", "cluster", "status", env=env, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    # as it is printed: one line, the path whole (a wrap broke it: "profile.y aml")
    assert f"vitrina --profile {written} status" in done.stderr, done.stderr


def test_status_asks_the_ports_the_running_platform_started_its_services_on(
    tmp_path: Path,
) -> None:
    """A second blind review ran `vitrina status` in a new shell, without the
    VITRINA__PORTS__* the `up` had: every service "DOWN" on the default ports while all of
    them served. Status now reads the settings file `up` started them with."""
    from prometheus_client import start_http_server

    from vitrina.runstate import children_settings

    port = free_port()
    started = load_settings(data_dir=tmp_path, ports={"filter": port})
    children_settings(started)  # what `vitrina up` writes for its services
    lock = PlatformLock(started, services=["filter"]).acquire()
    server, _ = start_http_server(port, addr="127.0.0.1")  # the filter's /metrics
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "VITRINA__DATA_DIR": str(tmp_path),  # no VITRINA__PORTS__FILTER here
            "VITRINA__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            "VITRINA__BROKER__PORT": str(free_port()),
        }
        done = run_vitrina("status", env=env, timeout=60)
    finally:
        server.shutdown()
        lock.release()
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert lines["filter"].split()[1] == "up" and f":{port}" in lines["filter"], lines
