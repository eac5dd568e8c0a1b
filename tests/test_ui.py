"""The README's UI command: `dagster dev` with the daemon, schedules and sensors on by default.

Starts the real webserver and daemon on a free loopback port with a temporary DAGSTER_HOME,
asks its GraphQL API what it serves, and stops it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name } } }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } }
    jobs { name } } } } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["data"]


@pytest.mark.slow
def test_dagster_dev_serves_scout_with_schedules_and_sensors_running(tmp_path):
    port = free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "infra" / "dagster.embedded.yaml").read_text())
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SCOUT_DATA_DIR": str(tmp_path / "data"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline:
            try:
                data = graphql(port, QUERY)
                if data["repositoriesOrError"].get("nodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data and data["repositoriesOrError"]["nodes"], "the webserver did not serve the code location"
        repo = data["repositoriesOrError"]["nodes"][0]
        schedules = {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]}
        sensors = {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]}
        assert schedules and set(schedules.values()) == {"RUNNING"}, schedules
        assert {"scout_automation", "label_queue_sensor", "config_change_sensor"} <= set(sensors)
        assert set(sensors.values()) == {"RUNNING"}, sensors
        assert {"scout_main", "scout_label", "scout_keyword_stats"} <= {j["name"] for j in repo["jobs"]}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
