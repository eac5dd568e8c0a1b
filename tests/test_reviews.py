"""People's reviews: the file format, ``scout review import/export/queue``, and "the latest wins".

Real warehouses on both backends (DuckDB file, fresh PostgreSQL database), the real ``scout``
entry point bound to them through ``SCOUT_WAREHOUSE_URL``, and 20 real lines of the person's
labels (tests/fixtures/reviews, with one made-up hostile line). A curated sample of the
predecessor's profiles: the counts below are about this file, not about search results.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from resources.warehouse import Warehouse
from scout_cli.main import main
from scout_contract.audience import resolve_audience
from scout_contract.errors import storable_text
from scout_contract.reviews import (
    LATEST_REVIEWS_SQL,
    REVIEW_HISTORY_SQL,
    ReviewFileError,
    parse_review_lines,
    review_queue_sql,
    review_row,
)
from scout_contract.tables import REVIEWS, polars_schema
from tests.dbt_fixtures import rows

FIXTURE = Path(__file__).parent / "fixtures" / "reviews" / "human_labels_sample.jsonl"
AUDIENCE = "thelai_customers.v3"
FILE_FIELDS = ("handle", "name", "bio", "category", "followers", "human_label", "human_reason")
T0 = datetime(2026, 3, 1, 12, 0, 0)


def fixture_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def bound(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """``warehouse`` (DuckDB and PostgreSQL) as the one ``scout`` uses; reviewer from $USER."""
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", warehouse.url)
    monkeypatch.delenv("SCOUT_REVIEWER", raising=False)
    monkeypatch.setenv("USER", "tester")
    return warehouse


def scout(*argv: str | Path) -> int:
    return main(["review", *map(str, argv)])


def count(warehouse: Warehouse) -> int:
    return warehouse.read("select count(*) as n from reviews")["n"][0]


def seed_profile(warehouse: Warehouse, platform_id: str, handle: str, last_seen: datetime = T0) -> None:
    warehouse.append(
        "profiles",
        rows(
            "profiles",
            {"platform": "twitter", "platform_id": platform_id, "handle": handle, "last_seen_at": last_seen},
        ),
    )


def append_reviews(warehouse: Warehouse, *reviews: dict[str, Any]) -> None:
    warehouse.append("reviews", pl.DataFrame(list(reviews), schema=polars_schema(REVIEWS.columns)))


# --- the file format (pure) --------------------------------------------------------------------


def test_labels_are_read_as_words_or_json_literals_and_other_fields_are_ignored() -> None:
    """The predecessor's file spells labels as strings; an edited file may use JSON literals. Both mean the same."""
    lines = [
        '{"handle": "@A", "human_label": "TRUE ", "llm_label": "false", "batch": 3}',
        '{"handle": "b", "human_label": false, "human_reason": " no methods ", "followers": "12"}',
        '{"handle": "c", "human_label": null, "category": "null", "followers": null}',
        "",
        '{"handle": "d", "human_label": "null", "name": null, "bio": null}',
    ]
    parsed = parse_review_lines(lines, "x.jsonl")
    assert [(p["line"], p["handle"], p["label"]) for p in parsed] == [
        (1, "A", True),
        (2, "b", False),
        (3, "c", None),
        (5, "d", None),
    ]
    assert parsed[1]["reason"] == "no methods" and parsed[1]["followers"] == 12
    assert parsed[2]["category"] is None and parsed[2]["followers"] is None
    assert (parsed[3]["name"], parsed[3]["bio"], parsed[3]["reason"]) == ("", "", "")
    assert "llm_label" not in parsed[0] and "batch" not in parsed[0]


def test_every_bad_line_is_listed_with_file_line_and_field() -> None:
    """One error names each bad line, so a person fixes the file in one go rather than line by line."""
    lines = [
        '{"handle": "ok", "human_label": "true"}',
        '{"handle": "broken", "human_label": ',
        '{"handle": "maybe", "human_label": "maybe"}',
        '["not", "an", "object"]',
        '{"name": "no handle", "human_label": "false"}',
        '{"handle": "n", "human_label": "true", "followers": "lots"}',
        '{"handle": "nolabel"}',
        '{"handle": "OK", "human_label": "false"}',
    ]
    with pytest.raises(ReviewFileError) as caught:
        parse_review_lines(lines, "people.jsonl")
    message = str(caught.value)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (2, "(line)"),
        (3, "human_label"),
        (4, "(line)"),
        (5, "handle"),
        (6, "followers"),
        (7, "human_label"),
        (8, "human_label"),
    ]
    assert "people.jsonl: 7 bad line(s), nothing was imported" in message
    assert "people.jsonl:2: field '(line)' is not valid JSON" in message
    assert "people.jsonl:3: field 'human_label' must be true, false or null, got str 'maybe'" in message
    assert "people.jsonl:5: field 'handle' is missing" in message
    assert "people.jsonl:8: field 'human_label' contradicts line 1 about the same account @OK" in message


# --- scout review import ----------------------------------------------------------------------------


def test_import_stores_every_line_as_judged_and_matches_known_accounts(
    bound: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each line becomes one review with the text the person saw; a handle the warehouse knows gets its id."""
    lines = fixture_lines()
    seed_profile(bound, "1001", lines[0]["handle"].upper())  # the same account, its handle in other case
    assert scout("import", FIXTURE, "--audience", AUDIENCE, "--reviewer", "ana") == 0
    out = capsys.readouterr().out
    assert "imported 21, already present 0" in out
    assert "labels: true 7, false 9, null 5" in out
    assert "matched to known accounts: 1 of 21 (20 kept by handle" in out

    stored = {row["handle"]: row for row in bound.read_table("reviews").iter_rows(named=True)}
    assert len(stored) == 21
    v3_hash = resolve_audience(AUDIENCE).content_hash
    words = {"true": True, "false": False, "null": None}
    for line in lines:
        row = stored[line["handle"]]
        assert row["label"] is words[line["human_label"]]
        assert row["reason"] == line["human_reason"]
        assert (row["name"], row["bio"]) == (storable_text(line["name"]), storable_text(line["bio"]))
        assert (row["category"], row["followers"]) == (line["category"], line["followers"])
        assert (row["audience"], row["audience_hash"], row["reviewer"]) == (AUDIENCE, v3_hash, "ana")
        assert row["source"] == "import:human_labels_sample.jsonl" and row["platform"] == "twitter"
    assert stored[lines[0]["handle"]]["platform_id"] == "1001"
    assert sum(row["platform_id"] is not None for row in stored.values()) == 1
    # The hostile line is kept as text: only what a text column refuses (NUL, a lone surrogate) changed.
    hostile = stored["Ignore_Previous"]["bio"]
    assert "![pixel](http://203.0.113.9/p.png) <script>alert(1)</script>" in hostile
    assert '"},{"handle":"x"' in hostile and "\u202eevil\u202c" in hostile
    assert "NUL\ufffd lone\ufffd end" in hostile


def test_a_bad_file_writes_nothing_and_names_each_bad_line(
    bound: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good lines before and after bad ones are not imported either: a file goes in whole or not at all."""
    good = FIXTURE.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "labels.jsonl"
    bad.write_text(
        "\n".join(
            [
                good[0],
                '{"handle": "x", "human_label": "tru',  # cut off mid-line
                '{"handle": "y", "human_label": "yes"}',
                good[1],
                '{"bio": "no handle", "human_label": "false"}',
                *good[2:],
            ]
        ),
        encoding="utf-8",
    )
    assert scout("import", bad, "--audience", AUDIENCE) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: field '(line)' is not valid JSON" in err
    assert f"{bad}:3: field 'human_label' must be true, false or null, got str 'yes'" in err
    assert f"{bad}:5: field 'handle' is missing" in err
    assert count(bound) == 0


def test_importing_the_same_file_again_adds_nothing_but_a_changed_verdict_is_new(
    bound: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Re-running an import is safe; a person who changed their mind is recorded, and their new verdict wins."""
    assert scout("import", FIXTURE, "--audience", AUDIENCE) == 0
    assert scout("import", FIXTURE, "--audience", AUDIENCE) == 0
    assert "imported 0, already present 21" in capsys.readouterr().out
    assert count(bound) == 21

    first = fixture_lines()[0]
    assert first["human_label"] == "false"
    changed = tmp_path / "second_thoughts.jsonl"
    changed.write_text(
        json.dumps({**first, "human_label": "true", "human_reason": "runs interviews after all"})
    )
    assert scout("import", changed, "--audience", AUDIENCE) == 0
    assert "imported 1, already present 0" in capsys.readouterr().out
    latest = bound.read(LATEST_REVIEWS_SQL, [AUDIENCE])
    assert latest.height == 21 and count(bound) == 22
    mine = latest.filter(pl.col("handle") == first["handle"]).row(0, named=True)
    assert (mine["label"], mine["reason"]) == (True, "runs interviews after all")
    assert mine["reviewer"] == "tester"  # --reviewer not given: $USER


def test_export_then_import_gives_back_the_same_reviews(
    bound: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export carries who, when and which audience, so it moves reviews between warehouses unchanged."""
    lines = fixture_lines()
    seed_profile(bound, "1001", lines[0]["handle"])
    assert scout("import", FIXTURE, "--audience", AUDIENCE, "--reviewer", "ana") == 0
    exported = tmp_path / "out" / "reviews.jsonl"
    assert scout("export", "--audience", AUDIENCE, "--out", exported) == 0
    assert f"21 account(s), latest verdict each for {AUDIENCE} -> {exported}" in capsys.readouterr().out
    records = {record["handle"]: record for record in map(json.loads, exported.read_text().splitlines())}
    for line in lines:  # the file format itself round-trips
        assert {f: records[line["handle"]][f] for f in FILE_FIELDS} == {
            f: storable_text(line[f]) if isinstance(line[f], str) else line[f] for f in FILE_FIELDS
        }
        assert records[line["handle"]]["reviewer"] == "ana"
        assert records[line["handle"]]["audience"] == AUDIENCE
    assert records[lines[0]["handle"]]["platform_id"] == "1001"

    # Back into the same warehouse: nothing new.
    assert scout("import", exported, "--audience", AUDIENCE) == 0
    assert "imported 0, already present 21" in capsys.readouterr().out

    # Into another warehouse: the same reviews, exported byte for byte alike.
    other = Warehouse(url=f"duckdb://{tmp_path / 'other.duckdb'}")
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", other.url)
    assert scout("import", exported, "--audience", AUDIENCE, "--reviewer", "someone-else") == 0
    assert "imported 21, already present 0" in capsys.readouterr().out
    again = tmp_path / "again.jsonl"
    assert scout("export", "--audience", AUDIENCE, "--out", again) == 0
    assert again.read_text() == exported.read_text()


def test_an_edited_export_line_or_another_audience_is_refused(
    bound: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stored review never changes: a line that keeps its review_id but not its verdict is a mistake."""
    assert scout("import", FIXTURE, "--audience", AUDIENCE) == 0
    exported = tmp_path / "reviews.jsonl"
    assert scout("export", "--audience", AUDIENCE, "--out", exported) == 0
    capsys.readouterr()
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    flipped = {"false": "true", "true": "null", "null": "false"}
    records[2]["human_label"] = flipped[records[2]["human_label"]]
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert scout("import", edited, "--audience", AUDIENCE) == 2
    err = capsys.readouterr().err
    assert f"{edited}:3: field 'review_id' {records[2]['review_id']} is stored as" in err
    assert "Drop review_id and reviewed_at to record the line as a new verdict" in err

    other = tmp_path / "v2.jsonl"
    other.write_text(json.dumps({**records[0], "audience": "thelai_customers.v2"}) + "\n")
    assert scout("import", other, "--audience", AUDIENCE) == 2
    assert f"{other}:1: field 'audience' is 'thelai_customers.v2', but this import is for" in (
        capsys.readouterr().err
    )
    assert count(bound) == 21


def test_export_history_keeps_every_verdict_and_an_unknown_audience_is_an_error(
    bound: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--history`` is the audit trail (every verdict, oldest first); a typo in the audience is not an empty file."""
    first = fixture_lines()[0]
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps(first) + "\n")
    assert scout("import", one, "--audience", AUDIENCE) == 0
    one.write_text(json.dumps({**first, "human_label": "null"}) + "\n")
    assert scout("import", one, "--audience", AUDIENCE) == 0
    history = tmp_path / "history.jsonl"
    assert scout("export", "--audience", AUDIENCE, "--history", "--out", history) == 0
    labels = [json.loads(line)["human_label"] for line in history.read_text().splitlines()]
    assert labels == ["false", "null"]
    capsys.readouterr()
    assert scout("export", "--audience", "thelai_customer.v3") == 2
    assert (
        "audience 'thelai_customer.v3': no reviews and not a configured audience" in capsys.readouterr().err
    )


# --- the latest review wins ------------------------------------------------------------------------


def test_the_latest_review_of_each_account_wins(warehouse: Warehouse) -> None:
    """Greatest (reviewed_at, review_id) per platform, account and audience; an account is its id, else its handle."""

    def review(handle: str, label: bool | None, at: datetime, **extra: Any) -> dict[str, Any]:
        values = {"audience": AUDIENCE, "audience_hash": "h3", "reviewer": "ana", "source": "cli"}
        return review_row(
            platform="twitter", handle=handle, label=label, reviewed_at=at, **{**values, **extra}
        )

    seed_profile(warehouse, "p-ada", "ada")
    seed_profile(warehouse, "12345", "eve")
    append_reviews(
        warehouse,
        # ada: imported by handle before the account was found, then judged again on the dashboard.
        review("Ada", True, T0, source="import:x.jsonl"),
        review("ada", False, T0 + timedelta(hours=1), platform_id="p-ada", source="dashboard"),
        # bo: two verdicts at the same instant, the greater review_id wins.
        review("bo", True, T0, review_id="r-bo-1"),
        review("bo", None, T0, review_id="r-bo-2"),
        # cy: the latest verdict may be null (unsure) and still wins.
        review("cy", False, T0),
        review("cy", None, T0 + timedelta(days=1)),
        # A later verdict for another audience version does not count for this one.
        review("cy", True, T0 + timedelta(days=2), audience="thelai_customers.v2"),
        # eve (id 12345) and an unknown account whose handle is "12345" stay two accounts.
        review("eve", True, T0, platform_id="12345"),
        review("12345", False, T0),
        # A bluesky account with the same handle as a twitter one is another account.
        review_row(
            platform="bluesky",
            handle="ada",
            label=None,
            reviewed_at=T0,
            audience=AUDIENCE,
            audience_hash="h3",
            reviewer="ana",
            source="cli",
        ),
    )
    latest = warehouse.read(LATEST_REVIEWS_SQL, [AUDIENCE])
    assert latest.columns == list(REVIEWS.column_names)
    got = {(r["platform"], r["handle"], r["platform_id"], r["label"]) for r in latest.iter_rows(named=True)}
    assert got == {
        ("twitter", "ada", "p-ada", False),
        ("twitter", "bo", None, None),
        ("twitter", "cy", None, None),
        ("twitter", "eve", "12345", True),
        ("twitter", "12345", None, False),
        ("bluesky", "ada", None, None),
    }
    assert latest.filter(pl.col("handle") == "bo")["review_id"].to_list() == ["r-bo-2"]
    # Append-only: every verdict is still there for the audit trail.
    assert warehouse.read(REVIEW_HISTORY_SQL, [AUDIENCE]).height == 9


# --- the review queue --------------------------------------------------------------------------------

QUEUE_DDL = """
create table analytics.mart_review_queue (
    audience text, platform text, platform_id text, handle text, name text, bio text, category text,
    followers bigint, has float8, consensus_label boolean, local_p_true float8, models_disagree boolean,
    priority float8, why text
)
"""


def seed_queue(warehouse: Warehouse) -> None:
    """mart_review_queue as dbt builds it (the documented columns), with three accounts."""
    warehouse.execute("create schema if not exists analytics")
    warehouse.execute(QUEUE_DDL)
    for platform_id, handle, priority in (("q1", "Uma", 0.9), ("q2", "vic", 0.7), ("q3", "wen", 0.5)):
        warehouse.execute(
            "insert into analytics.mart_review_queue values "
            "($1, 'twitter', $2, $3, 'N', 'B', null, 10, 0.8, true, 0.5, true, $4, 'models disagree')",
            [AUDIENCE, platform_id, handle, priority],
        )


def test_the_queue_drops_accounts_reviewed_after_the_mart_was_built(
    bound: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    """A verdict takes its account off the queue at once, whether the review names the id or only the handle."""
    seed_queue(bound)
    common = {"audience": AUDIENCE, "audience_hash": "h3", "reviewer": "ana", "reviewed_at": T0}
    append_reviews(
        bound,
        review_row(
            platform="twitter", handle="uma", platform_id="q1", label=True, source="dashboard", **common
        ),
        review_row(platform="twitter", handle="VIC", label=False, source="import:f.jsonl", **common),
        review_row(  # the same account judged for another audience leaves this queue alone
            platform="twitter",
            handle="wen",
            platform_id="q3",
            label=True,
            source="cli",
            **{**common, "audience": "thelai_customers.v2"},
        ),
    )
    left = bound.read(review_queue_sql("analytics", 10), [AUDIENCE])
    assert left["handle"].to_list() == ["wen"]
    assert bound.read(review_queue_sql("analytics", 10, skip=1), [AUDIENCE, "twitter:q3"]).height == 0

    assert scout("queue", "--audience", AUDIENCE, "--limit", "5") == 0
    out = capsys.readouterr().out
    assert f"1 account(s) to review for {AUDIENCE}" in out and "@wen (twitter) HAS 0.80" in out
    assert "@vic" not in out and "@Uma" not in out
