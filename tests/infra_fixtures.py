"""A real S3/AWS-compatible server for tests: ``moto_server`` on a free loopback port.

boto3 talks real HTTP to it (signing, conditional writes, pagination, ECS task definitions);
only the credentials are fake. Used by test_archive.py and test_infra.py.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

FAKE_SECRET = "fake-secret-value-for-tests-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_binary() -> str:
    sibling = Path(sys.executable).with_name("moto_server")
    found = str(sibling) if sibling.exists() else shutil.which("moto_server")
    if not found:
        pytest.fail("moto_server is not installed: it comes with moto[server] in requirements-dev.txt")
    return found


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """``moto_server`` answering on 127.0.0.1 before the first test; stopped after the module."""
    port = _free_port()
    process = subprocess.Popen(
        [_moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):  # readiness poll, not a timing assertion
            if process.poll() is not None:
                pytest.fail(f"moto_server exited early: {process.stderr.read().decode(errors='replace')}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail(f"moto_server did not answer on {url}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials through the standard variables; no developer profile or config file leaks in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
