"""The dashboard's queries: filters become bound parameters, and the SQL answers correctly.

Pure checks look at the SQL and parameters; the rest run every query for real against the
demo marts that ``tests/dbt_fixtures.py`` builds with dbt (DuckDB, and PostgreSQL when the
local server is there), with expectations worked out from the demo rows.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from resources.warehouse.location import parse_warehouse_url
from resources.warehouse.operations import WarehouseClient, WarehouseOperations
from scout_contract.leads import SOURCE_DASHBOARD
from scout_contract.settings import ScoutSettings
from scout_contract.tables import LEAD_EXPORTS, polars_schema
from scout_dashboard import formatting, queries
from scout_dashboard.queries import Window
from scout_dashboard.targets import MartsTarget, marts_target
from scout_leads import lead_list, sql
from scout_leads.exclusions import add_exclusion, remove_exclusion
from scout_leads.lead_list import LeadFilters
from scout_leads.reader import MartReader, MartsUnavailable
from scout_leads.state import set_state
from tests.dbt_fixtures import D1, D3, THELAI, UX, build_demo, demo_duckdb_marts

ALL_DAYS = Window(start=date(2026, 2, 1), end=date(2026, 4, 1))
EVERY_VERDICT = lead_list.VERDICTS
EVERY_UX_LEAD = {
    "ada_research", "ivy.bsky.social", "cy_edge", "fin_diary", "bo_interviews", "gia.bsky.social", "eve_ops",
}  # fmt: skip

# --- SQL and parameters (pure) ---------------------------------------------------------------------


def test_every_lead_filter_is_a_bound_parameter():
    filters = LeadFilters(
        audience=UX,
        platforms=("twitter",),
        verdicts=("match", "uncertain"),
        has_min=0.5,
        has_max=0.9,
        followers_min=100,
        followers_max=2000,
        keyword="ux research",
        search="o'brien; drop table x --",
        limit=50,
    )
    query = lead_list.leads("analytics", filters)
    assert query.params == (
        UX, "twitter", "match", "uncertain", 0.5, 0.9, 100, 2000, "%, ux research, %", "%o'brien; drop table x --%", 50, 0,
    )  # fmt: skip
    for value in ("o'brien", "ux research", UX, "2000"):
        assert value not in query.sql
    assert query.sql.count("$10") == 3  # the search pattern is bound once, used for handle, name and bio
    assert "$12" in query.sql and "$13" not in query.sql  # limit, then offset


def test_lead_states_export_filter_and_page_are_bound_parameters():
    filters = LeadFilters(
        audience=UX, states=("new", "contacted"), new_since_export=True, limit=50, offset=100
    )
    query = lead_list.leads("analytics", filters)
    assert query.params == (UX, "bluesky", "twitter", "match", "new", "contacted", 0.0, 1.0, 50, 100)
    for value in ("contacted", "100", "50"):
        assert value not in query.sql
    assert "lead_state in ($5, $6)" in query.sql and "limit $9 offset $10" in query.sql
    assert "lead_exports" in query.sql  # new since the last export: an anti-join, no value of its own
    everyone = lead_list.leads("analytics", LeadFilters(audience=UX))  # every state: no clause at all
    assert "lead_state in" not in everyone.sql and "lead_exports" not in everyone.sql


def test_search_wildcards_are_taken_literally():
    assert sql.contains_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_an_empty_selection_matches_nothing():
    query = lead_list.leads("analytics", LeadFilters(audience=UX, platforms=()))
    assert "1 = 0" in query.sql and "twitter" not in query.params


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: LeadFilters(audience=UX, has_min=0.8, has_max=0.2), "HAS range [0.8, 0.2]"),
        (lambda: LeadFilters(audience=UX, has_max=1.5), "HAS range [0.0, 1.5]"),
        (lambda: LeadFilters(audience=UX, platforms=("mastodon",)), "unknown platform(s) ['mastodon']"),
        (lambda: LeadFilters(audience=UX, verdicts=("yes",)), "unknown verdict(s) ['yes']"),
        (lambda: LeadFilters(audience=UX, followers_min=10, followers_max=5), "followers range [10, 5]"),
        (lambda: LeadFilters(audience=UX, limit=0), "limit must be positive"),
        (lambda: LeadFilters(audience=UX, offset=-1), "offset must not be negative, got -1"),
        (
            lambda: LeadFilters(audience=UX, states=("contacted", "ghosted")),
            "unknown lead state(s) ['ghosted']",
        ),
        (lambda: Window(start=D3, end=D3), "start 2026-03-03 must be before end 2026-03-03"),
        (
            lambda: lead_list.leads("analytics; drop", LeadFilters(audience=UX)),
            "marts schema 'analytics; drop'",
        ),
    ],
)
def test_bad_filters_fail_naming_what_is_wrong(build, message):
    with pytest.raises(ValueError) as error:
        build()
    assert message in str(error.value)


# --- against the demo marts on DuckDB --------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_reader() -> MartReader:
    return MartReader(parse_warehouse_url(demo_duckdb_marts().url))


def handles(reader: MartReader, filters: LeadFilters) -> list[str]:
    return reader.read(lead_list.leads("analytics", filters))["handle"].to_list()


def test_leads_come_best_first(duckdb_reader):
    # Matches first, those a person confirmed before the models' (ada, ivy, cy by weighted true
    # share 0.73, 0, none; then fin), then the uncertain ones (bo has true weight, gia none), then
    # eve: both models said true, a person said false, and the person's verdict wins.
    everyone = LeadFilters(audience=UX, verdicts=EVERY_VERDICT)
    assert handles(duckdb_reader, everyone) == [
        "ada_research", "ivy.bsky.social", "cy_edge", "fin_diary", "bo_interviews", "gia.bsky.social", "eve_ops",
    ]  # fmt: skip
    count = duckdb_reader.read(lead_list.lead_count("analytics", everyone))["leads"][0]
    assert count == 7
    listed = duckdb_reader.read(lead_list.leads("analytics", everyone)).row(0, named=True)
    # What the list and its CSV export carry about the person's verdict.
    assert (listed["verdict_source"], listed["reviewed_label"], listed["reviewed_by"]) == (
        "review",
        True,
        "ana",
    )
    assert handles(duckdb_reader, LeadFilters(audience=THELAI, verdicts=EVERY_VERDICT)) == ["ada_research"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"platforms": ("bluesky",)}, {"gia.bsky.social", "ivy.bsky.social"}),
        ({"verdicts": ("uncertain",)}, {"bo_interviews", "gia.bsky.social"}),
        ({"has_min": 0.8, "has_max": 1.0}, {"ada_research", "eve_ops", "fin_diary"}),  # 0.80 is inside
        ({"followers_min": 500}, {"ada_research", "eve_ops", "gia.bsky.social"}),
        ({"followers_max": 300}, {"bo_interviews", "cy_edge", "ivy.bsky.social"}),
        ({"keyword": "user interviews"}, {"bo_interviews", "fin_diary"}),
        ({"keyword": "ux"}, set()),  # a whole keyword, never part of one
        ({"search": "ADA"}, {"ada_research"}),  # case-insensitive
        ({"search": "EVE_"}, {"eve_ops"}),
        ({"search": "%"}, set()),  # a literal percent sign, not a wildcard
        ({"platforms": ()}, set()),
        # Lead state (the demo's lead_events and reviews, tests/dbt_fixtures.py): ada contacted then
        # replied, ivy rejected, cy and eve reviewed by a person, the rest untouched.
        ({"states": ("replied",)}, {"ada_research"}),
        ({"states": ("rejected",)}, {"ivy.bsky.social"}),
        ({"states": ("reviewed",)}, {"cy_edge", "eve_ops"}),
        ({"states": ("new",)}, {"bo_interviews", "fin_diary", "gia.bsky.social"}),
        ({"states": ("contacted", "converted")}, set()),
        ({"states": ()}, set()),
        ({"new_since_export": True}, EVERY_UX_LEAD),  # the demo exported nothing
    ],
)
def test_lead_filters_select_the_right_accounts(duckdb_reader, overrides, expected):
    filters = LeadFilters(audience=UX, **{"verdicts": EVERY_VERDICT, **overrides})
    assert set(handles(duckdb_reader, filters)) == expected


def test_lead_limit_caps_the_list(duckdb_reader):
    assert handles(duckdb_reader, LeadFilters(audience=UX, verdicts=EVERY_VERDICT, limit=2)) == [
        "ada_research",
        "ivy.bsky.social",
    ]


def check_live_lead_list(reader: MartReader, warehouse: WarehouseOperations) -> None:
    """Pages add up to the list; a move, an exclusion and an export made after dbt built the mart show at once.

    Writes to ``warehouse`` (a copy of the demo): through ``scout_leads`` as the dashboard, CLI and
    API do, and a ``lead_exports`` row as the ``lead_exports`` asset writes it.
    """
    everyone = LeadFilters(audience=UX, verdicts=EVERY_VERDICT)

    def count(filters: LeadFilters) -> int:
        return int(reader.read(lead_list.lead_count("analytics", filters))["leads"][0])

    full = handles(reader, everyone)
    assert set(full) == EVERY_UX_LEAD
    pages = [handles(reader, replace(everyone, limit=3, offset=offset)) for offset in (0, 3, 6, 9)]
    assert [len(page) for page in pages] == [3, 3, 1, 0] and pages[0] + pages[1] + pages[2] == full
    assert count(replace(everyone, limit=3, offset=3)) == len(full)  # the total ignores the page

    # fin_diary (new in the mart) is contacted: the list shows it, the mart does not know yet.
    event = set_state(
        warehouse, platform="twitter", platform_id="t6", handle="fin_diary", audience=UX,
        state="contacted", note="emailed on Monday", set_by="sam", source=SOURCE_DASHBOARD,
    )  # fmt: skip
    in_mart = reader.read(
        sql.Query("select lead_state from analytics.mart_audience_leads where audience = $1 and platform_id = 't6'", (UX,))
    )  # fmt: skip
    assert in_mart["lead_state"].to_list() == ["new"]
    listed = {
        r["handle"]: r for r in reader.read(lead_list.leads("analytics", everyone)).iter_rows(named=True)
    }
    fin = listed["fin_diary"]
    assert (fin["lead_state"], fin["lead_note"], fin["lead_state_by"], fin["lead_state_at"]) == (
        "contacted", "emailed on Monday", "sam", event["set_at"],
    )  # fmt: skip
    assert listed["ada_research"]["lead_state"] == "replied"  # no newer event: as before
    assert handles(reader, replace(everyone, states=("contacted",))) == ["fin_diary"]
    assert "fin_diary" not in handles(reader, replace(everyone, states=("new",)))

    # cy_edge is excluded (by handle): gone from the list and the count until the entry is removed.
    exclusion_id, matched = add_exclusion(warehouse, "twitter", "handle", "Cy_Edge", "asked not to", "sam")
    assert matched == 1
    assert "cy_edge" not in handles(reader, everyone) and count(everyone) == len(full) - 1
    remove_exclusion(warehouse, exclusion_id, "consent given", "sam")
    assert handles(reader, everyone) == full and count(everyone) == len(full)

    # ada is exported for UX; fin_diary for the other audience only, which hides nothing for UX.
    now = datetime.now(UTC).replace(tzinfo=None)
    exported = pl.DataFrame(
        [
            {
                "audience": audience,
                "platform": "twitter",
                "platform_id": platform_id,
                "export_date": D3,
                "exported_at": now,
            }
            for audience, platform_id in ((UX, "t1"), (THELAI, "t6"))
        ],
        schema=polars_schema(LEAD_EXPORTS.columns),
    )
    warehouse.append(LEAD_EXPORTS.name, exported)
    new_only = replace(everyone, new_since_export=True)
    assert handles(reader, new_only) == [h for h in full if h != "ada_research"]
    assert count(new_only) == len(full) - 1
    assert handles(reader, LeadFilters(audience=THELAI, verdicts=EVERY_VERDICT, new_since_export=True)) == [
        "ada_research"
    ]


def test_the_lead_list_shows_moves_exclusions_and_exports_at_once_on_duckdb(tmp_path: Path):
    path = tmp_path / "live.duckdb"
    shutil.copyfile(demo_duckdb_marts().path, path)  # a copy: the demo is shared by other tests
    location = parse_warehouse_url(f"duckdb://{path}")
    check_live_lead_list(MartReader(location), WarehouseClient(location))


def check_totals(reader: MartReader) -> None:
    """The window-wide numbers the dashboard's metrics show, from the demo rows."""
    funnel = reader.read(queries.funnel_totals("analytics", ALL_DAYS)).row(0, named=True)
    # Sums of the per-day funnel checked in test_dbt_build.check_funnel.
    assert funnel == {
        "pages_searched": 7, "profiles_returned": 13, "profiles_seen": 10, "new_profiles": 9,
        "new_above_threshold": 6, "new_labeled": 6, "new_true": 4,
    }  # fmt: skip
    last_day = Window(start=D3, end=D3 + timedelta(days=1), platforms=("twitter",))
    assert reader.read(queries.funnel_totals("analytics", last_day))["pages_searched"][0] == 1

    health = reader.read(queries.health_totals("analytics", ALL_DAYS)).row(0, named=True)
    assert (health["api_calls"], health["api_errors"], health["retries"], health["rate_limited"]) == (
        9,
        2,
        2,
        1,
    )
    assert (health["label_failures"], health["dead_letters"], health["labels_written"]) == (2, 1, 13)
    assert math.isclose(health["worst_daily_p95_ms"], 956.0)
    # API 0.004 (Feb 20) + 0.004 (D1) + 0.002 (D2) + 0.001 (D3); labels 0.006 + 0.002 + 0.003 + 0.001.
    assert math.isclose(health["api_cost_usd"], 0.011) and math.isclose(health["label_cost_usd"], 0.012)

    quarantine = reader.read(queries.quarantine_daily("analytics", ALL_DAYS))
    assert quarantine.rows() == [(D1, "twitter", 1, 0, 1), (D1 + timedelta(days=1), "bluesky", 0, 1, 0)]
    twitter_only = Window(start=ALL_DAYS.start, end=ALL_DAYS.end, platforms=("twitter",))
    assert reader.read(queries.quarantine_daily("analytics", twitter_only)).height == 1

    breakers = reader.read(queries.circuit_breakers("analytics"))  # tripped first
    assert breakers.select("kind", "name", "state", "calls_in_window").rows() == [
        ("platform", "twitter", "open", 7),
        ("provider", "anthropic", "closed", 2),
    ]

    board = reader.read(queries.keyword_leaderboard("analytics", ALL_DAYS))
    rows = {(r["platform"], r["keyword"]): r for r in board.iter_rows(named=True)}
    # Cheapest true label first: user interviews 0.005 / 2, ux research 0.016 / 4, bluesky has none.
    assert list(rows) == [
        ("twitter", "user interviews"),
        ("twitter", "ux research"),
        ("bluesky", "ux research"),
    ]
    assert math.isclose(rows[("twitter", "user interviews")]["cost_per_true_label"], 0.0025)
    ux = rows[("twitter", "ux research")]
    assert (ux["pages"], ux["new_profiles"], ux["labels_true"]) == (7, 14, 4)
    assert math.isclose(ux["cost_per_true_label"], 0.004)
    # State and trend of the last day each keyword has in the window.
    assert rows[("twitter", "user interviews")]["exhausted"] is True and ux["last_day"] == date(2026, 3, 2)
    assert rows[("bluesky", "ux research")]["cost_per_true_label"] is None

    models = reader.read(queries.model_summary("analytics", UX))
    agreement = dict(zip(models["model"], models["agreement_with_reference"], strict=True))
    assert agreement == {"local-minilm": 1.0, "claude-haiku-4.5": 0.75, "gemini-flash-2.0": 0.0}
    assert reader.read(queries.model_pairs("analytics", UX)).height == 9
    # Agreement with people (as the demo's full build left mart_model_agreement: reviews t1, b3),
    # most reviewed first; minilm 1 of 2 (weight 2/4), haiku 1 of 1 (2/3), gemini 0 of 1 (1/3).
    people = reader.read(queries.model_agreement("analytics", UX))
    assert people.select("model", "reviewed", "agreements").rows() == [
        ("local-minilm", 2, 1),
        ("claude-haiku-4.5", 1, 1),
        ("gemini-flash-2.0", 1, 0),
    ]
    assert people["agreement_rate"].to_list() == [0.5, 1.0, 0.0]
    assert math.isclose(people["weight"][1], 2 / 3) and not people["validated"].any()
    assert reader.read(queries.audiences("analytics"))["audience"].to_list() == [
        UX,
        THELAI,
    ]  # most labeled first
    bounds = reader.read(queries.data_range("analytics")).row(0, named=True)
    assert bounds == {"first_day": date(2026, 2, 20), "last_day": D3}


def test_page_queries_return_the_mart_numbers_on_duckdb(duckdb_reader):
    check_totals(duckdb_reader)


def test_funnel_daily_is_per_day_and_platform(duckdb_reader):
    daily = duckdb_reader.read(
        queries.funnel_daily("analytics", Window(start=D1, end=D1 + timedelta(days=1)))
    )
    assert daily.select("platform", "new_true").rows() == [("bluesky", 0), ("twitter", 2)]


@pytest.mark.postgres
def test_page_queries_run_on_postgres(postgres_warehouse, tmp_path: Path):
    """The same SQL on PostgreSQL (ILIKE ... ESCAPE, NULLS LAST, a bound LIMIT, casts)."""
    build_demo(postgres_warehouse.url, tmp_path)
    reader = MartReader(parse_warehouse_url(postgres_warehouse.url))
    check_totals(reader)
    assert set(handles(reader, LeadFilters(audience=UX, verdicts=EVERY_VERDICT, search="EVE_"))) == {
        "eve_ops"
    }
    assert handles(reader, LeadFilters(audience=UX, verdicts=EVERY_VERDICT, limit=2)) == [
        "ada_research",
        "ivy.bsky.social",
    ]
    assert set(handles(reader, LeadFilters(audience=UX, verdicts=EVERY_VERDICT, states=("new",)))) == {
        "bo_interviews", "fin_diary", "gia.bsky.social",
    }  # fmt: skip
    check_live_lead_list(reader, postgres_warehouse)


# --- the reader's errors ---------------------------------------------------------------------------


def test_missing_warehouse_file_is_explained(tmp_path: Path):
    reader = MartReader(parse_warehouse_url(f"duckdb://{tmp_path / 'absent.duckdb'}"))
    with pytest.raises(MartsUnavailable, match=r"no warehouse at duckdb:.*absent\.duckdb"):
        reader.read(queries.data_range("analytics"))


def test_marts_not_built_yet_is_explained(tmp_path: Path):
    import duckdb

    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(MartsUnavailable, match=r"not built .* yet \(run dbt build\)"):
        MartReader(parse_warehouse_url(f"duckdb://{path}")).read(queries.data_range("analytics"))


def test_a_writer_holding_the_file_gives_a_clear_error_after_waiting(tmp_path: Path):
    """Another process (as a Dagster run or dbt would) holds the DuckDB file open for writing."""
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        reader = MartReader(parse_warehouse_url(f"duckdb://{path}"), lock_wait_seconds=0.5)
        with pytest.raises(MartsUnavailable, match="stayed locked by a writer"):
            reader.read(queries.data_range("analytics"))
    finally:
        holder.communicate("", timeout=10)


def test_unreachable_postgres_is_explained_without_the_password():
    reader = MartReader(parse_warehouse_url("postgresql://scout:s3cret-pw@127.0.0.1:1/scout"))
    with pytest.raises(MartsUnavailable) as error:
        reader.read(queries.data_range("analytics"))
    assert "cannot reach postgresql://scout:***@127.0.0.1:1/scout" in str(error.value)
    assert "s3cret-pw" not in str(error.value)


# --- which marts the entry points read, and number formats ----------------------------------------


def test_the_marts_target_defaults_to_the_duckdb_file_under_the_data_dir(tmp_path: Path):
    target = marts_target(ScoutSettings.from_environ({"SCOUT_DATA_DIR": str(tmp_path)}))
    assert (target.location.kind, target.location.path) == ("duckdb", (tmp_path / "scout.duckdb").resolve())
    assert target.schema == "analytics"


def test_the_marts_target_follows_the_warehouse_url_and_schema():
    environ = {
        "SCOUT_WAREHOUSE_URL": "postgresql://ana:pw@db.internal:6543/scout",
        "SCOUT_MARTS_SCHEMA": "marts",
    }
    target = marts_target(ScoutSettings.from_environ(environ))
    assert (target.location.display, target.schema) == (
        "postgresql://ana:***@db.internal:6543/scout",
        "marts",
    )
    # What screenshots.py hands the dashboard process it starts: the same target, read back.
    assert marts_target(ScoutSettings.from_environ(target.as_environ())) == target
    duckdb = MartsTarget(parse_warehouse_url("duckdb:///srv/scout/scout.duckdb"), "analytics")
    assert marts_target(ScoutSettings.from_environ(duckdb.as_environ())) == duckdb


@pytest.mark.parametrize(
    ("function", "value", "text"),
    [
        (formatting.count, 12345, "12,345"),
        (formatting.count, None, "–"),
        (formatting.usd, 0.0035, "$0.0035"),
        (formatting.usd, 0.007 / 3, "$0.002333"),
        (formatting.usd, 1234.5, "$1,234.50"),
        (formatting.usd, 0.0, "$0"),
        (formatting.percent, 0.755, "75.5%"),
        (formatting.percent, float("nan"), "–"),
        (formatting.millis, 956.0, "956 ms"),
    ],
)
def test_number_formats(function, value, text):
    assert function(value) == text
