"""Lead state: the allowed moves (pure), ``scout lead set/show`` on both backends, and the latest wins.

Real warehouses (DuckDB file, fresh PostgreSQL database) bound to the real ``scout`` entry point
through ``SCOUT_WAREHOUSE_URL``.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from resources.warehouse import Warehouse
from scout_cli.main import main
from scout_contract.leads import (
    CURRENT_STATE_SQL,
    STATES,
    TRANSITIONS,
    LeadStateError,
    check_transition,
    lead_event,
)
from scout_contract.reviews import review_row
from scout_contract.tables import REVIEWS, polars_schema
from tests.dbt_fixtures import rows

AUDIENCE = "thelai_customers.v3"
T0 = datetime(2026, 3, 1, 12, 0, 0)


@pytest.fixture
def bound(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """``warehouse`` (DuckDB and PostgreSQL) as the one ``scout`` uses, with two known accounts."""
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", warehouse.url)
    monkeypatch.delenv("SCOUT_REVIEWER", raising=False)
    monkeypatch.setenv("USER", "tester")
    for platform_id, handle in (("101", "Ada"), ("102", "grace")):
        warehouse.append(
            "profiles",
            rows(
                "profiles",
                {"platform": "twitter", "platform_id": platform_id, "handle": handle, "last_seen_at": T0},
            ),
        )
    return warehouse


def lead(*argv: str) -> int:
    return main(["lead", *argv])


def state_of(warehouse: Warehouse, platform_id: str) -> str:
    return warehouse.read(CURRENT_STATE_SQL, ["twitter", platform_id, AUDIENCE])["state"][0]


# --- the moves (pure) ----------------------------------------------------------------------------


def test_the_path_is_allowed_and_every_other_move_is_refused_naming_both_states() -> None:
    for current, target in (
        ("new", "reviewed"),
        ("reviewed", "contacted"),
        ("contacted", "replied"),
        ("contacted", "converted"),
        ("contacted", "rejected"),
        ("replied", "converted"),
        ("new", "rejected"),
    ):
        check_transition(current, target)
    refused = [(a, b) for a in STATES for b in STATES if b not in TRANSITIONS[a]]
    assert ("contacted", "reviewed") in refused and ("converted", "rejected") in refused
    for current, target in refused:
        with pytest.raises(LeadStateError, match=f"from {current} to {target}"):
            check_transition(current, target)
    with pytest.raises(LeadStateError, match="unknown lead state 'called'"):
        check_transition("new", "called")


def test_a_note_too_long_or_no_author_is_refused() -> None:
    base = dict(platform="twitter", platform_id="1", handle="a", audience=AUDIENCE, current="new")
    with pytest.raises(LeadStateError, match="note: is 2001 characters"):
        lead_event(**base, state="reviewed", note="x" * 2001, set_by="me", source="cli")
    with pytest.raises(LeadStateError, match="set_by: is empty"):
        lead_event(**base, state="reviewed", note=None, set_by=" ", source="cli")
    event = lead_event(**base, state="reviewed", note="  ok ", set_by="me", source="cli", set_at=T0)
    assert event.row()["note"] == "ok" and event.row()["from_state"] == "new"


# --- scout lead set / show -----------------------------------------------------------------------


def test_set_walks_the_path_and_show_prints_the_history(
    bound: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    assert state_of(bound, "101") == "new"
    assert lead("set", "twitter", "@ada", "--audience", AUDIENCE, "--state", "reviewed") == 0
    assert (
        lead("set", "twitter", "ADA", "--audience", AUDIENCE, "--state", "contacted", "--note", "DM'd") == 0
    )
    assert lead("set", "twitter", "101", "--audience", AUDIENCE, "--state", "replied", "--by", "sam") == 0
    assert state_of(bound, "101") == "replied"
    assert state_of(bound, "102") == "new"  # another account is untouched
    events = bound.read("select from_state, state, note, set_by, source from lead_events order by set_at")
    assert events.rows() == [
        ("new", "reviewed", None, "tester", "cli"),
        ("reviewed", "contacted", "DM'd", "tester", "cli"),
        ("contacted", "replied", None, "sam", "cli"),
    ]
    capsys.readouterr()
    assert lead("show", "twitter", "ada", "--audience", AUDIENCE) == 0
    out = capsys.readouterr().out
    assert f"@Ada (twitter, id 101) for {AUDIENCE}: replied since" in out
    assert "reviewed -> contacted  by tester (cli) · DM'd" in out
    # another audience is another lead
    assert lead("show", "twitter", "ada", "--audience", "other.v1") == 0
    assert "for other.v1: new" in capsys.readouterr().out


def test_a_move_that_is_not_allowed_writes_nothing_and_names_from_and_to(
    bound: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lead("set", "twitter", "grace", "--audience", AUDIENCE, "--state", "converted") == 2
    assert "cannot move a lead from new to converted" in capsys.readouterr().err
    assert lead("set", "twitter", "grace", "--audience", AUDIENCE, "--state", "rejected") == 0
    assert lead("set", "twitter", "grace", "--audience", AUDIENCE, "--state", "contacted") == 2
    assert "from rejected to contacted: rejected is final" in capsys.readouterr().err
    assert bound.read("select count(*) as n from lead_events")["n"][0] == 1
    assert lead("set", "twitter", "nobody", "--audience", AUDIENCE, "--state", "reviewed") == 2
    assert "twitter account 'nobody': not found in profiles" in capsys.readouterr().err


def test_a_review_makes_a_lead_reviewed_and_a_later_event_still_wins(bound: Warehouse) -> None:
    review = review_row(
        platform="twitter",
        platform_id="102",
        handle="grace",
        name=None,
        bio=None,
        category=None,
        followers=None,
        audience=AUDIENCE,
        audience_hash="h",
        label=True,
        reason=None,
        reviewer="tester",
        source="cli",
        reviewed_at=T0,
    )
    bound.append("reviews", pl.DataFrame([review], schema=polars_schema(REVIEWS.columns)))
    assert state_of(bound, "102") == "reviewed"
    # reviewed -> reviewed is not a move; contacted is
    assert lead("set", "twitter", "grace", "--audience", AUDIENCE, "--state", "reviewed") == 2
    assert lead("set", "twitter", "grace", "--audience", AUDIENCE, "--state", "contacted") == 0
    assert state_of(bound, "102") == "contacted"


# --- the lead list: one list for the CLI, the dashboard and the API -------------------------------


@pytest.fixture
def marts_copy(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """A private copy of the demo marts (a real dbt build) that ``scout`` reads and writes."""
    import shutil

    from tests.dbt_fixtures import demo_duckdb_marts

    path = tmp_path / "scout.duckdb"
    shutil.copyfile(demo_duckdb_marts().path, path)
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", f"duckdb://{path}")
    monkeypatch.setenv("SCOUT_MARTS_SCHEMA", "analytics")
    monkeypatch.setenv("USER", "tester")
    return Warehouse(url=f"duckdb://{path}")


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> pl.DataFrame:
    import io

    capsys.readouterr()
    assert lead("list", "--audience", UX_AUDIENCE, *argv) == 0
    return pl.read_csv(io.StringIO(capsys.readouterr().out), infer_schema_length=0)


UX_AUDIENCE = "ux_research_leads.v1"


def test_list_shows_a_move_an_exclusion_and_an_export_at_once_without_a_dbt_build(
    marts_copy: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    everyone = ("--verdict", "match", "--verdict", "uncertain", "--verdict", "no_match")
    before = listed(capsys, *everyone)
    assert before.height >= 2, "the demo marts should hold leads for the UX audience"
    # paging: two pages of one row are the first two rows of the whole list, in order
    handles = before["handle"].to_list()
    assert listed(capsys, *everyone, "--limit", "1")["handle"].to_list() == handles[:1]
    assert listed(capsys, *everyone, "--limit", "1", "--offset", "1")["handle"].to_list() == handles[1:2]
    first = before.filter(pl.col("lead_state").is_in(["new", "reviewed"])).row(0, named=True)
    second = before.filter(pl.col("handle") != first["handle"]).row(0, named=True)

    # a move shows at once (the list overlays lead_events on the mart)
    assert (
        lead("set", first["platform"], first["handle"], "--audience", UX_AUDIENCE, "--state", "contacted")
        == 0
    )
    contacted = listed(capsys, *everyone, "--state", "contacted")
    assert (first["handle"], "contacted") in contacted.select("handle", "lead_state").rows()
    assert contacted.height == before.filter(pl.col("lead_state") == "contacted").height + 1

    # an export hides the lead from "new since the last export", and only that lead
    platform_id = marts_copy.read(
        "select platform_id from profiles where platform = $1 and handle = $2",
        [second["platform"], second["handle"]],
    )["platform_id"][0]
    marts_copy.append(
        "lead_exports",
        rows(
            "lead_exports",
            {"audience": UX_AUDIENCE, "platform": second["platform"], "platform_id": platform_id},
        ),
    )
    fresh = listed(capsys, *everyone, "--new-since-export")["handle"].to_list()
    assert second["handle"] not in fresh and first["handle"] in fresh
    assert len(fresh) == before.height - 1

    # an exclusion drops the account from every list at once
    assert main(["exclude", "add", "--platform", first["platform"], "--handle", first["handle"],
                 "--reason", "asked not to be contacted"]) == 0  # fmt: skip
    after = listed(capsys, *everyone)["handle"].to_list()
    assert first["handle"] not in after and len(after) == before.height - 1


def test_list_refuses_bad_filters_naming_them(
    marts_copy: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lead("list", "--audience", UX_AUDIENCE, "--offset", "-1") == 2
    assert "offset must not be negative" in capsys.readouterr().err
