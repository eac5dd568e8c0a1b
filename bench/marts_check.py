"""Check that the incremental marts hold exactly what a full rebuild would, row for row.

    .venv/bin/python bench/marts_check.py --warehouse URL [--schema analytics] [--window 2026-11-30]

Issue 13 asks that the marts stay incremental *and correct* on a million-profile day. An
incremental mart is correct when its rows are the rows a ``--full-refresh`` build computes from
the same tables; nothing else can tell, because a windowed run that misses a day or an account
still passes every dbt test. So this:

1. with ``--window DAY``, first rebuilds the incremental marts of that day in ``--schema`` the
   way Dagster's partitioned asset does (``dbt build --select config.materialized:incremental``
   with the day's ``min_date``/``max_date``). On a warehouse whose marts already exist this is
   the incremental path; without it, the marts are checked as they are;
2. builds the incremental models and everything upstream of them with ``--full-refresh`` into a
   scratch schema (``<schema>_full_check``) of the same warehouse, reading the same sources;
3. compares each incremental mart with its rebuild: row counts, and ``EXCEPT ALL`` both ways
   (duplicates count). Floating-point columns are compared rounded to 1e-9, because a sum or an
   average over many rows can end in other last bits when the engine adds in another order;
4. drops the scratch schema, prints one line per mart and exits 1 on any difference.

dbt runs through ``ScoutDbtCli.cli_against``, so profile, project and variables are the ones
Dagster uses. Works on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resources.warehouse import WarehouseClient
from resources.warehouse.location import WarehouseLocation, parse_warehouse_url
from scout_assets.assets.dbt import INCREMENTAL, DbtBuildConfig, build_args, window_vars
from scout_assets.dbt_project import DBT_PROJECT, build_dbt_resource

FLOATING_TYPES = {"double", "double precision", "real", "float", "float4", "float8"}
ROUNDING = "1e9"  # floating-point columns are compared as round(x * 1e9) / 1e9


@dataclass(frozen=True)
class MartComparison:
    """One incremental mart against its full rebuild."""

    model: str
    incremental_rows: int
    full_rows: int
    only_incremental: int  # rows (with multiplicity) the incremental mart has and the rebuild lacks
    only_full: int  # rows the rebuild has and the incremental mart lacks

    @property
    def equal(self) -> bool:
        return self.incremental_rows == self.full_rows and self.only_incremental == self.only_full == 0

    def line(self) -> str:
        verdict = "PASS" if self.equal else "FAIL"
        return (
            f"{verdict}  {self.model:<28} incremental {self.incremental_rows:>10,}  full {self.full_rows:>10,}"
            f"  only incremental {self.only_incremental:>8,}  only full {self.only_full:>8,}"
        )


def incremental_models(manifest_path: Path = DBT_PROJECT.manifest_path) -> list[str]:
    """The relation names of the project's incremental models, from the manifest Dagster reads."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        node.get("alias") or node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    )


def _columns(client: WarehouseClient, schema: str, table: str) -> list[tuple[str, str]]:
    frame = client.read(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = $1 and table_name = $2 order by ordinal_position",
        [schema, table],
    )
    return [(str(name), str(kind).lower()) for name, kind in frame.iter_rows()]


def _compared(columns: Sequence[tuple[str, str]]) -> str:
    """The select list both sides are compared on: every column, floating ones rounded."""
    spelled = []
    for name, kind in columns:
        quoted = '"' + name.replace('"', '""') + '"'
        spelled.append(f"round({quoted} * {ROUNDING}) / {ROUNDING}" if kind in FLOATING_TYPES else quoted)
    return ", ".join(spelled)


def compare_mart(client: WarehouseClient, model: str, schema: str, full_schema: str) -> MartComparison:
    """Counts and ``EXCEPT ALL`` both ways between ``schema.model`` and ``full_schema.model``.

    The two relations must have the same columns in the same order (one SQL built both); a
    difference in columns is raised, not compared.
    """
    columns = _columns(client, schema, model)
    rebuilt = _columns(client, full_schema, model)
    if not columns or columns != rebuilt:
        raise ValueError(
            f"{model}: columns differ or are missing: {schema} {columns} / {full_schema} {rebuilt}"
        )
    select = _compared(columns)
    incremental, full = f'"{schema}"."{model}"', f'"{full_schema}"."{model}"'
    counts = client.read(
        f"select (select count(*) from {incremental}) as incremental_rows,"
        f" (select count(*) from {full}) as full_rows,"
        f" (select count(*) from (select {select} from {incremental}"
        f" except all select {select} from {full}) as d) as only_incremental,"
        f" (select count(*) from (select {select} from {full}"
        f" except all select {select} from {incremental}) as d) as only_full"
    ).row(0, named=True)
    return MartComparison(model=model, **{key: int(value) for key, value in counts.items()})


def run_dbt(location: WarehouseLocation, schema: str, args: list[str], work_dir: Path) -> None:
    """``dbt <args>`` into ``schema`` through the resource Dagster uses; its log shown only on failure."""
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        invocation = build_dbt_resource(schema).cli_against(
            location, args, target_path=work_dir / "target", raise_on_error=False
        )
        invocation.wait()
    if not invocation.is_successful():
        print(log.getvalue(), file=sys.stderr)
        raise SystemExit(f"dbt {' '.join(args)} failed against {location.display} (schema {schema})")


def rebuild_window(location: WarehouseLocation, schema: str, day: date, work_dir: Path) -> None:
    """Rebuild the incremental marts of ``day`` in ``schema``: what the partitioned asset runs."""
    start = datetime.combine(day, time())
    window = window_vars(start, start + timedelta(days=1))
    run_dbt(location, schema, [*build_args(DbtBuildConfig(), window), "--select", INCREMENTAL], work_dir)


def full_refresh_into(location: WarehouseLocation, full_schema: str, work_dir: Path) -> None:
    """Build the incremental models and all their parents with ``--full-refresh`` into ``full_schema``."""
    run_dbt(location, full_schema, ["run", "--full-refresh", "--select", f"+{INCREMENTAL}"], work_dir)


def drop_schema(client: WarehouseClient, schema: str) -> None:
    client.execute(f'drop schema if exists "{schema}" cascade')


def check_marts(url: str, schema: str = "analytics", window: date | None = None) -> list[MartComparison]:
    """Steps 1-4 of the module docstring; the comparisons, one per incremental mart."""
    location = parse_warehouse_url(url)
    client = WarehouseClient(location=location)
    full_schema = f"{schema}_full_check"
    with tempfile.TemporaryDirectory(prefix="scout-marts-check-") as work:
        work_dir = Path(work)
        if window is not None:
            rebuild_window(location, schema, window, work_dir)
        drop_schema(client, full_schema)
        try:
            full_refresh_into(location, full_schema, work_dir)
            return [compare_mart(client, model, schema, full_schema) for model in incremental_models()]
        finally:
            drop_schema(client, full_schema)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True, help="duckdb:///abs/path.duckdb or postgresql://...")
    parser.add_argument("--schema", default="analytics", help="the schema the marts were built into")
    parser.add_argument(
        "--window",
        type=date.fromisoformat,
        help="first rebuild this day's incremental marts in --schema, as the partitioned asset does",
    )
    args = parser.parse_args(argv)
    comparisons = check_marts(args.warehouse, args.schema, args.window)
    for comparison in comparisons:
        print(comparison.line())
    failed = [c.model for c in comparisons if not c.equal]
    print(
        f"{'FAIL' if failed else 'PASS'}: {len(comparisons) - len(failed)} of {len(comparisons)} incremental marts equal their full rebuild"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
