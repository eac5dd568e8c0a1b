"""The keyword file users edit, and keyword state derived from the raw-search ledger."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from scout_assets.domain.keyword_file import KeywordFileError, load_keyword_file
from scout_assets.domain.keyword_state import keyword_states, select_targets
from scout_contract.paths import KEYWORD_FILE

HEADER = "keyword,platforms,tags,enabled\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "keywords.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_checked_in_file_is_valid_and_covers_both_platforms():
    entries = load_keyword_file(KEYWORD_FILE)
    assert len(entries) >= 20
    assert {p for e in entries for p in e.platforms} == {"twitter", "bluesky"}


def test_parses_platforms_tags_enabled_and_line_numbers(tmp_path):
    path = write(
        tmp_path,
        "# comment\n" + HEADER + 'ethnography,*,#qual #soc,true\n\n"UX researcher, senior",twitter,,false\n',
    )
    first, second = load_keyword_file(path)
    assert (first.keyword, first.platforms, first.tags, first.enabled, first.line) == (
        "ethnography",
        ("bluesky", "twitter"),
        ("#qual", "#soc"),
        True,
        3,
    )
    assert (second.keyword, second.platforms, second.enabled, second.line) == (
        "UX researcher, senior",
        ("twitter",),
        False,
        5,
    )


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        (HEADER + "ethnography,mastodon,,\n", 2, "unknown platform 'mastodon'"),
        (HEADER + "ethnography,*,academia,\n", 2, "tag 'academia' must start with '#'"),
        (HEADER + "ethnography,*,,maybe\n", 2, "enabled must be true or false"),
        (HEADER + "a,*,,\n  ,*,,\n", 3, "the keyword is empty"),
        (HEADER + "postdoc,*,,\nPostdoc,*,,\n", 3, "repeats line 2"),
        (HEADER + "a,*,,true,extra\n", 2, "comma-separated fields"),
        ("word,where\n", 1, "expected the header"),
    ],
)
def test_invalid_entries_name_file_and_line(tmp_path, body, line, problem):
    path = write(tmp_path, body)
    with pytest.raises(KeywordFileError) as err:
        load_keyword_file(path)
    assert err.value.line == line
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert problem in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(KeywordFileError, match=r"nope\.csv: cannot be read"):
        load_keyword_file(tmp_path / "nope.csv")


def ledger(rows: list[tuple[str, int, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"keyword": k, "page": p, "cursor_out": c, "fetched_at": datetime(2026, 1, 1, h)}
            for k, p, c, h in rows
        ],
        schema={
            "keyword": pl.String,
            "page": pl.Int64,
            "cursor_out": pl.String,
            "fetched_at": pl.Datetime("us"),
        },
    )


def test_state_follows_the_highest_stored_page(tmp_path):
    entries = load_keyword_file(write(tmp_path, HEADER + "alpha,*,,\nbeta,*,,\ngamma,*,,\ndelta,*,,false\n"))
    states = keyword_states(
        entries,
        "twitter",
        ledger(
            [
                ("alpha", 0, "c1", 1),
                ("alpha", 1, "c2", 2),  # paging
                ("beta", 0, "b1", 1),
                ("beta", 1, None, 3),  # exhausted: highest page has no cursor
            ]
        ),
    )
    by_kw = {row["keyword"]: row for row in states.iter_rows(named=True)}
    assert (by_kw["alpha"]["next_cursor"], by_kw["alpha"]["next_page"], by_kw["alpha"]["still_valid"]) == (
        "c2",
        2,
        True,
    )
    assert (by_kw["beta"]["exhausted"], by_kw["beta"]["still_valid"], by_kw["beta"]["pages_searched"]) == (
        True,
        False,
        2,
    )
    assert (by_kw["gamma"]["next_page"], by_kw["gamma"]["state_reason"]) == (0, "never searched")
    assert (by_kw["delta"]["still_valid"], by_kw["delta"]["state_reason"]) == (
        False,
        "disabled in the keyword file",
    )


def test_selection_prefers_never_searched_then_least_recent(tmp_path):
    entries = load_keyword_file(write(tmp_path, HEADER + "alpha,*,,\nbeta,*,,\ngamma,*,,\n"))
    states = keyword_states(entries, "bluesky", ledger([("alpha", 0, "a", 5), ("beta", 0, "b", 2)]))
    picked = select_targets(states, 2)
    assert [(t.keyword, t.cursor, t.page) for t in picked] == [("gamma", None, 0), ("beta", "b", 1)]


def test_platform_filter(tmp_path):
    entries = load_keyword_file(write(tmp_path, HEADER + "alpha,twitter,,\nbeta,bluesky,,\n"))
    assert keyword_states(entries, "bluesky", ledger([]))["keyword"].to_list() == ["beta"]
