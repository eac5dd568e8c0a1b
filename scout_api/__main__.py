"""``python -m scout_api [--host 127.0.0.1] [--port 8000]``: serve the HTTP API with uvicorn.

The entry point is the one place the API reads the environment (``ScoutSettings.from_environ``):
``SCOUT_WAREHOUSE_URL`` / ``SCOUT_DATA_DIR``, ``SCOUT_MARTS_SCHEMA``, ``SCOUT_DAGSTER_URL`` and
``SCOUT_API_REQUESTS_PER_MINUTE``. A bad value stops it with the variable's name.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scout_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    args = parser.parse_args(argv)

    import uvicorn

    from scout_api.app import create_app
    from scout_contract.settings import ScoutSettings, SettingsError

    try:
        settings = ScoutSettings.from_environ(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
