"""Erase one person from Scout on request (``scout forget``), and keep them out afterwards.

In one pass, for one account (every id and handle it was ever seen with):

1. a ``suppressions`` row (the keyed hash only, scout_contract/suppression.py), first, so a search
   running meanwhile already drops them at ingest (``raw_searches``);
2. every archived raw page that holds them is rewritten without them (resources/platforms/scrub.py);
3. past exports, in the export folder and in the archive's ``exports/`` objects, lose their rows;
4. in the warehouse, one transaction: every row keyed by the account (any table with platform and
   platform_id, or a handle) is deleted; stored payloads of ``raw_searches`` are rewritten; rows of
   ``quarantined_rows`` and ``exclusion_events`` that spell them are deleted; any other text cell
   that still mentions an id or handle is cleared (ledgers keep their counts, without the person);
   then every dbt relation (marts, staging and intermediate tables, any schema) loses the rows
   with their platform_id or handle;
5. an ``erasure_log`` row: when, which hash, the counts, what was not done. No personal data.

Steps 2 and 3 run before the warehouse is touched, because the warehouse is how the person is
found: when one of them fails, the warehouse keeps the rows, the report names what was not done,
and running ``scout forget`` again completes it. Forgetting someone twice is harmless.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from resources.platforms.scrub import ScrubError, scrub_page
from resources.platforms.search_page import ids_hash
from scout_contract.platforms import PLATFORMS
from scout_contract.suppression import account_hash
from scout_contract.tables import ERASURE_LOG, SUPPRESSIONS, TABLES, Table, polars_schema
from scout_leads.erasure_files import (
    ErasableArchive,
    mention_pattern,
    scrub_archive_pages,
    scrub_export_folder,
    scrub_export_objects,
)
from scout_leads.state import LeadInputError, find_account

if TYPE_CHECKING:
    from resources.warehouse.operations import WarehouseOperations
    from resources.warehouse.transaction import WarehouseTransaction

# Tables whose rows are the person's even without a platform_id column, handled by their own rule.
_OWN_RULES = ("raw_searches", "quarantined_rows", "exclusion_events", "suppressions", "erasure_log")
# Text columns never cleared: the payloads are rewritten instead; a keyword names the search, not
# the person (a mention there is reported, like one in a key column).
_REWRITTEN_COLUMNS = frozenset({"platform", "payload", "hydration_payload"})
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


@dataclass(frozen=True)
class Person:
    """One account to forget: its platform, every id and every (lower-cased) handle it had."""

    platform: str
    platform_ids: tuple[str, ...]
    handles: tuple[str, ...]

    def mentioned_in(self, text: str | None) -> bool:
        """True when free text names the account: an id as a whole token, ``@handle``, or the handle alone.

        A bare handle inside a sentence is not enough ("ana", "john" are words too), so other
        people's bios are never cleared for a common word.
        """
        if not text:
            return False
        if text.strip().lower().removeprefix("@") in self.handles:
            return True
        pattern = mention_pattern([*self.platform_ids, *(f"@{h}" for h in self.handles if len(h) >= 3)])
        return bool(pattern and pattern.search(text))


@dataclass
class ErasureReport:
    """What one ``forget`` did, counted, and what it could not do (the operator's copy has details)."""

    erasure_id: str
    platform: str
    account_hashes: list[str]
    table_rows: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    cells_cleared: int = 0
    payloads_rewritten: int = 0
    pages_rewritten: int = 0
    objects_rewritten: int = 0
    export_files_rewritten: int = 0
    not_done: list[str] = field(default_factory=list)  # step: what failed (may name files, never the person)
    residual: list[str] = field(default_factory=list)  # where a mention is left on purpose (a key column)

    @property
    def complete(self) -> bool:
        return not self.not_done


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --- who -----------------------------------------------------------------------------------------


def resolve_person(warehouse: WarehouseOperations, platform: str, handle_or_id: str, key: bytes) -> Person:
    """The account by handle or id, with every id and handle it was ever seen with.

    An account no longer in the warehouse is still found by its id when its hash is suppressed
    (a re-run after a partial or complete erasure); anything else is ``LeadInputError``.
    """
    if platform not in PLATFORMS:
        raise LeadInputError(f"platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    text = handle_or_id.strip().removeprefix("@")
    try:
        platform_id, handle = find_account(warehouse, platform, text)
        ids, handles = {platform_id}, {handle.lower()} if handle else set()
    except LeadInputError:
        ids, handles = set(), set()
    ids |= set(_column(warehouse, "profile_snapshots", "platform_id", platform, [], [text.lower()], text))
    for _ in range(2):  # ids seen with its handles, handles seen with its ids
        handles |= {h.lower() for h in _column(warehouse, "profile_snapshots", "handle", platform, ids, [])}
        handles |= {h.lower() for h in _column(warehouse, "reviews", "handle", platform, ids, [])}
        ids |= set(_column(warehouse, "profile_snapshots", "platform_id", platform, [], sorted(handles)))
    previous = _column(warehouse, "profiles", "previous_handles", platform, ids, [])
    handles |= {h.strip().lower() for text_ in previous for h in text_.split(",") if h.strip()}
    if not ids:
        suppressed = warehouse.read(
            "select count(*) as n from suppressions where platform = $1 and account_hash = $2",
            [platform, account_hash(key, platform, text)],
        )["n"][0]
        if not suppressed:
            raise LeadInputError(
                f"{platform} account {handle_or_id!r}: not found (no search found it) and not suppressed; "
                "to finish an earlier erasure, give the platform id it printed"
            )
        ids = {text}
    return Person(platform, tuple(sorted(ids)), tuple(sorted(handles)))


def _column(
    warehouse: WarehouseOperations,
    table: str,
    column: str,
    platform: str,
    ids: Any,
    handles: Sequence[str],
    platform_id: str | None = None,
) -> list[str]:
    """Distinct non-null ``column`` of ``table`` rows of the platform matching the ids or handles."""
    conditions, params = [], [platform]
    if ids or platform_id:
        wanted = sorted(set(ids) | ({platform_id} if platform_id else set()))
        conditions.append(f"platform_id in ({_marks(len(params) + 1, len(wanted))})")
        params += wanted
    if handles:
        conditions.append(f"lower(handle) in ({_marks(len(params) + 1, len(handles))})")
        params += list(handles)
    if not conditions:
        return []
    frame = warehouse.read(
        f"select distinct {column} as v from {table} where platform = $1 and ({' or '.join(conditions)})",
        params,
    )
    return [value for value in frame["v"].to_list() if value]


def _marks(start: int, count: int) -> str:
    return ", ".join(f"${n}" for n in range(start, start + count))


# --- the pass ------------------------------------------------------------------------------------


def forget(
    warehouse: WarehouseOperations,
    archive: ErasableArchive,
    person: Person,
    key: bytes,
    *,
    export_folder: Path | None,
) -> ErasureReport:
    """Erase ``person`` everywhere (module docstring), record it, and return what was done."""
    report = ErasureReport(
        erasure_id=uuid.uuid4().hex,
        platform=person.platform,
        account_hashes=[account_hash(key, person.platform, pid) for pid in person.platform_ids],
    )
    _step(report, "suppress", lambda: _suppress(warehouse, report))
    _step(report, "archive pages", lambda: _archive_pages(archive, person, _days(warehouse, person), report))
    _step(report, "archived exports", lambda: _exports(archive, person, export_folder, report))
    if report.complete:  # otherwise the warehouse keeps the person, so a re-run finds them again
        _step(report, "warehouse", lambda: _warehouse(warehouse, person, report))
    else:
        report.not_done.append("warehouse: not touched, so that running scout forget again finds the account")
    _log(warehouse, report)
    return report


def _step(report: ErasureReport, name: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as exc:  # every failure is reported by step; the pass goes on
        report.not_done.append(f"{name}: {type(exc).__name__}: {exc}")


def _suppress(warehouse: WarehouseOperations, report: ErasureReport) -> None:
    rows = [
        {"platform": report.platform, "account_hash": h, "added_at": _now()} for h in report.account_hashes
    ]
    warehouse.append(SUPPRESSIONS.name, pl.DataFrame(rows, schema=polars_schema(SUPPRESSIONS.columns)))


def _days(warehouse: WarehouseOperations, person: Person) -> list[date]:
    """The days whose stored pages may hold the person: where they were seen, or a payload names them."""
    marks = _marks(2, len(person.platform_ids))
    seen = warehouse.read(
        f"select distinct partition_date as d from profile_sightings where platform = $1 and platform_id in ({marks}) "
        f"union select distinct partition_date from profile_snapshots where platform = $1 and platform_id in ({marks})",
        [person.platform, *person.platform_ids],
    )["d"].to_list()
    return sorted(set(seen) | set(_payload_rows(warehouse, person)["partition_date"].to_list()))


def _payload_rows(warehouse: Any, person: Person) -> pl.DataFrame:
    likes = " or ".join(
        f"payload like ${n} or hydration_payload like ${n}" for n in range(2, len(person.platform_ids) + 2)
    )
    return warehouse.read(
        "select request_id, keyword, partition_date, payload, hydration_payload from raw_searches "
        f"where platform = $1 and ({likes})",
        [person.platform, *(f"%{pid}%" for pid in person.platform_ids)],
    )


def _archive_pages(archive: ErasableArchive, person: Person, days: list[date], report: ErasureReport) -> None:
    outcome = scrub_archive_pages(archive, person.platform, days, person.platform_ids)
    report.pages_rewritten += outcome.rewritten
    report.residual.extend(outcome.left_in_place)


def _exports(archive: ErasableArchive, person: Person, folder: Path | None, report: ErasureReport) -> None:
    if folder is not None:
        report.export_files_rewritten += scrub_export_folder(
            folder, person.platform, person.platform_ids
        ).rewritten
    report.objects_rewritten += scrub_export_objects(archive, person.platform, person.platform_ids).rewritten


def _warehouse(warehouse: WarehouseOperations, person: Person, report: ErasureReport) -> None:
    with warehouse.transaction() as tx:
        for spec in TABLES.values():
            if {"platform", "platform_id"} <= set(spec.column_names) and spec.name not in _OWN_RULES:
                report.table_rows[spec.name] = _delete_keyed(tx, spec, person)
        report.payloads_rewritten = _rewrite_payloads(tx, person)
        report.table_rows["quarantined_rows"] = _delete_matching(
            tx, TABLES["quarantined_rows"], "raw_row", person
        )
        report.table_rows["exclusion_events"] = _delete_exclusions(tx, person)
        for spec in TABLES.values():
            if spec.name not in ("suppressions", "erasure_log"):
                report.cells_cleared += _clear_mentions(tx, spec, person, report)
        for (schema, name), columns in _derived_relations(tx).items():
            quoted = '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))
            deleted = _delete(tx, quoted, columns, person)
            if deleted:
                report.mart_rows[f"{schema}.{name}"] = deleted


def _delete_keyed(tx: WarehouseTransaction, spec: Table, person: Person) -> int:
    """Rows of the person's ids (or, with a handle column, of their handles: imported reviews)."""
    return _delete(tx, f'"{spec.name}"', spec.column_names, person)


def _delete(tx: WarehouseTransaction, relation: str, columns: Sequence[str], person: Person) -> int:
    ids, handles = person.platform_ids, person.handles
    conditions, params = [], [person.platform] if "platform" in columns else []
    if "platform_id" in columns:
        conditions.append(f"platform_id in ({_marks(len(params) + 1, len(ids))})")
        params += ids
    if "handle" in columns and handles:
        conditions.append(f"lower(handle) in ({_marks(len(params) + 1, len(handles))})")
        params += handles
    if not conditions:
        return 0
    where = f"({' or '.join(conditions)})" + (" and platform = $1" if "platform" in columns else "")
    count = tx.read(f"select count(*) as n from {relation} where {where}", params)["n"][0]
    if count:
        tx.execute(f"delete from {relation} where {where}", params)
    return int(count)


def _rewrite_payloads(tx: WarehouseTransaction, person: Person) -> int:
    """Stored pages of ``raw_searches`` without the person, with their count and ids hash recomputed,
    and without the rows parsed from them at fetch."""
    rewritten = 0
    for row in _payload_rows(tx, person).iter_rows(named=True):
        try:
            page = scrub_page(
                person.platform, row["keyword"], row["payload"], row["hydration_payload"], person.platform_ids
            )
        except ScrubError as exc:
            raise ScrubError(f"raw_searches request {row['request_id']}: {exc}") from None
        if not page.removed:
            continue
        # The page's rows parsed at fetch no longer match its payload (positions moved): they go,
        # and the page is parsed from the rewritten payload from now on (scout_assets/page_store.py).
        tx.execute("delete from page_profiles where request_id = $1", [row["request_id"]])
        tx.execute(
            "update raw_searches set payload = $1, hydration_payload = $2, result_count = $3, ids_hash = $4, "
            "parser_version = null where request_id = $5",
            [
                page.payload,
                page.hydration_payload,
                len(page.rows),
                ids_hash(r["handle"] for r in page.rows),
                row["request_id"],
            ],
        )
        rewritten += 1
    return rewritten


def _delete_matching(tx: WarehouseTransaction, spec: Table, column: str, person: Person) -> int:
    """Rows of the platform whose ``column`` mentions an id or handle (found by SQL, confirmed whole)."""
    rows = _mentioning(tx, spec, column, person)
    for row in rows:
        tx.delete(spec.name, {name: row[name] for name in spec.key})
    return len(rows)


def _mentioning(tx: WarehouseTransaction, spec: Table, column: str, person: Person) -> list[dict]:
    values = [*person.platform_ids, *person.handles]  # a superset, confirmed by mentioned_in below
    likes = " or ".join(f'lower("{column}") like ${n}' for n in range(1, len(values) + 1))
    keys = ", ".join(f'"{name}"' for name in dict.fromkeys((*spec.key, column)))
    found = tx.read(
        f'select {keys} from "{spec.name}" where {likes}', [f"%{value.lower()}%" for value in values]
    )
    return [row for row in found.iter_rows(named=True) if person.mentioned_in(row[column])]


def _delete_exclusions(tx: WarehouseTransaction, person: Person) -> int:
    """Do-not-contact entries naming the person by id or handle (the suppression supersedes them)."""
    entries = tx.read(
        "select event_id, kind, value from exclusion_events where platform = $1", [person.platform]
    )
    doomed = [
        row["event_id"]
        for row in entries.iter_rows(named=True)
        if (row["kind"] == "account" and row["value"] in person.platform_ids)
        or (row["kind"] == "handle" and (row["value"] or "").lower() in person.handles)
    ]
    for event_id in doomed:
        tx.delete("exclusion_events", {"event_id": event_id})
    return len(doomed)


def _clear_mentions(tx: WarehouseTransaction, spec: Table, person: Person, report: ErasureReport) -> int:
    """Null every other text cell that still mentions the person; a key column is reported instead."""
    cleared = 0
    for name, logical in spec.columns:
        if logical != "text" or name in _REWRITTEN_COLUMNS:
            continue
        rows = _mentioning(tx, spec, name, person)
        if not rows:
            continue
        if name in spec.key or name == "keyword":
            report.residual.append(f"{spec.name}.{name}: {len(rows)} value(s) mention the account")
            continue
        for row in rows:
            where = " and ".join(f'"{key}" = ${n}' for n, key in enumerate(spec.key, start=1))
            tx.execute(f'update "{spec.name}" set "{name}" = null where {where}', [row[k] for k in spec.key])
        cleared += len(rows)
    return cleared


def _derived_relations(tx: WarehouseTransaction) -> dict[tuple[str, str], list[str]]:
    """Every base table dbt (or anything else) built beside the declared ones, in any schema, with its columns."""
    frame = tx.read(
        "select c.table_schema as s, c.table_name as t, c.column_name as c from information_schema.columns c "
        "join information_schema.tables t on t.table_catalog = c.table_catalog "
        "and t.table_schema = c.table_schema and t.table_name = c.table_name "
        "where t.table_type = 'BASE TABLE' order by 1, 2"
    )
    declared = set(TABLES)
    relations: dict[tuple[str, str], list[str]] = {}
    for schema, name, column in frame.iter_rows():
        if schema in _SYSTEM_SCHEMAS or schema.startswith("pg_"):
            continue
        if name in declared and schema in ("main", "public"):
            continue
        relations.setdefault((schema, name), []).append(column)
    return relations


def _log(warehouse: WarehouseOperations, report: ErasureReport) -> None:
    """One ``erasure_log`` row per account hash; the failed steps by name only (no personal data)."""
    not_done = "; ".join(item.split(":", 1)[0] for item in report.not_done) or None
    rows = [
        {
            "erasure_id": f"{report.erasure_id}-{n}",
            "platform": report.platform,
            "account_hash": account,
            "erased_at": _now(),
            "status": "complete" if report.complete else "partial",
            "table_rows": json.dumps(
                {**report.table_rows, **{f"mart:{k}": v for k, v in report.mart_rows.items()}}, sort_keys=True
            ),
            "rows_deleted": sum(report.table_rows.values()),
            "mart_rows_deleted": sum(report.mart_rows.values()),
            "payloads_rewritten": report.payloads_rewritten,
            "pages_rewritten": report.pages_rewritten,
            "objects_rewritten": report.objects_rewritten,
            "export_files_rewritten": report.export_files_rewritten,
            "not_done": not_done,
        }
        for n, account in enumerate(report.account_hashes)
    ]
    try:
        warehouse.append(ERASURE_LOG.name, pl.DataFrame(rows, schema=polars_schema(ERASURE_LOG.columns)))
    except Exception as exc:  # the erasure itself is done; say that its record is missing
        report.not_done.append(f"erasure log: {type(exc).__name__}: {exc}")
