"""The Leads and Exclusions pages as a person uses them: move a lead, exclude someone, hide what was exported.

One Streamlit process for the module, over a copy of the demo DuckDB marts (``tests/dbt_fixtures.py``,
a real dbt build) so the shared demo stays untouched; one headless Chromium page drives it
(``tests/test_dashboard_browser.py``'s fixture). Every click goes through the real app, and every
check reads the warehouse the app wrote to with plain SQL: ``lead_events``, ``exclusion_events``,
and the lead list as the page's CSV download carries it.

Needs /usr/bin/chromium and playwright: skipped with the reason when either is missing (a failure
under CI=true), like the other browser test.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from resources.warehouse.location import parse_warehouse_url
from resources.warehouse.operations import WarehouseClient
from scout_contract.leads import SOURCE_CLI
from scout_contract.tables import LEAD_EXPORTS, polars_schema
from scout_leads.exclusions import entries
from scout_leads.state import set_state
from tests.dbt_fixtures import D3, UX, demo_duckdb_marts
from tests.test_dashboard_browser import browser_page, settle  # noqa: F401  (browser_page: a fixture)

pytestmark = pytest.mark.slow

REVIEWER = "browser-test"


@dataclass(frozen=True)
class LeadsApp:
    """The running app, the Chromium page on it and the warehouse copy it writes to."""

    base_url: str
    page: object
    warehouse: WarehouseClient

    def open(self, name: str):
        from scout_dashboard.browser import PAGES, open_rendered

        path, title = PAGES[name]
        text = open_rendered(self.page, f"{self.base_url}/{path}")
        assert self.page.locator('[data-testid="stMain"] h1').first.inner_text().strip() == title
        assert "Traceback" not in text and self.page.locator('[data-testid="stException"]').count() == 0
        return self.page


@pytest.fixture(scope="module")
def leads_app(browser_page, tmp_path_factory) -> Iterator[LeadsApp]:  # noqa: F811
    from scout_dashboard.server import running_dashboard

    path = tmp_path_factory.mktemp("leads-app") / "leads.duckdb"
    shutil.copyfile(demo_duckdb_marts().path, path)
    url = f"duckdb://{path}"
    env = {**os.environ, "SCOUT_WAREHOUSE_URL": url, "SCOUT_REVIEWER": REVIEWER}
    with running_dashboard(env) as base_url:
        yield LeadsApp(base_url, browser_page, WarehouseClient(parse_warehouse_url(url)))


# --- how a person works the page ------------------------------------------------------------------


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (once the last rerun has drawn the page)."""
    settle(page)
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_role("combobox", name=label, exact=True)
    )
    # The option list closes when the page scrolls under it: bring the box into view first.
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box.get_by_role("button", name="Open").click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def listed(page, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The lead list as its CSV download holds it once the last rerun has drawn the page: handle -> row."""
    settle(page)  # the button of the previous run stays on screen, with its rows, until the rerun ends
    with page.expect_download() as download:
        page.get_by_role("button", name="Download this list as CSV").click()
    saved = tmp_path / f"leads-{len(list(tmp_path.iterdir()))}.csv"
    download.value.save_as(saved)
    return {row["handle"]: row for row in csv.DictReader(io.StringIO(saved.read_text()))}


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def expected_matches(warehouse: WarehouseClient) -> set[str]:
    """The page's default list, from the mart by hand: UX matches, less the accounts excluded now."""
    frame = warehouse.read(
        "select handle from analytics.mart_audience_leads m where audience = $1 and verdict = 'match' "
        "and not exists (select 1 from excluded_accounts x "
        "where x.platform = m.platform and x.platform_id = m.platform_id)",
        [UX],
    )
    return set(frame["handle"])


def lead_events(warehouse: WarehouseClient, platform_id: str) -> list[tuple]:
    return warehouse.read(
        "select from_state, state, note, set_by, source, handle, audience from lead_events "
        "where platform = 'twitter' and platform_id = $1 order by set_at, event_id",
        [platform_id],
    ).rows()


# --- the cases ----------------------------------------------------------------------------------------


def test_a_lead_moves_on_the_page_and_a_refused_move_writes_nothing(leads_app: LeadsApp, tmp_path: Path):
    from playwright.sync_api import expect

    from scout_dashboard.browser import metric_value

    warehouse = leads_app.warehouse
    assert lead_events(warehouse, "t6") == []  # fin_diary: a match nobody has moved yet
    page = leads_app.open("leads")
    choose(page, "Lead (from this page)", "@fin_diary · twitter")
    expect(metric_value(page, "Lead state")).to_have_text("new")

    choose(page, "Move to", "contacted")
    page.get_by_role("textbox", name="Note (optional)", exact=True).fill("emailed on Monday")
    page.get_by_role("button", name="Save state").click()
    expect(page.get_by_text(f"Saved @fin_diary: new → contacted (by {REVIEWER})")).to_be_visible()
    expect(metric_value(page, "Lead state")).to_have_text("contacted")
    assert lead_events(warehouse, "t6") == [
        ("new", "contacted", "emailed on Monday", REVIEWER, "dashboard", "fin_diary", UX)
    ]
    # The list shows the move at once (the mart was built before it).
    row = listed(page, tmp_path)["fin_diary"]
    assert (row["lead_state"], row["lead_note"], row["lead_state_by"]) == (
        "contacted",
        "emailed on Monday",
        REVIEWER,
    )

    # Meanwhile someone converts the lead from the CLI; the page still offers "replied".
    set_state(
        warehouse,
        platform="twitter",
        platform_id="t6",
        handle="fin_diary",
        audience=UX,
        state="converted",
        note="signed",
        set_by="sam",
        source=SOURCE_CLI,
    )
    before = lead_events(warehouse, "t6")
    choose(page, "Move to", "replied")
    page.get_by_role("button", name="Save state").click()
    expect(
        page.get_by_text("Not saved: cannot move a lead from converted to replied: converted is final")
    ).to_be_visible()
    assert lead_events(warehouse, "t6") == before  # refused: nothing written
    expect(metric_value(page, "Lead state")).to_have_text("converted")
    expect(page.get_by_text("converted is final: this lead moves no further.")).to_be_visible()


def test_an_exclusion_added_on_the_page_hides_the_lead_until_it_is_removed(
    leads_app: LeadsApp, tmp_path: Path
):
    from playwright.sync_api import expect

    from scout_dashboard.browser import metric_value

    warehouse = leads_app.warehouse
    matches = expected_matches(warehouse)
    assert "cy_edge" in matches
    events_before = warehouse.read("select count(*) as n from exclusion_events").item()
    active_before = len(entries(warehouse))

    page = leads_app.open("exclusions")
    choose(page, "Platform", "twitter")
    choose(page, "Exclude by", "domain")
    page.get_by_role("textbox", name="Value", exact=True).fill("not a domain")
    page.get_by_role("textbox", name="Reason", exact=True).fill("asked not to be contacted")
    page.get_by_role("button", name="Add exclusion").click()
    expect(page.get_by_text("is not a web domain like acme.com")).to_be_visible()  # the rule's words
    assert warehouse.read("select count(*) as n from exclusion_events").item() == events_before

    choose(page, "Exclude by", "handle")
    page.get_by_role("textbox", name="Value", exact=True).fill("@Cy_Edge")
    page.get_by_role("button", name="Add exclusion").click()
    expect(page.get_by_text("excludes 1 known account(s) now")).to_be_visible()
    added = warehouse.read(
        "select exclusion_id, action, platform, kind, value, reason, actor from exclusion_events "
        "order by event_at desc limit 1"
    ).row(0, named=True)
    assert {k: added[k] for k in ("action", "platform", "kind", "value", "reason", "actor")} == {
        "action": "add",
        "platform": "twitter",
        "kind": "handle",
        "value": "cy_edge",
        "reason": "asked not to be contacted",
        "actor": REVIEWER,
    }
    expect(metric_value(page, "Active exclusions")).to_have_text(str(active_before + 1))

    page = leads_app.open("leads")
    expect(metric_value(page, "Leads matching the filters")).to_have_text(str(len(matches) - 1))
    assert set(listed(page, tmp_path)) == matches - {"cy_edge"}

    page = leads_app.open("exclusions")
    choose(page, "Exclusion", f"{added['exclusion_id']} · twitter handle cy_edge")
    page.get_by_role("textbox", name="Why it is removed", exact=True).fill("consent given")
    page.get_by_role("button", name="Remove exclusion").click()
    expect(page.get_by_text(f"Removed exclusion {added['exclusion_id']}")).to_be_visible()
    expect(metric_value(page, "Active exclusions")).to_have_text(str(active_before))
    removed = warehouse.read(
        "select action, reason, actor from exclusion_events where exclusion_id = $1 and action = 'remove'",
        [added["exclusion_id"]],
    ).rows()
    assert removed == [("remove", "consent given", REVIEWER)]

    page = leads_app.open("leads")
    expect(metric_value(page, "Leads matching the filters")).to_have_text(str(len(matches)))
    assert "cy_edge" in listed(page, tmp_path)


def test_exclude_this_account_on_a_chosen_lead(leads_app: LeadsApp, tmp_path: Path):
    from playwright.sync_api import expect

    from scout_dashboard.browser import metric_value

    warehouse = leads_app.warehouse
    matches = expected_matches(warehouse)
    page = leads_app.open("leads")
    choose(page, "Lead (from this page)", "@ivy.bsky.social · bluesky")
    page.get_by_role("textbox", name="Why not contact this account", exact=True).fill("a competitor's staff")
    page.get_by_role("button", name="Exclude this account").click()
    expect(page.get_by_text("it no longer shows in the leads")).to_be_visible()
    expect(metric_value(page, "Leads matching the filters")).to_have_text(str(len(matches) - 1))
    assert "ivy.bsky.social" not in listed(page, tmp_path)
    entry = warehouse.read(
        "select platform, kind, value, reason, actor from exclusion_events where action = 'add' "
        "and value = 'b3'"
    ).rows()
    assert entry == [("bluesky", "account", "b3", "a competitor's staff", REVIEWER)]


def test_new_since_the_last_export_hides_an_exported_lead(leads_app: LeadsApp, tmp_path: Path):
    from playwright.sync_api import expect

    from scout_dashboard.browser import metric_value

    warehouse = leads_app.warehouse
    matches = expected_matches(warehouse)
    assert "ada_research" in matches
    exported = {
        "audience": UX,
        "platform": "twitter",
        "platform_id": "t1",
        "export_date": D3,
        "exported_at": datetime.now(UTC).replace(tzinfo=None),
    }
    warehouse.append("lead_exports", pl.DataFrame([exported], schema=polars_schema(LEAD_EXPORTS.columns)))

    page = leads_app.open("leads")
    expect(metric_value(page, "Leads matching the filters")).to_have_text(str(len(matches)))
    page.locator('[data-testid="stCheckbox"]').filter(has_text="New since the last export").locator(
        "label"
    ).click()
    expect(metric_value(page, "Leads matching the filters")).to_have_text(str(len(matches) - 1))
    assert set(listed(page, tmp_path)) == matches - {"ada_research"}
    assert "@ada_research" not in main_text(page)
