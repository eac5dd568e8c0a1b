"""The warehouse's contract, run against real DuckDB and real PostgreSQL alike.

Every test takes the ``warehouse`` fixture (tests/conftest.py), so each runs once per
backend; the behaviour asserted is what assets rely on: partition rewrites that are
idempotent and isolated, ledgers that never double-count, all-or-nothing writes, and frames
that come back with the types and text they went in with.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from resources.warehouse import Warehouse, WarehouseError, WarehouseSchemaError, sql
from scout_contract.tables import TABLES, Table, polars_schema, table

DAY1 = dt.date(2026, 3, 1)
DAY2 = dt.date(2026, 3, 2)

HOSTILE_TEXT = [
    "",
    " ",
    "comma, separated",
    'double "quoted"',
    "single 'quoted'",
    "line\nbreak",
    "crlf\r\nline",
    "tab\tseparated",
    "back\\slash and \\N and \\.",
    "NULL",
    "null",
    "emoji 😀🇺🇦👩‍👩‍👧",
    "ünïcödé Ελληνικά 中文 עברית",
    "line\u2028separator",
    "trailing backslash \\",
    "x" * 10_000,
    "-- not a comment'; DROP TABLE profiles; --",
    "$1 $2 ? %s :name",
]


def frame_of(table_name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A frame for ``table_name`` with its exact schema; columns a row omits are null."""
    spec = table(table_name)
    full = [{name: row.get(name) for name in spec.column_names} for row in rows]
    return pl.DataFrame(full, schema=polars_schema(spec.columns), orient="row")


def keyword_rows(day: dt.date, platform: str, keywords: list[str], **extra: Any) -> pl.DataFrame:
    rows = [
        {
            "platform": platform,
            "keyword": keyword,
            "partition_date": day,
            "source_line": i,
            "enabled": True,
            "next_page": i + 1,
            "last_searched_at": dt.datetime(2026, 3, 1, 12, 0, i),
            **extra,
        }
        for i, keyword in enumerate(keywords)
    ]
    return frame_of("keywords", rows)


def call_rows(ids: list[str], **extra: Any) -> pl.DataFrame:
    rows = [
        {
            "call_id": call_id,
            "platform": "bluesky",
            "endpoint": "searchActors",
            "attempt": 1,
            "status": 200,
            "latency_ms": 12.5,
            "called_at": dt.datetime(2026, 3, 1, 8, 0, 0, 123456),
            "partition_date": DAY1,
            **extra,
        }
        for call_id in ids
    ]
    return frame_of("api_calls", rows)


def sorted_by_key(frame: pl.DataFrame, table_name: str) -> pl.DataFrame:
    return frame.sort(list(table(table_name).key))


def partition(warehouse: Warehouse, table_name: str, day: dt.date, platform: str) -> pl.DataFrame:
    return warehouse.read_table(table_name, {"partition_date": day, "platform": platform})


# --- schema ---------------------------------------------------------------------------------


def _index_names(warehouse: Warehouse) -> set[str]:
    if warehouse.kind == "duckdb":
        return set(warehouse.read("SELECT index_name FROM duckdb_indexes()")["index_name"])
    return set(
        warehouse.read("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")["indexname"]
    )


def test_ensure_schema_creates_every_table_and_is_idempotent(bare_warehouse: Warehouse) -> None:
    first = bare_warehouse.ensure_schema()
    assert len([s for s in first if s.startswith("CREATE TABLE")]) == len(TABLES)

    for name, spec in TABLES.items():
        empty = bare_warehouse.read_table(name)
        assert empty.height == 0
        assert empty.schema == polars_schema(spec.columns), name
    expected_indexes = {sql.index_name(spec, cols) for spec in TABLES.values() for cols in spec.indexes}
    assert expected_indexes and expected_indexes <= _index_names(bare_warehouse)

    bare_warehouse.append("api_calls", call_rows(["c1"]))
    assert bare_warehouse.ensure_schema() == []
    assert bare_warehouse.read_table("api_calls")["call_id"].to_list() == ["c1"]


def test_primary_key_is_the_declared_key(warehouse: Warehouse) -> None:
    warehouse.append("api_calls", call_rows(["dup"]))
    with pytest.raises(WarehouseError, match="api_calls"):
        warehouse.execute(
            "INSERT INTO api_calls (call_id, platform) VALUES ($1, $2)",
            ["dup", "twitter"],
        )


def test_a_large_per_day_table_keeps_its_key_through_every_kind_of_write(warehouse: Warehouse) -> None:
    """``has_scores`` is stored by day: on DuckDB without a PRIMARY KEY index (it made 1 M-row
    replaces 6x slower), so the writes keep the key themselves, on both backends alike."""

    def scores(*pairs: tuple[str, float]) -> pl.DataFrame:
        rows = [{"platform": "twitter", "platform_id": i, "partition_date": DAY1, "has": h} for i, h in pairs]
        return frame_of("has_scores", rows)

    where = {"partition_date": DAY1, "platform": "twitter"}
    assert warehouse.replace_partition("has_scores", scores(("a", 0.1), ("b", 0.2)), where) == 2
    assert warehouse.append("has_scores", scores(("a", 0.9), ("c", 0.3))) == 1  # a is kept as stored
    assert warehouse.upsert("has_scores", scores(("b", 0.7))) == 1
    stored = warehouse.read("select platform_id, has from has_scores order by platform_id")
    assert stored.rows() == [("a", 0.1), ("b", 0.7), ("c", 0.3)]
    with pytest.raises(ValueError, match="share a key"):
        warehouse.replace_partition("has_scores", scores(("d", 0.1), ("d", 0.2)), where)
    assert warehouse.read("select count(*) as n from has_scores")["n"][0] == 3
    for name in ("has_scores", "profile_snapshots", "profiles"):  # stored by day, or bulk
        assert sql.declares_key(_dialect(warehouse), table(name)) == (warehouse.kind != "duckdb")
    assert sql.declares_key(_dialect(warehouse), table("api_calls"))
    if warehouse.kind == "duckdb":
        keys = warehouse.read(
            "select count(*) as n from duckdb_constraints() where table_name = $1 and constraint_type = $2",
            ["has_scores", "PRIMARY KEY"],
        )
        assert keys["n"][0] == 0


def _dialect(warehouse: Warehouse) -> sql.Dialect:
    return sql.DUCKDB if warehouse.kind == "duckdb" else sql.POSTGRES


def test_ensure_schema_adds_columns_declared_later_and_keeps_rows(bare_warehouse: Warehouse) -> None:
    full = table("keywords")
    older = Table(
        name=full.name, columns=full.columns[:4], key=full.key, partition_columns=full.partition_columns
    )
    bare_warehouse.execute(sql.create_table(_dialect(bare_warehouse), older))
    bare_warehouse.execute(
        "INSERT INTO keywords (platform, keyword, partition_date, tags) VALUES ($1, $2, $3, $4)",
        ["bluesky", "ai", DAY1, "tag-a"],
    )

    changes = bare_warehouse.ensure_schema()

    added = [s for s in changes if "ALTER TABLE" in s and '"keywords"' in s]
    assert len(added) == len(full.columns) - 4
    rows = bare_warehouse.read_table("keywords")
    assert rows.select("platform", "keyword", "partition_date", "tags").rows() == [
        ("bluesky", "ai", DAY1, "tag-a")
    ]
    assert rows.select(full.column_names[4:]).null_count().row(0) == (1,) * (len(full.columns) - 4)
    # The grown table takes full-width writes.
    assert (
        bare_warehouse.replace_partition(
            "keywords",
            keyword_rows(DAY1, "bluesky", ["ai", "ml"]),
            {"partition_date": DAY1, "platform": "bluesky"},
        )
        == 2
    )


def test_a_large_table_created_with_its_key_index_before_takes_every_write(bare_warehouse: Warehouse) -> None:
    """A warehouse from before keeps the PRIMARY KEY of ``profiles`` (ensure_schema never converts):
    the key-keeping writes (delete then insert in one transaction) work on it too."""
    profiles = table("profiles")
    keyed = Table(name=profiles.name, columns=profiles.columns, key=profiles.key)  # not bulk: indexed
    bare_warehouse.execute(sql.create_table(_dialect(bare_warehouse), keyed))
    bare_warehouse.ensure_schema()

    def row(handle: str) -> pl.DataFrame:
        return frame_of("profiles", [{"platform": "twitter", "platform_id": "42", "handle": handle}])

    for handle in ("ada", "ada_l", "ada_l"):
        assert bare_warehouse.upsert("profiles", row(handle)) == 1
    assert bare_warehouse.append("profiles", row("other")) == 0
    assert bare_warehouse.read("select platform_id, handle from profiles").rows() == [("42", "ada_l")]


def test_ensure_schema_refuses_a_column_stored_with_another_type(bare_warehouse: Warehouse) -> None:
    full = table("keywords")
    drifted = Table(
        name=full.name,
        columns=tuple((name, "text" if name == "source_line" else logical) for name, logical in full.columns),
        key=full.key,
    )
    bare_warehouse.execute(sql.create_table(_dialect(bare_warehouse), drifted))
    with pytest.raises(WarehouseSchemaError, match=r"'keywords' column 'source_line'.*int"):
        bare_warehouse.ensure_schema()


# --- replace_partition ----------------------------------------------------------------------


def test_replace_partition_is_idempotent_and_touches_only_its_partition(warehouse: Warehouse) -> None:
    a = keyword_rows(DAY1, "bluesky", ["ai", "ml", "rust"])
    other_platform = keyword_rows(DAY1, "twitter", ["ai", "go"])
    other_day = keyword_rows(DAY2, "bluesky", ["ai"])
    assert (
        warehouse.replace_partition(
            "keywords", other_platform, {"partition_date": DAY1, "platform": "twitter"}
        )
        == 2
    )
    assert (
        warehouse.replace_partition("keywords", other_day, {"partition_date": DAY2, "platform": "bluesky"})
        == 1
    )

    for _ in range(2):
        assert (
            warehouse.replace_partition("keywords", a, {"partition_date": DAY1, "platform": "bluesky"}) == 3
        )
        assert_frame_equal(partition(warehouse, "keywords", DAY1, "bluesky"), sorted_by_key(a, "keywords"))
    assert warehouse.read("SELECT count(*) AS n FROM keywords")["n"][0] == 6

    # A smaller re-run drops the rows the partition no longer has, and only those.
    smaller = keyword_rows(DAY1, "bluesky", ["ml"], state_reason="rerun")
    assert (
        warehouse.replace_partition("keywords", smaller, {"partition_date": DAY1, "platform": "bluesky"}) == 1
    )
    assert_frame_equal(partition(warehouse, "keywords", DAY1, "bluesky"), smaller)
    assert_frame_equal(
        partition(warehouse, "keywords", DAY1, "twitter"), sorted_by_key(other_platform, "keywords")
    )
    assert_frame_equal(partition(warehouse, "keywords", DAY2, "bluesky"), other_day)


def test_a_partition_replaced_chunk_by_chunk_holds_every_chunk_and_a_bad_chunk_rolls_back(
    warehouse: Warehouse,
) -> None:
    """Chunks (a partition too large to hold at once) replace the partition like one frame; a
    chunk that fails its checks after the partition was emptied leaves the previous rows."""
    where = {"partition_date": DAY1, "platform": "bluesky"}
    before = keyword_rows(DAY1, "bluesky", ["old"])
    warehouse.replace_partition("keywords", before, where)
    chunks = [keyword_rows(DAY1, "bluesky", [f"k{n}-{i}" for i in range(3)]) for n in range(4)]
    assert warehouse.replace_partition("keywords", iter(chunks), where) == 12
    assert_frame_equal(
        partition(warehouse, "keywords", DAY1, "bluesky"), sorted_by_key(pl.concat(chunks), "keywords")
    )

    with pytest.raises(ValueError, match="chunks that share a key"):  # the second chunk repeats "k0-1"
        warehouse.replace_partition("keywords", [chunks[0], keyword_rows(DAY1, "bluesky", ["k0-1"])], where)
    stray = keyword_rows(DAY2, "bluesky", ["elsewhere"])  # not of this partition
    with pytest.raises(ValueError, match="partition"):
        warehouse.replace_partition("keywords", [before, stray], where)
    assert_frame_equal(
        partition(warehouse, "keywords", DAY1, "bluesky"), sorted_by_key(pl.concat(chunks), "keywords")
    )
    assert warehouse.replace_partition("keywords", [], where) == 0  # no chunk: an empty partition
    assert partition(warehouse, "keywords", DAY1, "bluesky").height == 0


def test_read_batches_streams_the_whole_result_in_bounded_frames(warehouse: Warehouse) -> None:
    ids = [f"call-{i:05d}" for i in range(2_500)]
    warehouse.append("api_calls", call_rows(ids))
    query = "select call_id from api_calls where platform = $1 order by call_id"
    with warehouse.transaction() as tx:
        frames = list(tx.read_batches(query, ["bluesky"], rows=1_000))
        assert tx.read("select count(*) as n from api_calls")["n"][0] == 2_500  # usable afterwards
    assert pl.concat(frames)["call_id"].to_list() == ids
    if warehouse.kind == "duckdb":  # PostgreSQL's driver sizes its batches by bytes, then gathered
        assert [frame.height for frame in frames] == [1_000, 1_000, 500]
    with warehouse.transaction() as tx:
        assert sum(frame.height for frame in tx.read_batches(query, ["nowhere"], rows=10)) == 0
        with pytest.raises(WarehouseError, match="no_such_table"):
            list(tx.read_batches("select * from no_such_table", rows=10))


def test_replace_partition_with_an_empty_frame_empties_the_partition(warehouse: Warehouse) -> None:
    where = {"partition_date": DAY1, "platform": "bluesky"}
    warehouse.replace_partition("keywords", keyword_rows(DAY1, "bluesky", ["ai"]), where)
    warehouse.replace_partition(
        "keywords", keyword_rows(DAY1, "twitter", ["ai"]), {**where, "platform": "twitter"}
    )
    assert warehouse.replace_partition("keywords", frame_of("keywords", []), where) == 0
    assert partition(warehouse, "keywords", DAY1, "bluesky").height == 0
    assert partition(warehouse, "keywords", DAY1, "twitter").height == 1


def test_partition_keys_may_be_given_as_dagster_strings(warehouse: Warehouse) -> None:
    frame = keyword_rows(DAY1, "bluesky", ["ai"])
    warehouse.replace_partition("keywords", frame, {"partition_date": "2026-03-01", "platform": "bluesky"})
    assert_frame_equal(warehouse.read_table("keywords", {"partition_date": "2026-03-01"}), frame)


def _create_keywords_with_check(warehouse: Warehouse) -> None:
    """``keywords`` with an extra CHECK the frame validation knows nothing about.

    Real constraint, real engine: it lets the insert fail *after* the delete ran.
    """
    create = sql.create_table(_dialect(warehouse), table("keywords"))
    warehouse.execute(create[:-1] + ", CHECK (source_line >= 0))")
    warehouse.ensure_schema()


def test_a_write_that_fails_after_the_delete_leaves_the_previous_rows(bare_warehouse: Warehouse) -> None:
    _create_keywords_with_check(bare_warehouse)
    where = {"partition_date": DAY1, "platform": "bluesky"}
    before = keyword_rows(DAY1, "bluesky", ["ai", "ml"])
    bare_warehouse.replace_partition("keywords", before, where)

    # Valid rows first, the violating one last: the delete and part of the insert happen first.
    bad = keyword_rows(DAY1, "bluesky", ["a", "b", "c", "d"]).with_columns(
        pl.when(pl.col("keyword") == "d").then(-1).otherwise(pl.col("source_line")).alias("source_line")
    )
    with pytest.raises(WarehouseError, match="replace_partition keywords"):
        bare_warehouse.replace_partition("keywords", bad, where)

    assert_frame_equal(partition(bare_warehouse, "keywords", DAY1, "bluesky"), before)


def _sample_value(logical: str, i: int) -> Any:
    return {
        "text": f"v{i}",
        "int": i,
        "float": i / 2,
        "bool": i % 2 == 0,
        "date": DAY1 + dt.timedelta(days=i),
        "timestamp": dt.datetime(2026, 3, 1) + dt.timedelta(hours=i),
    }[logical]


def test_a_key_clash_with_another_partition_rolls_back_the_delete(warehouse: Warehouse) -> None:
    """On a table whose key omits a partition column, a row can clash with another partition.

    The database finds that only during the insert, after the partition's delete ran.
    """
    spec = next((t for t in TABLES.values() if set(t.partition_columns) - set(t.key)), None)
    if spec is None:
        pytest.skip("no table in schema.py has a partition column outside its key")
    logical = dict(spec.columns)
    shared = {c: _sample_value(logical[c], 0) for c in spec.partition_columns}
    outside = sorted(set(spec.partition_columns) - set(spec.key))[0]

    def rows(part_value: Any, ids: list[int]) -> pl.DataFrame:
        return frame_of(
            spec.name,
            [
                {**{c: _sample_value(logical[c], i) for c in spec.key}, **shared, outside: part_value}
                for i in ids
            ],
        )

    first_value, second_value = _sample_value(logical[outside], 1), _sample_value(logical[outside], 2)
    warehouse.replace_partition(spec.name, rows(first_value, [1]), {**shared, outside: first_value})
    before = rows(second_value, [2, 3])
    warehouse.replace_partition(spec.name, before, {**shared, outside: second_value})

    with pytest.raises(WarehouseError, match=f"replace_partition {spec.name}"):
        warehouse.replace_partition(spec.name, rows(second_value, [4, 1]), {**shared, outside: second_value})

    assert_frame_equal(
        warehouse.read_table(spec.name, {outside: second_value}), sorted_by_key(before, spec.name)
    )
    assert warehouse.read_table(spec.name).height == 3


def test_a_failed_validation_changes_nothing(warehouse: Warehouse) -> None:
    where = {"partition_date": DAY1, "platform": "bluesky"}
    before = keyword_rows(DAY1, "bluesky", ["ai"])
    warehouse.replace_partition("keywords", before, where)
    with pytest.raises(ValueError, match="outside the partition"):
        warehouse.replace_partition("keywords", keyword_rows(DAY2, "bluesky", ["ml"]), where)
    assert_frame_equal(warehouse.read_table("keywords"), before)


# --- append / upsert / delete ---------------------------------------------------------------


def test_append_adds_only_new_keys_and_never_rewrites(warehouse: Warehouse) -> None:
    first = call_rows(["c1", "c2"])
    assert warehouse.append("api_calls", first) == 2
    assert warehouse.append("api_calls", first) == 0

    overlapping = pl.concat([call_rows(["c2"], status=500), call_rows(["c3"])])
    assert warehouse.append("api_calls", overlapping) == 1

    stored = warehouse.read_table("api_calls")
    assert stored["call_id"].to_list() == ["c1", "c2", "c3"]
    assert stored.filter(pl.col("call_id") == "c2")["status"].to_list() == [200]
    assert warehouse.append("api_calls", frame_of("api_calls", [])) == 0


def test_upsert_inserts_new_keys_and_replaces_existing_rows(warehouse: Warehouse) -> None:
    assert warehouse.upsert("api_calls", call_rows(["c1", "c2"])) == 2
    changed = pl.concat([call_rows(["c2"], status=503, error='upstream, "busy"'), call_rows(["c3"])])
    assert warehouse.upsert("api_calls", changed) == 2

    stored = warehouse.read_table("api_calls")
    assert stored["call_id"].to_list() == ["c1", "c2", "c3"]
    c2 = stored.filter(pl.col("call_id") == "c2").row(0, named=True)
    assert (c2["status"], c2["error"]) == (503, 'upstream, "busy"')
    assert stored.filter(pl.col("call_id") == "c1")["status"].to_list() == [200]


def test_upsert_replaces_the_whole_row_nulls_included(warehouse: Warehouse) -> None:
    warehouse.upsert("api_calls", call_rows(["c1"], error="timeout"))
    assert warehouse.upsert("api_calls", frame_of("api_calls", [{"call_id": "c1", "status": 204}])) == 1
    row = warehouse.read_table("api_calls").row(0, named=True)
    assert (row["status"], row["error"], row["platform"]) == (204, None, None)


def test_delete_removes_matching_rows_and_reports_how_many(warehouse: Warehouse) -> None:
    warehouse.append("api_calls", call_rows(["c1", "c2"]))
    warehouse.append("api_calls", call_rows(["c3"], platform="twitter", error=None))
    assert warehouse.delete("api_calls", {"platform": "bluesky", "partition_date": "2026-03-01"}) == 2
    assert warehouse.delete("api_calls", {"platform": "bluesky"}) == 0
    assert warehouse.delete("api_calls", {"error": None, "cursor": None}) == 1
    assert warehouse.read_table("api_calls").height == 0
    with pytest.raises(ValueError, match="at least one column"):
        warehouse.delete("api_calls", {})


# --- types and text -------------------------------------------------------------------------


def _profile_snapshot_rows() -> pl.DataFrame:
    rows = []
    for i, text in enumerate(HOSTILE_TEXT):
        rows.append(
            {
                "platform": "twitter",
                "platform_id": f"id-{i}",
                "partition_date": DAY1,
                "handle": text,
                "name": text,
                "bio": text[::-1],
                "location": None if i % 2 else text,
                "created_at": dt.datetime(2006, 3, 21, 20, 50, 14, i),
                "followers": [0, -1, 2**63 - 1, -(2**63), None][i % 5],
                "following": None,
                "verified": [True, False, None][i % 3],
                "first_seen_at": dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=i),
                "last_seen_at": [
                    dt.datetime(1900, 1, 1),
                    dt.datetime(2199, 12, 31, 23, 59, 59, 999999),
                    None,
                ][i % 3],
            }
        )
    # One row whose every non-key column is null.
    rows.append({"platform": "twitter", "platform_id": "all-null", "partition_date": DAY1})
    return frame_of("profile_snapshots", rows)


def test_frames_round_trip_types_nulls_and_hostile_text(warehouse: Warehouse) -> None:
    frame = _profile_snapshot_rows()
    where = {"partition_date": DAY1, "platform": "twitter"}
    assert warehouse.replace_partition("profile_snapshots", frame, where) == frame.height

    stored = warehouse.read_table("profile_snapshots", where)
    assert_frame_equal(stored, sorted_by_key(frame, "profile_snapshots"))
    # Empty string and NULL stay different things.
    by_id = {r["platform_id"]: r for r in stored.iter_rows(named=True)}
    assert by_id["id-0"]["handle"] == "" and by_id["all-null"]["handle"] is None
    # Hostile text is data, also as a bound parameter.
    for text in ("comma, separated", "line\nbreak", "back\\slash and \\N and \\.", "$1 $2 ? %s :name"):
        found = warehouse.read("SELECT platform_id FROM profile_snapshots WHERE handle = $1", [text])
        assert found["platform_id"].to_list() == [f"id-{HOSTILE_TEXT.index(text)}"]


def test_floats_round_trip_including_nan_and_infinities(warehouse: Warehouse) -> None:
    values = [0.0, -0.0, 1e-300, 1e300, math.inf, -math.inf, math.nan, None, 0.1 + 0.2]
    frame = frame_of(
        "has_scores",
        [
            {"platform": "bluesky", "platform_id": f"p{i}", "partition_date": DAY1, "has": v, "p_custom": v}
            for i, v in enumerate(values)
        ],
    )
    warehouse.replace_partition("has_scores", frame, {"partition_date": DAY1, "platform": "bluesky"})
    stored = warehouse.read_table("has_scores")
    assert_frame_equal(stored, sorted_by_key(frame, "has_scores"))
    assert math.copysign(1, stored.filter(pl.col("platform_id") == "p1")["has"][0]) == -1


def test_frames_are_conformed_to_the_declared_types(warehouse: Warehouse) -> None:
    """Narrow ints, all-null columns and tz-aware timestamps are accepted; stored as naive UTC."""
    frame = call_rows(["c1"]).with_columns(
        pl.col("attempt").cast(pl.Int8),
        pl.lit(None).alias("error"),
        pl.col("latency_ms").cast(pl.Float32),
        pl.lit(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))))
        .dt.cast_time_unit("ms")
        .alias("called_at"),
    )
    warehouse.append("api_calls", frame)
    stored = warehouse.read_table("api_calls")
    assert stored.schema == polars_schema(table("api_calls").columns)
    assert stored.row(0, named=True)["called_at"] == dt.datetime(2026, 3, 1, 8, 0)
    assert stored.row(0, named=True)["attempt"] == 1


def test_read_uses_dollar_parameters_on_both_backends(warehouse: Warehouse) -> None:
    warehouse.append("api_calls", call_rows(["c1", "c2"], keyword="rust"))
    result = warehouse.read(
        "SELECT call_id, status FROM api_calls WHERE keyword = $1 AND partition_date = $2 AND status = $3 "
        "ORDER BY call_id",
        ["rust", DAY1, 200],
    )
    assert result.rows() == [("c1", 200), ("c2", 200)]
    assert warehouse.read("SELECT call_id FROM api_calls WHERE keyword = $1", ["none"]).height == 0


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop("tags"), r"'keywords'.*missing column.*'tags'"),
        (lambda f: f.with_columns(pl.lit(1).alias("bogus")), r"'keywords'.*'bogus'.*does not declare"),
        (
            lambda f: f.with_columns(pl.col("source_line").cast(pl.String)),
            r"'keywords' column 'source_line'.*int",
        ),
        (lambda f: f.with_columns(pl.col("enabled").cast(pl.Int64)), r"'keywords' column 'enabled'.*bool"),
        (
            lambda f: pl.concat([f, f.head(1)]),
            r"'keywords'.*key \{'platform': 'bluesky', 'keyword': 'ai'.*2 times",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.col("keyword") == "ml").then(None).otherwise("keyword").alias("keyword")
            ),
            r"'keywords'.*key column 'keyword' is null",
        ),
        (
            lambda f: f.with_columns(pl.lit("twitter").alias("platform")),
            r"'keywords'.*platform='twitter' outside",
        ),
    ],
    ids=[
        "missing-column",
        "extra-column",
        "wrong-type",
        "wrong-bool",
        "duplicate-key",
        "null-key",
        "other-partition",
    ],
)
def test_bad_frames_are_rejected_with_table_and_column(warehouse: Warehouse, mutate, message: str) -> None:
    frame = mutate(keyword_rows(DAY1, "bluesky", ["ai", "ml"]))
    with pytest.raises(ValueError, match=message):
        warehouse.replace_partition("keywords", frame, {"partition_date": DAY1, "platform": "bluesky"})
    assert warehouse.read_table("keywords").height == 0


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"partition_date": DAY1}, r"exactly \['partition_date', 'platform'\].*missing \['platform'\]"),
        ({"partition_date": DAY1, "platform": "bluesky", "keyword": "ai"}, r"unexpected \['keyword'\]"),
        ({"partition_date": "03/01/2026", "platform": "bluesky"}, r"'partition_date'.*ISO date"),
        ({"partition_date": DAY1, "platform": None}, r"'platform' cannot be None"),
    ],
)
def test_bad_partition_addresses_are_rejected(warehouse: Warehouse, where, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        warehouse.replace_partition("keywords", keyword_rows(DAY1, "bluesky", ["ai"]), where)


def test_unknown_tables_columns_and_ledger_partitions_are_rejected(warehouse: Warehouse) -> None:
    with pytest.raises(KeyError, match="unknown warehouse table 'nope'"):
        warehouse.append("nope", call_rows(["c1"]))
    with pytest.raises(ValueError, match=r"'api_calls' has no column\(s\) \['nope'\]"):
        warehouse.read_table("api_calls", {"nope": 1})
    with pytest.raises(ValueError, match="append-only ledger"):
        warehouse.replace_partition("api_calls", call_rows(["c1"]), {"partition_date": DAY1})
    with pytest.raises(ValueError, match=r"'api_calls'.*key \{'call_id': 'c1'\} occurs 2 times"):
        warehouse.append("api_calls", call_rows(["c1", "c1"]))


# --- transactions ---------------------------------------------------------------------------


def test_transaction_commits_several_tables_together(warehouse: Warehouse) -> None:
    with warehouse.transaction() as tx:
        tx.replace_partition(
            "keywords", keyword_rows(DAY1, "bluesky", ["ai"]), {"partition_date": DAY1, "platform": "bluesky"}
        )
        tx.append("api_calls", call_rows(["c1"]))
        # Reads inside the transaction see its own writes.
        assert tx.read("SELECT count(*) AS n FROM api_calls")["n"][0] == 1
    assert warehouse.read_table("keywords").height == 1
    assert warehouse.read_table("api_calls").height == 1


def test_transaction_rolls_back_every_table_on_error(warehouse: Warehouse) -> None:
    where = {"partition_date": DAY1, "platform": "bluesky"}
    keywords_before = keyword_rows(DAY1, "bluesky", ["ai", "ml"])
    warehouse.replace_partition("keywords", keywords_before, where)
    warehouse.append("api_calls", call_rows(["c0"]))

    with pytest.raises(RuntimeError, match="asset crashed"), warehouse.transaction() as tx:
        tx.replace_partition("keywords", keyword_rows(DAY1, "bluesky", ["other"]), where)
        tx.append("api_calls", call_rows(["c1", "c2"]))
        tx.delete("api_calls", {"call_id": "c0"})
        raise RuntimeError("asset crashed")

    assert_frame_equal(warehouse.read_table("keywords"), keywords_before)
    assert warehouse.read_table("api_calls")["call_id"].to_list() == ["c0"]

    with pytest.raises(ValueError, match="missing column"), warehouse.transaction() as tx:
        tx.append("api_calls", call_rows(["c9"]))
        tx.replace_partition("keywords", keyword_rows(DAY1, "bluesky", ["x"]).drop("tags"), where)
    assert warehouse.read_table("api_calls")["call_id"].to_list() == ["c0"]


# --- volume ---------------------------------------------------------------------------------


def test_bulk_load_of_fifty_thousand_rows(warehouse: Warehouse) -> None:
    n = 50_000
    frame = pl.DataFrame(
        {
            "platform": ["bluesky"] * n,
            "platform_id": [f"did:plc:{i:08d}" for i in range(n)],
            "partition_date": [DAY1] * n,
            "handle": [f"user{i}.bsky.social" for i in range(n)],
            "bio": [None if i % 7 == 0 else f'bio {i}, with "quotes"\nand lines' for i in range(n)],
            "followers": list(range(n)),
            "verified": [i % 2 == 0 for i in range(n)],
            "created_at": [dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i) for i in range(n)],
        }
    )
    frame = frame_of("profile_snapshots", []).vstack(
        frame.select(
            pl.col(c) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in polars_schema(table("profile_snapshots").columns).items()
        )
    )
    where = {"partition_date": DAY1, "platform": "bluesky"}
    assert warehouse.replace_partition("profile_snapshots", frame, where) == n
    assert warehouse.replace_partition("profile_snapshots", frame, where) == n
    stats = warehouse.read(
        "SELECT count(*) AS n, CAST(sum(followers) AS BIGINT) AS total, count(bio) AS bios FROM profile_snapshots"
    )
    assert stats.row(0) == (n, n * (n - 1) // 2, n - len(range(0, n, 7)))
    assert_frame_equal(warehouse.read_table("profile_snapshots", where), frame)


def test_in_list_placeholders_bind_values_never_format_them():
    from resources.warehouse.sql import placeholders

    assert placeholders(3, first=2) == "$2, $3, $4"
    assert placeholders(1) == "$1"
    with pytest.raises(ValueError, match="at least one value"):
        placeholders(0)
