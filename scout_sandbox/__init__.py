"""Scout's API sandbox: X (RapidAPI) people search and Bluesky's AppView on 127.0.0.1.

Deterministic synthetic accounts in the real wire formats, with faults on request, so the demo
and the tests run Scout's real HTTP clients over real HTTP without any API key.

    with SandboxServer() as sandbox:
        httpx.get(f"{sandbox.base_url}/api/search/people", params={"keyword": "ethnography", "count": 20})
        sandbox.inject("/xrpc/", Fault.rate_limit(retry_after=1))
        sandbox.inject("/api/search/people", Fault.bad_rows(rows=3, defects=("count_word", "no_blocks")))
        sandbox.inject("/xrpc/", Fault.down(duration=5, mode="reset"))

Hostile modes (bad rows among good ones, poisoned text, a lying Content-Encoding, drip-feed,
repeating cursors, huge pages/fields/bodies, an outage) are listed in ``scout_sandbox.faults``;
``sandbox.requests[i].affected`` tells which rows a fault spoiled.
``get_sandbox()`` is the process-wide instance the resources use when no key is configured.
"""

from __future__ import annotations

import atexit
import threading

from scout_sandbox.faults import DEFECTS, FAULT_KINDS, Fault
from scout_sandbox.pool import normalize_keyword
from scout_sandbox.replies import AffectedRow
from scout_sandbox.server import SHAPE_HEADER, SandboxRequest, SandboxServer
from scout_sandbox.synthetic import SANDBOX_NOW, SyntheticProfile

__all__ = [
    "DEFECTS",
    "FAULT_KINDS",
    "SANDBOX_NOW",
    "SHAPE_HEADER",
    "AffectedRow",
    "Fault",
    "SandboxRequest",
    "SandboxServer",
    "SyntheticProfile",
    "get_sandbox",
    "normalize_keyword",
]

_singleton: SandboxServer | None = None
_singleton_lock = threading.Lock()


def get_sandbox() -> SandboxServer:
    """The process-wide sandbox, started on first use on a free loopback port (thread-safe)."""
    global _singleton
    with _singleton_lock:
        if _singleton is None or not _singleton.running:
            _singleton = SandboxServer().start()
            atexit.register(_singleton.stop)
        return _singleton
