"""The partition-replacing write on PostgreSQL: COPY straight into the table against the staged path.

    python bench/bench_pg_write.py [--rows 1000000] [--runs 3] [--url postgresql://postgres@127.0.0.1:5432/postgres]

Both paths do the same work in one transaction: empty the ``has_scores`` partition of one day and
platform, then write ``--rows`` rows into it. The baseline is what every replace did before, on
the plain table it had then: DELETE, binary COPY into a temporary staging table, ``INSERT ...
SELECT``. The new path is ``Warehouse.replace_partition`` on today's table (partitioned by day and
platform): TRUNCATE the leaf, binary COPY into it. Each is timed writing into an empty partition
and replacing a full one, ``--runs`` times in alternation; medians and the ratio are printed. The
benchmark makes its own two databases and drops them afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as pg
import polars as pl

from resources.warehouse import Warehouse
from resources.warehouse.sql import POSTGRES, create_table, delete_where, insert_from
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
    """The former path on the former plain table: delete, stage in a temporary table, INSERT ... SELECT."""
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

    names = [f"scout_bench_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        _admin(args.url, f'CREATE DATABASE "{name}"')
    try:
        before, after = (Warehouse(url=urlunsplit(urlsplit(args.url)._replace(path=f"/{n}"))) for n in names)
        plain = dataclasses.replace(declared_table("has_scores"), stored_by_day=False)
        before.execute(create_table(POSTGRES, plain))  # the table as Scout created it before
        for warehouse in (before, after):
            warehouse.ensure_schema()
        frame = _frame(args.rows)
        paths = {"staged (before)": (before, _staged_replace), "COPY into target": (after, _copy_replace)}
        timings: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for label, (warehouse, path) in paths.items():
                warehouse.execute("delete from has_scores")
                for case in ("into an empty partition", "replacing a full partition"):
                    timings.setdefault((label, case), []).append(
                        _timed(lambda w=warehouse, p=path: p(w, frame))
                    )
        print(f"has_scores partition of {args.rows:,} rows, median of {args.runs} runs (seconds)")
        for case in ("into an empty partition", "replacing a full partition"):
            old = statistics.median(timings[("staged (before)", case)])
            new = statistics.median(timings[("COPY into target", case)])
            print(f"  {case:28s} before {old:6.2f}   now {new:6.2f}   now/before {new / old:.2f}")
    finally:
        for name in names:
            _admin(args.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
