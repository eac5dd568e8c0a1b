"""Clean text at the door and quarantine rows, not pages.

The sanitizer (``resources/platforms/text.py``) and the lenient row reader are checked on
their own; then the parsers on hostile text; then the whole point: a day whose stored raw
page holds a lone surrogate, unreadable rows and a page that is not a page materializes
``profiles`` on DuckDB and PostgreSQL, stores every good row once, quarantines every bad one
with its reason, and gives the same rows when run again.
"""

from __future__ import annotations

import json
import pickle
from datetime import date, datetime

import dagster as dg
import polars as pl
import pytest

from resources.platforms.bluesky_wire import merge_bluesky
from resources.platforms.quarantine import RAW_ROW_CAP, raw_row_text
from resources.platforms.raw_pages import profiles_from_page
from resources.platforms.text import FIELD_CAPS, clean_text, identity_problem, storable, unsafe_character
from resources.platforms.twitter_wire import parse_twitter_page
from scout_assets.partitions import partition_key
from scout_contract.errors import PayloadError
from scout_contract.tables import table
from scout_sandbox import Fault
from tests.pipeline_support import assets, materialize
from tests.pipeline_support import table as sorted_table

KW = "ethnography"
SURROGATE = "\ud800"

# --- the sanitizer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "single_line", "expected", "notes"),
    [
        (f"Ada{SURROGATE} Lovelace", True, "Ada\ufffd Lovelace", ("replaced 1 lone surrogate with U+FFFD",)),
        ("\udfff\ud83d", True, "\ufffd\ufffd", ("replaced 2 lone surrogates with U+FFFD",)),
        ("a\x00b\x07c\x1bd\x7fe\x85f", True, "abcdef", ("dropped 5 control characters",)),
        ("evil\u202egnp.exe\u2066x\u2069", True, "evilgnp.exex", ("dropped 3 bidi controls",)),
        ("Cafe\u0301", True, "Café", ()),  # NFC: the same name typed two ways compares equal
        ("line one\nline two\tend", True, "line one line two end", ()),
        ("line one\r\nline two\u2028three\tend", False, "line one\nline two\nthree\tend", ()),
        ("right\u200fmark", True, "right\u200fmark", ()),  # marks cannot reorder text: kept
        ("Qualitative 🔬 research 🇮🇹", True, "Qualitative 🔬 research 🇮🇹", ()),
    ],
)
def test_clean_text_rules(raw, single_line, expected, notes):
    cleaned = clean_text(raw, cap=200, single_line=single_line)
    assert (cleaned.value, cleaned.notes) == (expected, notes)
    cleaned.value.encode("utf-8")  # storable: a surrogate would raise here


def test_clean_text_caps_after_cleaning_and_says_so():
    cleaned = clean_text("x" * 1_000_000, cap=FIELD_CAPS["bio"], single_line=False)
    assert cleaned.value == "x" * 2_000
    assert cleaned.notes == ("truncated from 1,000,000 to 2,000 characters",)
    assert clean_text("\x00" * 300 + "ok", cap=200, single_line=True).value == "ok"  # dropped first
    both = clean_text(SURROGATE + "y" * 250, cap=200, single_line=True)
    assert both.value == "\ufffd" + "y" * 199 and len(both.notes) == 2


def test_identities_are_never_rewritten_only_refused():
    assert identity_problem("did:plc:ewvi7nxzyoun6zhxrhs64oiz") is None
    assert identity_problem("a" * 300) is None
    assert identity_problem("a" * 301) == "is 301 characters long (at most 300)"
    assert "U+D800" in identity_problem(f"x{SURROGATE}")
    assert "U+202E" in identity_problem("evil\u202eliam")
    assert "U+000A" in identity_problem("two\nlines")
    assert storable(f"k{SURROGATE}\x00\u202ey") == "k\ufffdy"


def test_raw_rows_are_ascii_json_and_capped():
    assert raw_row_text({"name": f"a{SURROGATE}\x00"}) == '{"name": "a\\ud800\\u0000"}'
    big = raw_row_text({"bio": "é" * 10_000})
    assert big.isascii() and big.startswith('{"bio": "\\u00e9')
    assert big.endswith("(cut from 60,011 characters)") and len(big) < RAW_ROW_CAP + 40


def test_payload_errors_are_storable_and_survive_pickling():
    error = PayloadError("twitter", KW, f"data[0].{SURROGATE}", "has NUL \x00")
    assert (error.field, error.detail) == ("data[0].\ufffd", "has NUL \ufffd")
    str(error).encode("utf-8")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.detail) == (error.field, error.detail)


# --- the parsers clean every text field once -----------------------------------------------------


def _user(rest_id: str, screen_name: str, **legacy) -> dict:
    fields = {"screen_name": screen_name, "name": screen_name.title(), "followers_count": 10}
    return {"__typename": "User", "rest_id": rest_id, "legacy": fields | legacy}


def test_twitter_text_is_cleaned_capped_and_noted():
    user = _user(
        "1",
        "ada",
        name=f"Ada{SURROGATE} \u202eLove\u202c",
        description="x" * 5_000,
        location="Lon\x00don",
        verified=True,
    )
    page = parse_twitter_page(json.dumps({"data": [user]}), KW)
    [row] = page.users
    assert (row["name"], row["location"], row["verified"]) == ("Ada\ufffd Love", "London", True)
    assert row["bio"] == "x" * 2_000
    notes = {note.field: note.reason for note in page.quarantined}
    assert notes == {
        "data[0].legacy.name": "replaced 1 lone surrogate with U+FFFD; dropped 2 bidi controls",
        "data[0].legacy.description": "truncated from 5,000 to 2,000 characters",
        "data[0].legacy.location": "dropped 1 control character",
    }
    assert {note.severity for note in page.quarantined} == {"field"}


def test_bluesky_display_name_and_description_are_cleaned():
    actor = {
        "did": "did:plc:x",
        "handle": "x.test",
        "displayName": f"\u202e{SURROGATE}",
        "description": "a\x00b",
    }
    parsed = merge_bluesky([actor], [], KW)
    [row] = parsed.rows
    assert (row["name"], row["bio"]) == ("\ufffd", "ab")
    assert [n.field for n in parsed.quarantined] == ["actors[0].displayName", "actors[0].description"]


def test_a_stored_bluesky_page_with_bad_actors_and_bad_hydration_bodies():
    search = json.dumps(
        {
            "actors": [
                {"handle": "no-did.test"},
                {"did": "d1", "handle": "a.test"},
                {"did": "d2", "handle": "b.test"},
            ]
        }
    )
    hydration = json.dumps(
        [
            {"profiles": [{"did": "d1", "handle": "a.test", "followersCount": "2.5K"}, {"handle": "x"}]},
            {"profiles": "nope"},
            {"profiles": [{"did": "d2", "handle": "b.test", "followersCount": "lots"}]},
        ]
    )
    parsed = profiles_from_page("bluesky", KW, search, hydration)
    assert [(r["handle"], r["followers"]) for r in parsed.rows] == [("a.test", 2500), ("b.test", None)]
    entries = {(e.row_index, e.field): (e.severity, e.reason) for e in parsed.quarantined}
    assert entries[(0, "actors[0].did")] == ("row", "is missing")
    assert entries[(1, "hydration_payload[0].profiles[1].did")] == ("row", "is missing")
    severity, reason = entries[(-1, "hydration_payload[1].profiles")]
    assert severity == "field" and "must be a list" in reason and "unknown counts" in reason
    assert entries[(2, "hydration_payload[2].profiles[0].followersCount")][0] == "field"
    assert len(entries) == len(parsed.quarantined) == 4  # keys are unique within a page


# --- a poisoned day recovers --------------------------------------------------------------------

DAY, EARLIER = date(2026, 3, 2), date(2026, 3, 1)


def _raw_page(request_id: str, day: date, page: int, payload: str, platform: str = "twitter", hydration=None):
    spec = table("raw_searches")
    values = {
        "request_id": request_id,
        "platform": platform,
        "keyword": KW,
        "partition_date": day,
        "page": page,
        "status": 200,
        "payload": payload,
        "hydration_payload": hydration,
        "fetched_at": datetime(day.year, day.month, day.day, 9, page),
    }
    return {name: values.get(name) for name in spec.column_names}


def _store_pages(warehouse, *pages: dict) -> None:
    spec = table("raw_searches")
    from scout_contract.tables import polars_schema

    warehouse.append("raw_searches", pl.DataFrame(list(pages), schema=polars_schema(spec.columns)))


# The page as the platform sent it: JSON escapes (``\ud800``) are plain ASCII in the stored
# text, so the raw page stores fine; the surrogate appears only once the JSON is decoded.
POISONED = json.dumps(
    {
        "data": [
            _user("1", "good_one"),
            _user("2", "surrogate", name=f"Bad{SURROGATE}Name"),
            {"rest_id": "3", "is_blue_verified": True},  # neither legacy nor core
            _user("4", "abbreviated", followers_count="1.2K", friends_count="1,234"),
            _user("5", "lots", followers_count="lots"),
            _user("", "no_id"),
        ],
        "cursor": "c1",
    }
)


def _profiles(warehouse, day: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets(["profiles"]), partition_key=partition_key(day, "twitter"), resources={"warehouse": warehouse}
    )


def _partition(warehouse, name: str, day: date, sort: list[str]) -> pl.DataFrame:
    return warehouse.read(f"select * from {name} where partition_date = $1", [day]).sort(sort)


def test_a_poisoned_day_materializes_keeps_good_rows_and_quarantines_the_rest(warehouse):
    _store_pages(
        warehouse,
        _raw_page("earlier-0", EARLIER, 0, json.dumps({"data": [_user("1", "good_one")], "cursor": "c0"})),
        _raw_page("poisoned-1", DAY, 1, POISONED),
        _raw_page("html-2", DAY, 2, "<html><body>502 Bad Gateway</body></html>"),
    )
    _profiles(warehouse, EARLIER)
    earlier = _partition(warehouse, "profile_snapshots", EARLIER, ["platform_id"])

    result = _profiles(warehouse, DAY)
    snapshots = _partition(warehouse, "profile_snapshots", DAY, ["platform_id"])
    assert snapshots.select("platform_id", "handle", "name", "followers", "following").rows() == [
        ("1", "good_one", "Good_One", 10, None),
        ("2", "surrogate", "Bad\ufffdName", 10, None),
        ("4", "abbreviated", "Abbreviated", 1200, 1234),
        ("5", "lots", "Lots", None, None),
    ]
    held = _partition(warehouse, "quarantined_rows", DAY, ["request_id", "row_index", "field"])
    assert held.select("request_id", "page", "row_index", "field", "severity").rows() == [
        ("html-2", 2, -1, "<body>", "page"),
        ("poisoned-1", 1, 1, "data[1].legacy.name", "field"),
        ("poisoned-1", 1, 2, "data[2]", "row"),
        ("poisoned-1", 1, 4, "data[4].legacy.followers_count", "field"),
        ("poisoned-1", 1, 5, "data[5].rest_id", "row"),
    ]
    reasons = dict(zip(held["field"], held["reason"], strict=True))
    assert reasons["data[2]"] == "has neither a `legacy` nor a `core` block with the profile"
    assert reasons["data[5].rest_id"] == "is empty"
    assert reasons["data[4].legacy.followers_count"] == "must be an integer, got str 'lots'; stored as null"
    assert "is not valid JSON" in reasons["<body>"]
    assert set(held["keyword"]) == {KW} and set(held["platform"]) == {"twitter"}
    assert json.loads(held.filter(pl.col("row_index") == 2)["raw_row"][0]) == {
        "rest_id": "3",
        "is_blue_verified": True,
    }

    metadata = result.asset_materializations_for_node("profiles")[0].metadata
    counts = {
        name: metadata[name].value
        for name in ("quarantined_rows", "quarantined_pages", "field_notes", "rows_out")
    }
    assert counts == {"quarantined_rows": 2, "quarantined_pages": 1, "field_notes": 2, "rows_out": 4}
    assert len(metadata["quarantine_sample"].value) == 5

    # Re-running replaces the partition: the same rows, nothing twice; the earlier day is untouched.
    _profiles(warehouse, DAY)
    assert _partition(warehouse, "profile_snapshots", DAY, ["platform_id"]).equals(snapshots)
    assert _partition(warehouse, "quarantined_rows", DAY, ["request_id", "row_index", "field"]).equals(held)
    assert _partition(warehouse, "profile_snapshots", EARLIER, ["platform_id"]).equals(earlier)
    assert (
        warehouse.read("select count(*) as n from quarantined_rows where partition_date = $1", [EARLIER])[
            "n"
        ][0]
        == 0
    )
    current = warehouse.read("select platform_id, name from profiles order by platform_id")
    assert current.rows() == [("1", "Good_One"), ("2", "Bad\ufffdName"), ("4", "Abbreviated"), ("5", "Lots")]


# --- bad rows and hostile text from the sandbox, through the search chain -------------------------

X_SEARCH = "/api/search/people"
BSKY_SEARCH = "/xrpc/app.bsky.actor.searchActors"
BSKY_PROFILES = "/xrpc/app.bsky.actor.getProfiles"
# defect -> (severity of its quarantine entry, or None when the value is read as it is)
X_DEFECTS = {
    "count_suffix": None,
    "count_separator": None,
    "count_word": "field",
    "bad_date": "field",
    "no_blocks": "row",
    "no_id": "row",
}
# On Bluesky the getProfiles view wins over the search view, so a bad date is spoiled there.
BSKY_DEFECTS = {"no_id": "row", "not_object": "row"}


def _affected(sandbox, path: str) -> list:
    """(page number, affected row) of every spoiled row the sandbox served on ``path``."""
    served = [r for r in sandbox.requests if r.path == path and r.status == 200]
    return [(number, row) for number, request in enumerate(served) for row in request.affected]


@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_bad_rows_and_hostile_text_cost_their_rows_only_and_the_search_goes_on(warehouse, sandbox, platform):
    defects = X_DEFECTS if platform == "twitter" else BSKY_DEFECTS
    search = X_SEARCH if platform == "twitter" else BSKY_SEARCH
    # Page 1 gets bad rows, page 2 hostile text. On Bluesky, counts, dates and the text that is
    # stored come from the getProfiles views (they win over the search views): spoil those too.
    text_path = search if platform == "twitter" else BSKY_PROFILES
    sandbox.inject(search, Fault.bad_rows(rows=len(defects), defects=tuple(defects)))
    if platform == "bluesky":
        sandbox.inject(
            BSKY_PROFILES, Fault.bad_rows(rows=3, defects=("count_word", "bad_date", "count_suffix"))
        )
    sandbox.inject(text_path, Fault.hostile_text(rows=2))
    assert materialize(
        ["raw_searches", "profiles"], warehouse, sandbox, platform, keywords_per_run=1, pages=2
    ).success

    # The spoiled first page was a good page: stored, its cursor followed to a second page.
    pages = sorted_table(warehouse, "raw_searches", ["page"])
    assert pages["page"].to_list() == [0, 1] and pages["cursor_out"][0] is not None
    day = pages["partition_date"][0]
    first, second = pages["request_id"].to_list()

    held = _partition(warehouse, "quarantined_rows", day, ["request_id", "row_index", "field"])
    snapshots = _partition(warehouse, "profile_snapshots", day, ["platform_id"])
    spoiled = [(number, row) for number, row in _affected(sandbox, search) if row.defect in defects]
    lost = {row.platform_id for number, row in spoiled if number == 0 and defects[row.defect] == "row"}
    assert len(lost) == 2 and not lost & set(snapshots["platform_id"])  # not stored ...
    row_entries = held.filter(pl.col("severity") == "row")
    assert row_entries.select("request_id", "row_index").rows() == sorted(
        (first, row.position) for number, row in spoiled if number == 0 and defects[row.defect] == "row"
    )  # ... but quarantined, with the raw row and a reason
    assert (
        row_entries["reason"].str.len_chars().min() > 5 and row_entries["raw_row"].str.len_chars().min() > 5
    )
    for number, row in spoiled:
        noted = held.filter((pl.col("request_id") == first) & (pl.col("row_index") == row.position))
        expected = defects[row.defect]
        assert number == 0 and set(noted["severity"]) == ({expected} if expected else set()), row
    if platform == "twitter":  # '1.2K' and '12,345' are read, not quarantined
        readable = {
            row.defect: row.platform_id for number, row in spoiled if row.defect.startswith("count_s")
        }
        followers = dict(zip(snapshots["platform_id"], snapshots["followers"], strict=True))
        assert (followers[readable["count_suffix"]], followers[readable["count_separator"]]) == (1200, 12345)
    else:  # in a getProfiles body: a count 'many' stored as null, a bad date replaced; '1.2K' read
        hydrated = held.filter(
            (pl.col("request_id") == first)
            & pl.col("field").str.starts_with("hydration_payload[0].profiles[")
        )
        assert sorted(hydrated["field"].str.extract(r"\.(\w+)$").to_list()) == ["createdAt", "followersCount"]
        assert set(hydrated["severity"]) == {"field"} and hydrated["reason"].str.contains("many").sum() == 1
        assert hydrated["reason"].str.ends_with("indexedAt used instead").sum() == 1
        read = [
            row.platform_id for _, row in _affected(sandbox, BSKY_PROFILES) if row.defect == "count_suffix"
        ]
        assert snapshots.filter(pl.col("platform_id").is_in(read))["followers"].to_list() == [1200]

    # Hostile text arrives clean (no surrogate, NUL, control or bidi character), each change noted.
    hostile = {row.platform_id for _, row in _affected(sandbox, text_path) if row.defect == "hostile_text"}
    cleaned = snapshots.filter(pl.col("platform_id").is_in(list(hostile)))
    assert cleaned.height == 2
    for text in [*cleaned["name"], *cleaned["bio"]]:
        assert unsafe_character(text) is None, repr(text)
    assert all("\ufffd" in name for name in cleaned["name"])
    notes = held.filter(pl.col("request_id") == second)
    assert set(notes["severity"]) == {"field"} and notes.height == 4  # a name and a bio per row
    assert notes["reason"].str.contains("lone surrogate").all()

    # Every good row once; a re-run gives the same rows.
    assert snapshots["platform_id"].n_unique() == snapshots.height == pages["result_count"].sum()
    assert dg.materialize(
        assets(["profiles"]), partition_key=partition_key(day, platform), resources={"warehouse": warehouse}
    ).success
    assert _partition(warehouse, "profile_snapshots", day, ["platform_id"]).equals(snapshots)
    assert _partition(warehouse, "quarantined_rows", day, ["request_id", "row_index", "field"]).equals(held)


def test_a_huge_field_is_capped_noted_and_costs_nothing_else(warehouse, sandbox):
    """A bio of a million characters: stored at the cap, the cut recorded, the page and row kept."""
    sandbox.inject(X_SEARCH, Fault.huge_field(size=1_000_000, rows=1))
    assert materialize(
        ["raw_searches", "profiles"], warehouse, sandbox, "twitter", keywords_per_run=1, pages=1
    ).success
    pages = sorted_table(warehouse, "raw_searches", ["page"])
    assert pages.height == 1 and len(pages["payload"][0]) > 1_000_000  # the raw page stays byte-exact
    day = pages["partition_date"][0]
    [huge] = [row.platform_id for _, row in _affected(sandbox, X_SEARCH)]
    snapshots = _partition(warehouse, "profile_snapshots", day, ["platform_id"])
    assert snapshots.height == pages["result_count"][0]  # every row stored, the huge one included
    bio = snapshots.filter(pl.col("platform_id") == huge)["bio"][0]
    # Cut at the cap; the predecessor's rule then drops quotes and commas, so a little less remains.
    assert FIELD_CAPS["bio"] * 0.9 < len(bio) <= FIELD_CAPS["bio"]
    assert snapshots["bio"].str.len_chars().max() <= FIELD_CAPS["bio"]
    notes = _partition(warehouse, "quarantined_rows", day, ["request_id", "row_index", "field"])
    assert notes["severity"].to_list() == ["field"] and notes["field"][0].endswith("description")
    assert "1000000" in notes["reason"][0].replace(",", "")
