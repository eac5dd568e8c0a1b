"""Serve the real Scout API on a loopback port for a test: uvicorn in a thread, real HTTP.

Shared by tests/test_api.py and tests/test_api_runs.py. ``serve`` starts ``create_app(settings)``
under uvicorn (lifespan on, so the schema sync at start runs as in production) and yields its
base URL; ``api_settings`` points the app at one warehouse and one Dagster webserver.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from scout_api.app import create_app
from scout_contract.settings import ScoutSettings

# A port nothing listens on: Dagster "unavailable" for tests that do not start a webserver.
CLOSED_DAGSTER_URL = "http://127.0.0.1:9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_settings(
    warehouse_url: str, data_dir: Path, *, dagster_url: str = CLOSED_DAGSTER_URL, per_minute: int = 10_000
) -> ScoutSettings:
    return ScoutSettings.from_environ(
        {
            "SCOUT_DATA_DIR": str(data_dir),
            "SCOUT_WAREHOUSE_URL": warehouse_url,
            "SCOUT_DAGSTER_URL": dagster_url,
            "SCOUT_API_REQUESTS_PER_MINUTE": str(per_minute),
        }
    )


@contextmanager
def serve(settings: ScoutSettings, **app_options) -> Iterator[str]:
    """Run the API for the block; yield ``http://127.0.0.1:<port>``."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, **app_options),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name=f"scout-api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
