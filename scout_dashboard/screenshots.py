"""Screenshots of every dashboard page for the docs: ``python -m scout_dashboard.screenshots``.

Serves the app against the warehouse ``SCOUT_WAREHOUSE_URL`` points at (or ``--warehouse-url``)
and saves ``dashboard_<page>.png`` for each page into ``docs/img/``. Needs Chromium
(``apt-get install -y chromium``) and Playwright (a development dependency).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from resources.warehouse.location import parse_warehouse_url
from scout_contract.paths import PROJECT_ROOT
from scout_contract.settings import ScoutSettings
from scout_dashboard.browser import PAGES, chromium_page, open_rendered
from scout_dashboard.server import running_dashboard
from scout_dashboard.targets import MartsTarget, marts_target

DEFAULT_OUT = PROJECT_ROOT / "docs" / "img"


def take_screenshots(
    out_dir: Path, target: MartsTarget, base_env: Mapping[str, str], width: int = 1440, height: int = 1400
) -> list[Path]:
    """Save one PNG per page of the app serving ``target`` (the viewport, tall enough for each page).

    ``base_env`` is the environment the app starts from (PATH and the offline switches).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with (
        running_dashboard({**base_env, **target.as_environ()}) as base_url,
        chromium_page(width, height) as page,
    ):
        for name, (path, _title) in PAGES.items():
            open_rendered(page, f"{base_url}/{path}")
            target_file = out_dir / f"dashboard_{name}.png"
            page.screenshot(path=str(target_file))
            written.append(target_file)
    return written


def main(argv: list[str] | None = None) -> None:
    """The CLI (an entry point: reads the environment for the defaults)."""
    settings = ScoutSettings.from_environ(os.environ)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})"
    )
    parser.add_argument("--warehouse-url", help="default: $SCOUT_WAREHOUSE_URL, else the DuckDB file")
    parser.add_argument("--marts-schema", default=settings.marts_schema, help="default: $SCOUT_MARTS_SCHEMA")
    args = parser.parse_args(argv)
    target = marts_target(settings)
    if args.warehouse_url:
        target = replace(target, location=parse_warehouse_url(args.warehouse_url))
    for path in take_screenshots(args.out, replace(target, schema=args.marts_schema), os.environ):
        print(path)


if __name__ == "__main__":
    main()
