"""``lead_exports``: the leads of one audience that no export has carried yet, as CSV, Parquet and JSON lines.

One partition per day and audience version. A lead is an account of ``mart_audience_leads`` whose
verdict is match (the reviewer's label when reviewed, else the models' consensus) and whose lead
state is not rejected; an excluded account (``excluded_accounts``, scout_contract/exclusions.py) is
never one, even when the mart was built before the exclusion.

**Never twice.** The ``lead_exports`` ledger records every exported lead with the day that first
exported it; a lead in the ledger for the audience is never exported by another day. The first
materialization of a day records the new leads in the same transaction that reads them;
materializing the same day again exports exactly the leads the ledger holds for that day (minus any
excluded since), so it rewrites the same files with the same rows and never duplicates one.

**Where.** With the local archive (embedded, tests) the files go to
``<SCOUT_DATA_DIR>/exports/<audience>/<day>/leads.{csv,parquet,jsonl}``, replaced whole on a
re-run. With the S3 archive (production) they are archived objects under
``exports/<audience>/<day>/``, write-once like every archived object: the name carries a digest of
the rows (``leads-<digest>.csv``), so the same rows again are a no-op and changed values (a state
set since) sit beside the first copy instead of failing. Columns: scout_contract/leads.py
``EXPORT_COLUMNS`` (docs/leads.md "Exports").
"""

import hashlib
import io
import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from resources.archive import RawArchive, S3Archive
from resources.warehouse import Warehouse
from scout_assets.assets.common import OWNERS
from scout_assets.lead_export_target import LeadExportTarget
from scout_assets.partitions import audience_partitions, daily_partitions
from scout_contract.exclusions import excluded_account_sql
from scout_contract.leads import EXPORT_COLUMNS, exported_lead_sql, profile_url, utc_now
from scout_contract.tables import LEAD_EXPORTS, polars_schema
from scout_leads.sql import check_schema

lead_export_partitions = dg.MultiPartitionsDefinition(
    {"date": daily_partitions, "audience": audience_partitions}
)

EXPORT_FORMATS = ("csv", "parquet", "jsonl")
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in EXPORT_COLUMNS)


def _lead_sql(schema: str, which: str) -> str:
    """The leads of $1 (audience): ``which`` = "new" (not in the ledger) or "day" (the ledger's $2 day)."""
    ledger = (
        f"not {exported_lead_sql('m')}"
        if which == "new"
        else exported_lead_sql("m", " and e.export_date = $2")
    )
    chosen = "m.verdict = 'match' and m.lead_state <> 'rejected' and " if which == "new" else ""
    return (
        "select m.platform, m.platform_id, m.handle, m.name, m.bio, m.followers, m.has, m.verdict, "
        "m.consensus_verdict as consensus, m.reviewed_label, m.reviewed_by, m.source_keywords as keywords, "
        "m.first_seen_at as first_seen, m.lead_state, m.audience "
        f"from {check_schema(schema)}.mart_audience_leads m "
        f"where m.audience = $1 and {chosen}{ledger} and not {excluded_account_sql('m')} "
        "order by m.platform, m.platform_id"
    )


def select_leads(warehouse: Warehouse, schema: str, audience: str, day: date) -> pl.DataFrame:
    """The day's leads: the ledger's for ``day`` if it has any, else the new ones, recorded now."""
    with warehouse.transaction() as tx:
        held = tx.read(_lead_sql(schema, "day"), [audience, day])
        if (
            held.height
            or tx.read(
                "select count(*) as n from lead_exports where audience = $1 and export_date = $2",
                [audience, day],
            )["n"][0]
        ):
            return held
        new = tx.read(_lead_sql(schema, "new"), [audience])
        if new.height:
            ledger = pl.DataFrame(
                [
                    {
                        "audience": audience,
                        "platform": row["platform"],
                        "platform_id": row["platform_id"],
                        "export_date": day,
                        "exported_at": utc_now(),
                    }
                    for row in new.iter_rows(named=True)
                ],
                schema=polars_schema(LEAD_EXPORTS.columns),
            )
            tx.append("lead_exports", ledger)
        return new


def _model_labels(warehouse: Warehouse, audience: str, leads: pl.DataFrame) -> dict[tuple[str, str], str]:
    """(platform, platform_id) -> JSON of every model's label and reason for ``audience``."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    ids = sorted({(p, i) for p, i in zip(leads["platform"], leads["platform_id"], strict=True)})
    for platform in sorted({p for p, _ in ids}):
        members = [i for p, i in ids if p == platform]
        for start in range(0, len(members), 500):
            chunk = members[start : start + 500]
            marks = ", ".join(f"${n}" for n in range(3, len(chunk) + 3))
            labels = warehouse.read(
                "select platform_id, model, label, reason from llm_labels "
                f"where audience = $1 and platform = $2 and platform_id in ({marks}) order by model",
                [audience, platform, *chunk],
            )
            for row in labels.iter_rows(named=True):
                found.setdefault((platform, row["platform_id"]), {})[row["model"]] = {
                    "label": row["label"],
                    "reason": row["reason"],
                }
    return {key: json.dumps(value, ensure_ascii=False, sort_keys=True) for key, value in found.items()}


def export_frame(warehouse: Warehouse, audience: str, day: date, leads: pl.DataFrame) -> pl.DataFrame:
    """``leads`` with the documented columns (``EXPORT_COLUMNS``), in their order, sorted by account."""
    labels = _model_labels(warehouse, audience, leads) if leads.height else {}
    records = [
        {
            "profile_url": profile_url(row["platform"], row["handle"]),
            **{name: row[name] for name in ("platform", "platform_id", "handle", "name", "bio", "followers")},
            "has": row["has"],
            "verdict": row["verdict"],
            "consensus": row["consensus"],
            "model_labels": labels.get((row["platform"], row["platform_id"]), "{}"),
            "reviewed_label": row["reviewed_label"],
            "reviewed_by": row["reviewed_by"],
            "keywords": row["keywords"],
            "first_seen": row["first_seen"],
            "lead_state": row["lead_state"],
            "audience": audience,
            "export_date": day,
        }
        for row in leads.iter_rows(named=True)
    ]
    schema = {
        **dict.fromkeys(COLUMN_NAMES, pl.String),
        "followers": pl.Int64,
        "has": pl.Float64,
        "reviewed_label": pl.Boolean,
        "first_seen": pl.Datetime("us"),
        "export_date": pl.Date,
    }
    return pl.DataFrame(records, schema=schema, orient="row").select(COLUMN_NAMES)


def encode(frame: pl.DataFrame) -> dict[str, bytes]:
    """The three files' bytes; the same rows give the same bytes."""
    csv = frame.write_csv().encode("utf-8")
    parquet = io.BytesIO()
    frame.write_parquet(parquet, statistics=False)
    jsonl = "".join(
        json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in frame.iter_rows(named=True)
    ).encode("utf-8")
    return {"csv": csv, "parquet": parquet.getvalue(), "jsonl": jsonl}


def _write_folder(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Replace ``leads.<fmt>`` in ``folder`` atomically (a reader never sees half a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, data in files.items():
        target = folder / f"leads.{fmt}"
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".leads.{fmt}.", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
        written.append(str(target))
    return written


@dg.asset(
    partitions_def=lead_export_partitions,
    deps=[dg.AssetKey("mart_audience_leads")],
    group_name="leads",
    owners=OWNERS,
    kinds={"python", "csv", "parquet"},
    description=__doc__,
)
def lead_exports(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    archive: RawArchive,
    lead_export_target: LeadExportTarget,
) -> dg.MaterializeResult:
    keys = context.partition_key.keys_by_dimension  # type: ignore[attr-defined]
    day, audience = date.fromisoformat(keys["date"]), keys["audience"]
    warehouse.ensure_schema()
    leads = select_leads(warehouse, lead_export_target.marts_schema, audience, day)
    frame = export_frame(warehouse, audience, day, leads)
    files = encode(frame)
    if isinstance(archive, S3Archive):
        digest = hashlib.sha256(files["csv"]).hexdigest()[:12]
        written = [
            archive.put_object(f"exports/{audience}/{day.isoformat()}/leads-{digest}.{fmt}", data)
            for fmt, data in files.items()
        ]
    else:
        written = _write_folder(lead_export_target.folder_path / audience / day.isoformat(), files)
    context.log.info(f"{frame.height} lead(s) of {audience} exported for {day}")
    return dg.MaterializeResult(
        metadata={
            "leads": frame.height,
            "files": dg.MetadataValue.json(written),
            "columns": dg.MetadataValue.json(list(COLUMN_NAMES)),
        }
    )
