"""The partition-replacing write on PostgreSQL: COPY straight into the table against the staged path.

    python bench/bench_pg_write.py [--rows 1000000] [--runs 3] [--url postgresql://postgres@127.0.0.1:5432/postgres]

Both paths do the same work in one transaction: delete the ``has_scores`` partition, then write
``--rows`` rows into it. The baseline is the path every replace took before: binary COPY into a
temporary staging table, then ``INSERT ... SELECT`` into the target. The new path is
``Warehouse.replace_partition`` (binary COPY into the target). Each is timed writing into an empty
partition and replacing a full one, ``--runs`` times in alternation; medians and the ratio are
printed. The benchmark makes its own database and drops it afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as pg
import polars as pl

from resources.warehouse import Warehouse
from resources.warehouse.sql import delete_where, insert_from
from scout_contract.tables import polars_schema
from scout_contract.tables import table as declared_table

PARTITION = {"partition_date": date(2026, 3, 1), "platform": "twitter"}


def _frame(rows: int) -> pl.DataFrame:
    spec = declared_table("has_scores")
    return (
        pl.DataFrame(schema=polars_schema(spec.columns))
        .clear(rows)
        .with_columns(
            platform=pl.lit("twitter"),
            partition_date=pl.lit(PARTITION["partition_date"]),
            platform_id=pl.int_range(0, rows).cast(pl.Utf8).str.zfill(9),
            handle=pl.lit("someone"),
            has=(pl.int_range(0, rows) % 1000) / 1000,
            likely_is=pl.lit("person"),
            has_version=pl.lit("v3"),
            is_queued=pl.lit(False),
        )
    )


def _staged_replace(warehouse: Warehouse, frame: pl.DataFrame) -> None:
    """The former path: delete, stage the frame in a temporary table, INSERT ... SELECT."""
    spec = declared_table("has_scores")
    with warehouse.transaction() as tx:
        session = tx._session  # the benchmark reaches under the transaction to time the old path
        statement, params = delete_where(session.dialect, spec, PARTITION)
        session.execute(statement, params)
        stage = session.stage(spec, frame)
        session.execute(insert_from(spec, stage, "fail"))
        session.unstage(stage)


def _copy_replace(warehouse: Warehouse, frame: pl.DataFrame) -> None:
    warehouse.replace_partition("has_scores", frame, PARTITION)


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _admin(url: str, statement: str) -> None:
    with pg.connect(url, autocommit=True) as con, con.cursor() as cur:
        cur.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin URL")
    args = parser.parse_args()

    name = f"scout_bench_{secrets.token_hex(4)}"
    _admin(args.url, f'CREATE DATABASE "{name}"')
    try:
        warehouse = Warehouse(url=urlunsplit(urlsplit(args.url)._replace(path=f"/{name}")))
        warehouse.ensure_schema()
        frame = _frame(args.rows)
        paths = {"staged (before)": _staged_replace, "COPY into target": _copy_replace}
        timings: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for label, path in paths.items():
                warehouse.execute("delete from has_scores")
                timings.setdefault((label, "into an empty partition"), []).append(
                    _timed(lambda path=path: path(warehouse, frame))
                )
                timings.setdefault((label, "replacing a full partition"), []).append(
                    _timed(lambda path=path: path(warehouse, frame))
                )
        print(f"has_scores partition of {args.rows:,} rows, median of {args.runs} runs (seconds)")
        for case in ("into an empty partition", "replacing a full partition"):
            before = statistics.median(timings[("staged (before)", case)])
            after = statistics.median(timings[("COPY into target", case)])
            print(f"  {case:28s} staged {before:6.2f}   COPY {after:6.2f}   ratio {after / before:.2f}")
    finally:
        _admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
