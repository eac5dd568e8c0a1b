"""Start the dashboard as its own process on 127.0.0.1 and stop it again.

Used by the browser test and ``screenshots.py``; ``infra/scripts/dashboard.sh`` runs the
same command in the foreground. Usage statistics are off (the machine is offline and
nothing should phone home), the file watcher is off (nothing to reload), and the server
only listens on the loopback address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

APP_PATH = Path(__file__).resolve().with_name("app.py")
HOST = "127.0.0.1"


def streamlit_command(port: int) -> list[str]:
    """The command that serves the app on ``HOST:port``."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        f"--server.address={HOST}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--global.developmentMode=false",
        "--client.toolbarMode=viewer",
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def running_dashboard(env: Mapping[str, str], start_timeout: float = 60.0) -> Iterator[str]:
    """Serve the app on a free port in environment ``env``; yield its base URL; stop it after.

    ``env`` is the child's whole environment (the caller, an entry point, starts from its own
    and adds the marts target), so this module reads no environment of its own.

    Waits for Streamlit's health endpoint; if the process dies or does not answer within
    ``start_timeout`` seconds, raises with the server's output.
    """
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            streamlit_command(port),
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://{HOST}:{port}"
        try:
            _wait_until_healthy(process, base_url, start_timeout, log)
            yield base_url
        finally:
            _stop(process)


def _wait_until_healthy(process: subprocess.Popen, base_url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {process.returncode}:\n{_read(log)}")
        try:
            if httpx.get(f"{base_url}/_stcore/health", timeout=2).text.strip() == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the dashboard did not answer on {base_url} within {timeout:g}s:\n{_read(log)}")


def _read(log) -> str:
    log.seek(0)
    return log.read()[-4000:]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
