"""The embedded PostgreSQL's hygiene: no server outlives its users, whatever ended them, and a busy
port stops `serve` before the database starts. The servers here run without LMS_DATABASE_URL, in a
fresh data dir each, as a new user's first `lms-graphql serve` does."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from lms_graphql.cli import main
from lms_graphql.kit.embedded import (
    HANDLES_FILE,
    STARTS_FILE,
    forget_departed_users,
    forget_stale_postmaster_pid,
    record_start,
)
from tests.support.servers import CONSOLE_SCRIPT, free_port, run_server, stop, wait_until_ready


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh LMS_DATA_DIR for the embedded server; no PostgreSQL started on it outlives the test."""
    for key in ("LMS_DATABASE_URL", "LMS_APP_DATABASE_URL", "LMS_JWT_SECRET"):
        monkeypatch.delenv(key, raising=False)
    directory = (tmp_path / "data").resolve()
    yield directory
    postmaster = running_postmaster(directory / "pgdata")
    if postmaster is not None:
        postmaster.send_signal(signal.SIGQUIT)  # PostgreSQL's immediate shutdown
        try:
            postmaster.wait(10)
        except psutil.TimeoutExpired:
            postmaster.kill()


def running_postmaster(pgdata: Path) -> psutil.Process | None:
    """The PostgreSQL serving ``pgdata``, found through its postmaster.pid, if it runs."""
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]))
        if process.status() != psutil.STATUS_ZOMBIE and str(pgdata) in process.cmdline():
            return process
    except (OSError, ValueError, psutil.NoSuchProcess):
        pass
    return None


def has_exited(process: psutil.Process, timeout: float = 10) -> bool:
    """Whether the process ends within ``timeout``; a zombie has ended (its reaper may be slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def listed_users(pgdata: Path) -> list[int]:
    users: list[int] = json.loads((pgdata / HANDLES_FILE).read_text())
    return users


def spawn_sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"])


def test_departed_users_are_forgotten_live_ones_kept(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()
    zombie = spawn_sleeper()
    kept = spawn_sleeper()
    reused = spawn_sleeper()
    try:
        zombie.kill()  # and not reaped: a zombie, which psutil.pid_exists still counts
        while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.05)
        record_start(pgdata, kept.pid)
        starts = json.loads((pgdata / STARTS_FILE).read_text())
        # The pid once belonged to a process that started a minute before this one did.
        starts[str(reused.pid)] = psutil.Process(reused.pid).create_time() - 60
        (pgdata / STARTS_FILE).write_text(json.dumps(starts))
        unrecorded = os.getpid()  # listed by a version that did not record start times: alive is enough
        (pgdata / HANDLES_FILE).write_text(json.dumps([gone.pid, zombie.pid, kept.pid, reused.pid, unrecorded]))

        assert forget_departed_users(pgdata) == [gone.pid, zombie.pid, reused.pid]
        assert listed_users(pgdata) == [kept.pid, unrecorded]
        assert list(json.loads((pgdata / STARTS_FILE).read_text())) == [str(kept.pid)]
        assert forget_departed_users(pgdata) == []
    finally:
        for process in (zombie, kept, reused):
            process.kill()
            process.wait()


def test_a_torn_list_of_users_is_replaced(tmp_path: Path) -> None:
    """The library writes its list in place: a process stopped mid-write leaves half a list, on which
    the library would fail at every start."""
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / HANDLES_FILE).write_text("[1234")
    assert forget_departed_users(pgdata) == []
    assert listed_users(pgdata) == []


def test_a_postmaster_pid_worn_by_another_program_is_removed(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    pid_file = pgdata / "postmaster.pid"
    stranger = spawn_sleeper()
    try:
        pid_file.write_text(f"{stranger.pid}\n{pgdata}\n")
        forget_stale_postmaster_pid(pgdata)
        assert not pid_file.exists()
    finally:
        stranger.kill()
        stranger.wait()
    # A dead pid is the library's and PostgreSQL's to judge; the file stays.
    pid_file.write_text(f"{stranger.pid}\n{pgdata}\n")
    forget_stale_postmaster_pid(pgdata)
    assert pid_file.exists()


@pytest.mark.slow
def test_kill_9_leaves_a_server_the_next_start_adopts_and_a_hangup_stops(data_dir: Path) -> None:
    pgdata = data_dir / "pgdata"
    env = {"LMS_DATA_DIR": str(data_dir)}
    first, base = run_server(env)
    try:
        wait_until_ready(first, base)
    finally:
        first.kill()
        stop(first)
    orphan = running_postmaster(pgdata)
    assert orphan is not None, "kill -9 of serve does not stop the embedded PostgreSQL"
    assert listed_users(pgdata) == [first.pid]

    # A terminal: `serve` leads its session with the pty as its controlling terminal.
    terminal, tty = os.openpty()
    port = free_port()
    second = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdin=tty,
        stdout=tty,
        stderr=tty,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(tty)
    try:
        output = wait_until_ready_reading(second, f"http://127.0.0.1:{port}", terminal)
        adopted = running_postmaster(pgdata)
        assert adopted is not None
        assert adopted.pid == orphan.pid, "the orphan was adopted, not replaced"
        assert listed_users(pgdata) == [second.pid], output
    finally:
        os.close(terminal)  # the terminal closes: its session leader gets SIGHUP
    assert second.wait(30) >= 0, "serve exited through its handlers, not killed by the signal"
    assert running_postmaster(pgdata) is None
    assert has_exited(orphan)
    assert not (pgdata / "postmaster.pid").exists()


def wait_until_ready_reading(process: subprocess.Popen[bytes], base: str, terminal: int, timeout: float = 90) -> str:
    """Wait for /readyz while reading what the server writes to its terminal (a full pty blocks it)."""
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        while select.select([terminal], [], [], 0)[0]:
            output += os.read(terminal, 65536)
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{output.decode(errors='replace')}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return output.decode(errors="replace")
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not become ready:\n{output.decode(errors='replace')}")


def catches_hangup(process: psutil.Process) -> bool:
    """Whether ``process`` has a SIGHUP handler (its SigCgt mask in /proc)."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return False
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) & (1 << (signal.SIGHUP - 1)))


@pytest.mark.slow
def test_hangup_of_serve_with_workers_stops_them_and_the_database(data_dir: Path) -> None:
    pgdata = data_dir / "pgdata"
    port = free_port()
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "serve", "--workers", "2", "--port", str(port)],
        env={**os.environ, "LMS_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}")
        postmaster = running_postmaster(pgdata)
        assert postmaster is not None
        workers = psutil.Process(process.pid).children()
        assert len(workers) >= 2
        # /readyz answered by one worker: wait until both have started (and catch a hang-up).
        waiting = time.monotonic() + 30
        while sum(catches_hangup(worker) for worker in workers) < 2 and time.monotonic() < waiting:
            time.sleep(0.1)
        # What a shell does with its jobs when its terminal closes: SIGHUP to the whole process group.
        os.killpg(process.pid, signal.SIGHUP)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "Received SIGHUP, exiting." in output
    assert "restarting processes" not in output
    # Each worker drained (the hang-up reached it too) rather than dying mid-request.
    assert output.count("Application shutdown complete") == output.count("Started server process") == 2, output
    assert process.returncode == 0
    assert all(has_exited(worker) for worker in workers)
    assert has_exited(postmaster)
    assert not (pgdata / "postmaster.pid").exists()


def test_busy_port_is_one_line_before_the_database_starts(data_dir: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = subprocess.run(
            [CONSOLE_SCRIPT, "serve", "--demo", "--port", str(port)],
            env={**os.environ, "LMS_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"lms-graphql: port {port} on 127.0.0.1 is in use (another lms-graphql serve?); choose another with --port\n"
    )
    assert not (data_dir / "pgdata").exists()  # no database started, migrated or loaded with demo data


def test_an_address_not_on_this_machine_is_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMS_DATA_DIR", str(data_dir))
    code = main(["serve", "--host", "192.0.2.1", "--port", "8000"])  # TEST-NET-1: never this machine's
    assert code == 1
    assert capsys.readouterr().err == "lms-graphql: cannot listen on 192.0.2.1:8000: Cannot assign requested address\n"
    assert not (data_dir / "pgdata").exists()
