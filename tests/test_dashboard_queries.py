"""The dashboard's queries: filters become bound parameters, and the SQL answers correctly.

Pure checks look at the SQL and parameters; the rest run every query for real against the
demo marts that ``tests/dbt_fixtures.py`` builds with dbt (DuckDB, and PostgreSQL when the
local server is there), with expectations worked out from the demo rows.
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from resources.warehouse.location import parse_warehouse_url
from scout_contract.settings import ScoutSettings
from scout_dashboard import formatting, queries
from scout_dashboard.queries import Window
from scout_dashboard.targets import MartsTarget, marts_target
from scout_leads import lead_list, sql
from scout_leads.lead_list import LeadFilters
from scout_leads.reader import MartReader, MartsUnavailable
from tests.dbt_fixtures import D1, D3, THELAI, UX, build_demo, demo_duckdb_marts

ALL_DAYS = Window(start=date(2026, 2, 1), end=date(2026, 4, 1))
EVERY_VERDICT = lead_list.VERDICTS

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
