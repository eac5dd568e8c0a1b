"""Run the sandbox on its own: ``python -m scout_sandbox --port 8765``.

Point a client (or ``curl``) at the printed URL; ``POST /_sandbox/faults`` injects misbehaviour.
"""

from __future__ import annotations

import argparse
import threading

from scout_sandbox.server import SandboxServer
from scout_sandbox.twitter_wire import SHAPES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scout_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 = any free port; default 8765)")
    parser.add_argument("--pool-size", type=int, default=4000, help="accounts per platform (default 4000)")
    parser.add_argument(
        "--twitter-shape", choices=SHAPES, default="mixed", help="X user shape (default mixed)"
    )
    args = parser.parse_args(argv)
    try:
        server = SandboxServer(
            args.host, args.port, pool_size=args.pool_size, twitter_shape=args.twitter_shape
        )
    except ValueError as exc:
        parser.error(str(exc))
    server.start()
    print(f"Scout API sandbox listening on {server.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
