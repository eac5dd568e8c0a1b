"""The ``lead_exports`` asset and the outreach funnel, on real dbt builds and real materializations.

The demo warehouse of tests/dbt_fixtures.py (phase one, then phase two) on DuckDB and PostgreSQL,
dbt run for real, then ``lead_exports`` materialized through Dagster into a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import dagster as dg
import polars as pl

from resources.archive import LocalArchive, RawArchive, S3Archive
from resources.warehouse import Warehouse
from scout_assets.assets.lead_exports import COLUMN_NAMES, lead_exports
from scout_assets.lead_export_target import LeadExportTarget
from tests import infra_fixtures
from tests.dbt_fixtures import (
    D1,
    D2,
    D3,
    GEMINI,
    HAIKU,
    MINILM,
    UX,
    at,
    phase_one,
    phase_two,
    rows,
    run_dbt,
    write_demo,
)

LEADS_MODELS = ("--select", "+mart_audience_leads", "+mart_outreach_funnel")
EXCLUDED_B1 = {
    "platform": "bluesky",
    "platform_id": "b1",
    "exclusion_id": "x1",
    "reason": "asked not to be contacted",
    "matched_at": at(D3, 8),
}
moto_endpoint = infra_fixtures.moto_endpoint  # shared fixtures, re-exported for this module
aws_env = infra_fixtures.aws_env


def export(
    warehouse: Warehouse, tmp_path: Path, day, audience: str = UX, archive: RawArchive | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [lead_exports],
        partition_key=dg.MultiPartitionKey({"date": day.isoformat(), "audience": audience}),
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": warehouse,
            "archive": archive or LocalArchive(root=str(tmp_path / "archive")),
            "lead_export_target": LeadExportTarget(
                folder=str(tmp_path / "exports"), marts_schema="analytics"
            ),
        },
    )


def files_of(tmp_path: Path, day, audience: str = UX) -> dict[str, bytes]:
    folder = tmp_path / "exports" / audience / day.isoformat()
    return {fmt: (folder / f"leads.{fmt}").read_bytes() for fmt in ("csv", "parquet", "jsonl")}


def exported_ids(tmp_path: Path, day) -> list[str]:
    return pl.read_parquet(tmp_path / "exports" / UX / day.isoformat() / "leads.parquet")[
        "platform_id"
    ].to_list()


def test_exports_write_each_new_lead_once_and_never_an_excluded_one(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    url = warehouse.url
    assert url is not None
    write_demo(warehouse, phase_one())
    run_dbt(url, tmp_path / "dbt", "run", *LEADS_MODELS)

    # After phase one the UX leads are t1 (reviewed true, contacted) and t5 (two models say
    # match); b3 is reviewed true but rejected, t2 and b1 are uncertain.
    assert export(warehouse, tmp_path, D2).success
    first = files_of(tmp_path, D2)
    frame = pl.read_parquet(tmp_path / "exports" / UX / D2.isoformat() / "leads.parquet")
    assert tuple(frame.columns) == COLUMN_NAMES
    assert frame["platform_id"].to_list() == ["t1", "t5"]
    t1 = frame.row(0, named=True)
    assert t1["profile_url"] == f"https://x.com/{t1['handle']}"
    assert (t1["verdict"], t1["consensus"], t1["reviewed_label"], t1["reviewed_by"]) == (
        "match",
        "match",
        True,
        "ana",
    )
    assert (t1["lead_state"], t1["keywords"], t1["followers"], t1["export_date"]) == (
        "contacted",
        "ux research",
        1500,
        D2,
    )
    labels = json.loads(t1["model_labels"])
    assert set(labels) == {MINILM, HAIKU, GEMINI}
    assert labels[GEMINI] == {"label": False, "reason": "looks like a designer"}
    # The three formats carry the same rows.
    csv = pl.read_csv(first["csv"])
    jsonl = [json.loads(line) for line in first["jsonl"].decode().splitlines()]
    assert tuple(csv.columns) == COLUMN_NAMES and csv["platform_id"].to_list() == ["t1", "t5"]
    assert [line["platform_id"] for line in jsonl] == ["t1", "t5"] and list(jsonl[0]) == list(COLUMN_NAMES)

    # The same partition again: the same files, byte for byte; the ledger holds each lead once.
    assert export(warehouse, tmp_path, D2).success
    assert files_of(tmp_path, D2) == first
    ledger = warehouse.read("select platform_id, export_date from lead_exports order by platform_id")
    assert ledger.rows() == [("t1", D2), ("t5", D2)]
    # Another day finds nothing new: an exported lead is never exported again.
    assert export(warehouse, tmp_path, D3).success
    assert exported_ids(tmp_path, D3) == []

    # Phase two: t3 reviewed true, t6 labeled match; b1 excluded (do-not-contact). The incremental
    # run drops b1 from the leads it wrote before (the post-hook: delete+insert alone keeps it).
    # t6 is then excluded too, after the marts were built: the export still leaves it out.
    write_demo(warehouse, {**phase_two(), "excluded_accounts": rows("excluded_accounts", EXCLUDED_B1)})
    held = "select platform_id from analytics.mart_audience_leads where audience = $1 order by platform_id"
    assert "b1" in warehouse.read(held, [UX])["platform_id"].to_list()
    run_dbt(url, tmp_path / "dbt", "run", *LEADS_MODELS)
    assert warehouse.read(held, [UX])["platform_id"].to_list() == ["b3", "t1", "t2", "t3", "t5", "t6"]
    warehouse.append(
        "excluded_accounts",
        rows(
            "excluded_accounts",
            {
                "platform": "twitter",
                "platform_id": "t6",
                "exclusion_id": "x2",
                "reason": "no",
                "matched_at": at(D3),
            },
        ),
    )
    # D3 was exported (empty) before: a new day carries the new leads.
    day4 = D3.replace(day=4)
    assert export(warehouse, tmp_path, day4).success
    assert exported_ids(tmp_path, day4) == ["t3"]
    assert export(warehouse, tmp_path, D2).success
    assert exported_ids(tmp_path, D2) == ["t1", "t5"]  # t5 is now reviewed false, but was exported on D2
    assert warehouse.read("select count(*) as n from lead_exports")["n"][0] == 3

    # The funnel counts b1 (excluded in phase two) as excluded, not as a lead; t6 too, now.
    run_dbt(url, tmp_path / "dbt", "run", "--select", "mart_outreach_funnel")
    funnel = {
        (row["day"]): row
        for row in warehouse.read(
            "select * from analytics.mart_outreach_funnel where audience = $1", [UX]
        ).iter_rows(named=True)
    }
    assert (funnel[D1]["leads"], funnel[D1]["excluded"], funnel[D1]["replied"]) == (3, 1, 1)
    assert (funnel[D3]["leads"], funnel[D3]["excluded"]) == (0, 1)


def test_with_the_s3_archive_the_files_are_write_once_objects(
    duckdb_warehouse: Warehouse, tmp_path: Path, moto_endpoint: str, aws_env: None
) -> None:
    """Production writes to the archive bucket: the same rows again add no object."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="scout-lead-exports")
    archive = S3Archive(bucket="scout-lead-exports", endpoint_url=moto_endpoint)
    url = duckdb_warehouse.url
    assert url is not None
    write_demo(duckdb_warehouse, phase_one())
    run_dbt(url, tmp_path / "dbt", "run", *LEADS_MODELS)

    def keys() -> list[str]:
        listed = s3.list_objects_v2(Bucket="scout-lead-exports").get("Contents", [])
        return sorted(
            item["Key"] for item in listed if f"exports/{UX}/{D2.isoformat()}/leads-" in item["Key"]
        )

    assert export(duckdb_warehouse, tmp_path, D2, archive=archive).success
    first = keys()
    assert sorted(key.rsplit(".", 1)[1] for key in first) == ["csv", "jsonl", "parquet"]
    assert export(duckdb_warehouse, tmp_path, D2, archive=archive).success
    assert keys() == first
    parquet = next(key for key in first if key.endswith(".parquet"))
    body = archive.get_object(parquet[parquet.index("exports/") :])
    assert pl.read_parquet(body)["platform_id"].to_list() == ["t1", "t5"]
    assert not (tmp_path / "exports").exists()  # nothing written locally
