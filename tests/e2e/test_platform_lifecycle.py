"""`vitrina up` as an operator drives it: signals, a closed pipe, a second `up`, `status`.

Real processes only: the embedded broker and the filter (and lake sink) services, started
by `vitrina up --only …` on private ports and a private data dir.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.conftest import wait_for
from tests.e2e.test_demo import platform_env

from vitrina.broker import pid_alive

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VITRINA = [sys.executable, "-m", "vitrina"]
UP = [*VITRINA, "up", "--only", "filter", "--no-traffic", "--no-sample"]


def _our_processes(data_dir: Path) -> list[int]:
    """PIDs whose command line names this data dir (services get its settings file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(data_dir) in cmdline and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


class Up:
    """`vitrina up` in the background; its output read line by line (until we stop reading)."""

    def __init__(self, env: dict[str, str], argv: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv or UP,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[str] = []
        self.reading = True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace"))
            if not self.reading:
                break
        self.proc.stdout.close()  # like `head -1` exiting: the pipe has no reader now

    def text(self) -> str:
        return "".join(self.lines)

    def wait_running(self, timeout: float = 90) -> None:
        wait_for(
            lambda: "platform running" in self.text(),
            timeout,
            interval=0.5,
            message=f"`vitrina up` to start:\n{self.text()[-3000:]}",
        )

    def kill(self) -> None:
        """After a failed assertion: SIGTERM (so it stops its children), SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.mark.parametrize(
    ("signum", "close_pipe"),
    [(signal.SIGTERM, False), (signal.SIGHUP, True), (signal.SIGINT, True)],
    ids=["sigterm", "sighup-closed-pipe", "ctrl-c-closed-pipe"],
)
def test_signals_stop_everything_in_order(tmp_path: Path, signum: int, close_pipe: bool) -> None:
    """Issue 12 item 11: SIGTERM left the broker and every service running; so did Ctrl-C
    when the output was piped (the "stopping…" print failed on the closed pipe)."""
    data = tmp_path / "data"
    env = platform_env(data)
    up = Up(env)
    try:
        up.wait_running()
        broker_pid = int((data / "run" / "broker.pid").read_text())
        assert len(_our_processes(data)) >= 1, "the filter runs with this data dir's settings"
        if close_pipe:
            up.reading = False
            up.proc.stdout.close() if up.proc.stdout else None
        up.proc.send_signal(signum)
        code = up.proc.wait(60)
    finally:
        up.kill()
    assert code in (128 + signum, 130, 0), up.text()[-2000:]
    assert not pid_alive(broker_pid), "the broker was left running"
    assert _our_processes(data) == [], "a service was left running"
    assert not (data / "run" / "broker.pid").exists()


def test_nothing_outlives_a_killed_up(tmp_path: Path) -> None:
    """Regression: after `kill -9` of `vitrina up` its services died with it (SIGTERM from
    the kernel, PR_SET_PDEATHSIG), but the embedded broker it had started ran on as an
    orphan, for ever: the next `vitrina up` took it as a broker started by someone else and
    left it running when it stopped. The broker now dies with the `vitrina up` that started
    it, with a clean shutdown."""
    data = tmp_path / "data"
    env = platform_env(data)
    up = Up(env)
    try:
        up.wait_running()
        broker_pid = int((data / "run" / "broker.pid").read_text())
        assert broker_pid in _our_processes(data)
        up.proc.kill()
        up.proc.wait(10)
        wait_for(
            lambda: not pid_alive(broker_pid),
            60,
            message="the broker to stop with the killed `vitrina up` that started it",
        )
        wait_for(lambda: _our_processes(data) == [], 30, message="every service to stop")
    finally:
        up.kill()
        subprocess.run([*VITRINA, "broker", "stop"], env=env, capture_output=True, check=False)


def test_second_up_refuses_and_status_tells_the_truth(tmp_path: Path) -> None:
    """Issue 12 items 12-13: a second `up` on the same data dir "ran" and broke the first;
    `vitrina status` exited 0 with everything down and showed `traffic down` under
    --no-traffic."""
    data = tmp_path / "data"
    env = platform_env(data)
    down = subprocess.run(
        [*VITRINA, "status"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert down.returncode == 1, down.stdout
    assert "DOWN" in down.stdout and "down:" in down.stderr
    up = Up(env, [*VITRINA, "up", "--only", "filter", "--only", "lake-sink", "--no-traffic"])
    try:
        up.wait_running(120)
        second = subprocess.run(
            UP, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode != 0
        assert f"pid {up.proc.pid}" in second.stderr, second.stderr
        assert "platform running" not in second.stdout
        runs: list[subprocess.CompletedProcess[str]] = []

        def status_ok() -> bool:  # the filter serves /metrics once it has started
            runs.append(
                subprocess.run(
                    [*VITRINA, "status"],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
            )
            return runs[-1].returncode == 0

        log = data / "logs" / "filter.log"
        try:
            wait_for(status_ok, 90, interval=1.0, message="`vitrina status` to exit 0")
        except AssertionError:
            raise AssertionError(
                runs[-1].stdout + (log.read_text()[-2000:] if log.is_file() else "")
            ) from None
        assert "filter" in runs[-1].stdout and "traffic" not in runs[-1].stdout
        # Issue 12 item 10: lake and logs hold customer data — directories 700, files 600.
        lake = data / "lake"
        wait_for(
            lambda: any(lake.rglob("*.parquet")),
            90,
            interval=1.0,
            message="the sample catalogue in the lake",
        )
        for root in (data, data / "logs", lake):
            assert root.stat().st_mode & 0o777 == 0o700, root
        for path in [*lake.rglob("*"), *(data / "logs").iterdir()]:
            assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(60)
    finally:
        up.kill()
    after = subprocess.run(
        [*VITRINA, "status"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert after.returncode == 1


def test_the_page_answers_once_the_sample_is_searchable_and_rebuild_works_after_it(
    tmp_path: Path,
) -> None:
    """A new user's first search, sent the moment the web page answered, found nothing: the
    sample catalogue had been sent but not indexed yet. The client API now starts once the
    sample is searchable, so its very first answer finds it. Once the platform is stopped
    (its embedded broker with it), `vitrina index rebuild` starts the broker, rebuilds the
    index from filtered-products and stops the broker again."""
    import httpx

    from vitrina.search.embedded import EmbeddedSearch

    data = tmp_path / "data"
    env = platform_env(data)
    search = f"http://127.0.0.1:{env['VITRINA__PORTS__CLIENT_API']}/api/v1/search"
    argv = [*VITRINA, "up", "--only", "filter", "--only", "indexer", "--only", "client-api"]
    up = Up(env, [*argv, "--no-traffic"])
    first: list[httpx.Response] = []

    def first_answer() -> bool:  # the port's first answer, whatever it says
        try:
            first.append(httpx.get(search, params={"q": "часы"}, timeout=5))
        except httpx.HTTPError:
            return up.proc.poll() is not None
        return True

    try:
        wait_for(first_answer, 180, interval=0.05, message=f"the client API:\n{up.text()[-3000:]}")
        assert first and first[0].status_code == 200, up.text()
        assert first[0].json()["total"] > 0, (first[0].text, up.text())
        wait_for(
            lambda: "platform running" in up.text() or up.proc.poll() is not None,
            120,
            interval=0.05,
            message=f"`vitrina up` to start:\n{up.text()[-3000:]}",
        )
        index = EmbeddedSearch(data / "search-index", readonly=True)
        try:
            assert index.count() >= 300, up.text()
        finally:
            index.close()
        text = up.text()
        assert text.index("products searchable") < text.index("web page:"), text
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(60)
    finally:
        up.kill()
    rebuilt = subprocess.run(
        [*VITRINA, "index", "rebuild", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["documents"] == 300
    status = subprocess.run(
        [*VITRINA, "broker", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "not running" in status.stdout, status.stdout
    # Started again, the platform does not send the sample again: a new user's changes to
    # sample products (a price, a stock) were undone at every restart.
    again = Up(env, [*VITRINA, "up", "--only", "filter", "--no-traffic"])
    try:
        again.wait_running()
        text = " ".join(again.text().split())
        assert "sample catalogue: sent at the first start" in text, text
        assert "catalogues" not in text, text  # no `shop load` summary: nothing was sent
        again.proc.send_signal(signal.SIGTERM)
        again.proc.wait(60)
    finally:
        again.kill()
