"""Screenshots of every dashboard page for the docs: ``python -m scout_dashboard.screenshots``.

Serves the app against the warehouse ``SCOUT_WAREHOUSE_URL`` points at (or ``--warehouse-url``)
and saves ``dashboard_<page>.png`` for each page into ``docs/img/``. Needs Chromium
(``apt-get install -y chromium``) and Playwright (a development dependency).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from resources.warehouse.location import WAREHOUSE_URL_ENV
from scout_contract.paths import PROJECT_ROOT
from scout_dashboard.browser import PAGES, chromium_page, open_rendered
from scout_dashboard.server import running_dashboard

DEFAULT_OUT = PROJECT_ROOT / "docs" / "img"


def take_screenshots(
    out_dir: Path, warehouse_url: str | None = None, width: int = 1440, height: int = 1400
) -> list[Path]:
    """Save one PNG per page (the viewport, tall enough for each page's main content)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {WAREHOUSE_URL_ENV: warehouse_url} if warehouse_url else {}
    written = []
    with running_dashboard(env) as base_url, chromium_page(width, height) as page:
        for name, (path, _title) in PAGES.items():
            open_rendered(page, f"{base_url}/{path}")
            target = out_dir / f"dashboard_{name}.png"
            page.screenshot(path=str(target))
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--warehouse-url", default=os.environ.get(WAREHOUSE_URL_ENV), help=f"default: ${WAREHOUSE_URL_ENV}"
    )
    args = parser.parse_args(argv)
    for path in take_screenshots(args.out, args.warehouse_url):
        print(path)


if __name__ == "__main__":
    main()
