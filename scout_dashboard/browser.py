"""Look at the dashboard the way a person does: a headless Chromium page, fully rendered.

Streamlit draws the page in the browser from messages on a websocket, so the HTML the
server sends is an empty shell. A page is "rendered" when the app is connected, the script
has finished running, and the page title is on screen; only then are its text and a
screenshot meaningful. Drives the system's Chromium through Playwright (a development
dependency, never at run time: ``pip install playwright`` without its browser download).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
# URL path of each page (app.py's url_path; the default page is served at the root) and its title.
PAGES: dict[str, tuple[str, str]] = {
    "funnel": ("", "Discovery funnel"),
    "leads": ("leads", "Leads"),
    "exclusions": ("exclusions", "Exclusions"),
    "keywords": ("keywords", "Keyword leaderboard"),
    "health": ("health", "Pipeline health"),
    "models": ("models", "Model agreement"),
    "review": ("review", "Review"),
}
_DONE = (
    '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
    '[data-test-script-state="notRunning"] [data-testid="stMain"] h1'
)

_TABLES_DRAWN = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .every(table => table.querySelector('[role="columnheader"]'))"""


@contextmanager
def chromium_page(width: int = 1440, height: int = 1000) -> Iterator[Page]:
    """A fresh headless Chromium (own profile, no sync or background traffic) and one page."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="scout-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            viewport={"width": width, "height": height},
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def open_rendered(page: Page, url: str, timeout_ms: int = 45_000) -> str:
    """Load ``url``, wait until the app has rendered, and return the page's visible text."""
    page.goto(url)
    page.wait_for_selector(_DONE, timeout=timeout_ms)
    # Charts and tables render a moment after the script ends: wait for the network to settle
    # and for every table to have drawn its header (its cells come with it).
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.wait_for_function(_TABLES_DRAWN, timeout=timeout_ms)
    return page.inner_text("body")


def metrics(page: Page) -> dict[str, str]:
    """Every ``st.metric`` on the page: label -> the value as displayed."""
    found = {}
    for metric in page.locator('[data-testid="stMetric"]').all():
        label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        found[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return found


def metric_value(page: Page, label: str):
    """The value element of the metric labelled ``label`` (a Playwright locator, for waiting on it)."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return metric.locator('[data-testid="stMetricValue"]')
