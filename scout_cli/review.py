"""``scout review``: people's verdicts in and out of the warehouse, and what to review next.

    scout review import FILE --audience thelai_customers.v3 [--reviewer NAME] [--platform twitter]
    scout review export --audience thelai_customers.v3 [--out FILE] [--history]
    scout review queue --audience thelai_customers.v3 [--limit N]

``import`` appends the verdicts of a ``human_labels.jsonl``-format file (one JSON object per line:
``handle``, ``name``, ``bio``, ``category``, ``followers``, ``human_label`` true/false/null, optional
``human_reason``) to the ``reviews`` table. The file is checked whole first: one bad line rejects
it, every bad line is listed, and nothing is written. Importing the same file again adds nothing.
``export`` writes the latest verdict per account (every verdict with ``--history``) in the same
format, plus who, when and against which audience version, so an export imports back unchanged.
``queue`` prints the top of the review queue (``mart_review_queue``, built by dbt).

The warehouse is the bound one (``SCOUT_WAREHOUSE_URL``, else the embedded DuckDB file). Exit
codes: 0 done, 2 bad input (file, audience, arguments). Format and rules: scout_contract/reviews.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scout_cli.label import positive_int
from scout_contract.platforms import PLATFORMS

if TYPE_CHECKING:  # imported where used, so ``--help`` stays fast
    import polars as pl

    from resources.warehouse import Warehouse
    from scout_contract.audience import Audience

# Handles looked up in ``profiles`` per query (bound parameters; both backends take far more).
_LOOKUP_CHUNK = 500


class ReviewInputError(ValueError):
    """Input ``scout review`` cannot use; the message names it."""


def add_review_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``review`` (import / export / queue) on a subparsers object; dispatch on ``handler``."""
    parser = subparsers.add_parser(
        "review",
        help="import, export and queue people's reviews (true / false / null verdicts)",
        description=__doc__.split("\n\n")[0],
    )
    actions = parser.add_subparsers(dest="review_command", required=True)

    imports = actions.add_parser("import", help="append the verdicts of a human_labels.jsonl-format file")
    imports.add_argument("file", type=Path, help="one JSON object per line (handle, ..., human_label)")
    imports.add_argument(
        "--audience", required=True, help="audience JSON file, or a configured key like thelai_customers.v3"
    )
    imports.add_argument(
        "--reviewer",
        help="who made the verdicts, for lines that do not say (default: $SCOUT_REVIEWER, $USER)",
    )
    imports.add_argument(
        "--platform",
        choices=PLATFORMS,
        default="twitter",
        help="platform of the accounts, for lines that do not say (default: twitter)",
    )
    imports.set_defaults(handler=run_import)

    exports = actions.add_parser("export", help="write the latest verdict per account as jsonl")
    exports.add_argument(
        "--audience", required=True, help="audience key like thelai_customers.v3 (or its JSON file)"
    )
    exports.add_argument("--out", type=Path, help="file to write (default: standard output)")
    exports.add_argument(
        "--history", action="store_true", help="every verdict, oldest first, not only the latest"
    )
    exports.set_defaults(handler=run_export)

    queue = actions.add_parser("queue", help="print the profiles whose review is worth most")
    queue.add_argument("--audience", required=True, help="audience key like thelai_customers.v3")
    queue.add_argument("--limit", type=positive_int, default=20, help="how many to print (default 20)")
    queue.set_defaults(handler=run_queue)
    return parser


def _settings():
    import os

    from scout_contract.settings import ScoutSettings

    return ScoutSettings.from_environ(os.environ)


def _audience_key(value: str) -> str:
    """A key for reading reviews: a JSON file's key, else the text (an old version need not be configured)."""
    if value.endswith(".json") or Path(value).is_file():
        from scout_contract.audience import resolve_audience

        return resolve_audience(value).key
    return value.strip()


# --- import --------------------------------------------------------------------------------------


def read_review_file(path: Path) -> list[dict[str, Any]]:
    """The parsed lines of ``path`` (``ReviewFileError`` lists every bad line)."""
    from scout_contract.reviews import parse_review_lines

    if not path.is_file():
        raise ReviewInputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ReviewInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return parse_review_lines(text.splitlines(), str(path))


def _known_accounts(warehouse: Warehouse, platform: str, handles: Sequence[str]) -> dict[str, str]:
    """lower(handle) -> platform_id of the accounts ``profiles`` knows (the one last seen per handle)."""
    found: dict[str, tuple[Any, str]] = {}
    unique = sorted(set(handles))
    for start in range(0, len(unique), _LOOKUP_CHUNK):
        chunk = unique[start : start + _LOOKUP_CHUNK]
        marks = ", ".join(f"${n}" for n in range(2, len(chunk) + 2))
        frame = warehouse.read(
            "select lower(handle) as handle_key, platform_id, last_seen_at from profiles "
            f"where platform = $1 and lower(handle) in ({marks})",
            [platform, *chunk],
        )
        for key, platform_id, seen in frame.iter_rows():
            best = found.get(key)
            if best is None or (seen is not None and (best[0] is None or seen > best[0])):
                found[key] = (seen, platform_id)
    return {key: platform_id for key, (_, platform_id) in found.items()}


def build_rows(
    parsed: list[dict[str, Any]],
    audience: Audience,
    *,
    source_name: str,
    platform: str,
    reviewer: str,
    known: dict[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """``reviews`` rows for the parsed lines (``ReviewFileError`` for a line about another audience)."""
    from scout_contract.reviews import IMPORT_SOURCE_PREFIX, LineProblem, ReviewFileError, review_row, utc_now

    problems = [
        LineProblem(
            line["line"],
            "audience",
            f"is {line['audience']!r}, but this import is for {audience.key!r} "
            "(a verdict holds only for the audience version it was made against)",
        )
        for line in parsed
        if line["audience"] is not None and line["audience"] != audience.key
    ]
    if problems:
        raise ReviewFileError(source_name, problems)
    now = utc_now()
    rows: dict[str, dict[str, Any]] = {}
    for line in parsed:
        line_platform = line["platform"] or platform
        row = review_row(
            platform=line_platform,
            platform_id=line["platform_id"] or known.get((line_platform, line["handle"].lower())),
            handle=line["handle"],
            name=line["name"],
            bio=line["bio"],
            category=line["category"],
            followers=line["followers"],
            audience=audience.key,
            audience_hash=audience.content_hash,
            label=line["label"],
            reason=line["reason"],
            reviewer=line["reviewer"] or reviewer,
            source=line["source"] or f"{IMPORT_SOURCE_PREFIX}{Path(source_name).name}",
            reviewed_at=line["reviewed_at"] or now,
            review_id=line["review_id"],
            time_in_id=line["reviewed_at"] is not None,
        )
        rows.setdefault(row["review_id"], {**row, "_line": line["line"]})  # a repeated line is one review
    return list(rows.values())


def _conflicts(warehouse: Warehouse, rows: list[dict[str, Any]], source_name: str) -> None:
    """Refuse a line whose ``review_id`` is stored with another verdict (an edited export line)."""
    from scout_contract.reviews import LineProblem, ReviewFileError, label_word

    by_id = {row["review_id"]: row for row in rows}
    ids = sorted(by_id)
    problems = []
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        stored = warehouse.read(
            f"select review_id, lower(handle) as handle_key, audience, label, reason from reviews "
            f"where review_id in ({marks})",
            chunk,
        )
        for review_id, handle_key, audience, label, reason in stored.iter_rows():
            row = by_id[review_id]
            if (handle_key, audience, label, reason or "") != (
                row["handle"].lower(),
                row["audience"],
                row["label"],
                row["reason"],
            ):
                problems.append(
                    LineProblem(
                        row["_line"],
                        "review_id",
                        f"{review_id} is stored as @{handle_key} {label_word(label)} for {audience}; this line "
                        f"says @{row['handle']} {label_word(row['label'])}. Drop review_id and reviewed_at "
                        "to record the line as a new verdict",
                    )
                )
    if problems:
        raise ReviewFileError(source_name, sorted(problems, key=lambda p: p.line))


def import_reviews(
    warehouse: Warehouse, path: Path, audience: Audience, *, reviewer: str, platform: str
) -> dict[str, Any]:
    """Check ``path`` whole, then append its reviews in one transaction; return the counts."""
    import polars as pl

    from scout_contract.tables import REVIEWS, polars_schema

    parsed = read_review_file(path)
    warehouse.ensure_schema()  # a warehouse made before the reviews table existed gets it now
    known: dict[tuple[str, str], str] = {}
    for each in sorted({line["platform"] or platform for line in parsed}):
        handles = [line["handle"].lower() for line in parsed if (line["platform"] or platform) == each]
        known.update({(each, key): pid for key, pid in _known_accounts(warehouse, each, handles).items()})
    rows = build_rows(
        parsed, audience, source_name=str(path), platform=platform, reviewer=reviewer, known=known
    )
    _conflicts(warehouse, rows, str(path))
    frame: pl.DataFrame = pl.DataFrame(
        [{k: v for k, v in row.items() if k != "_line"} for row in rows],
        schema=polars_schema(REVIEWS.columns),
    )
    added = warehouse.append("reviews", frame)
    return {
        "lines": len(parsed),
        "reviews": len(rows),
        "added": added,
        "present": len(rows) - added,
        "labels": Counter(_word(row["label"]) for row in rows),
        "matched": sum(row["platform_id"] is not None for row in rows),
    }


def _word(label: bool | None) -> str:
    from scout_contract.reviews import label_word

    return label_word(label)


def _shown_label(value: Any) -> str:
    """A label as printed: true / false / null for a boolean, the text as it is otherwise."""
    return _word(value) if value is None or isinstance(value, bool) else str(value)


def run_import(args: argparse.Namespace) -> int:
    """``scout review import``: 0 imported (or already there), 1 warehouse failure, 2 bad input.

    Nothing is written unless every line is good.
    """
    from resources.warehouse import WarehouseError
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.audience import AudienceError, resolve_audience
    from scout_contract.reviews import ReviewFileError
    from scout_contract.settings import SettingsError

    try:
        settings = _settings()
        audience = resolve_audience(args.audience)
        reviewer = (args.reviewer or settings.reviewer or "unknown").strip() or "unknown"
        warehouse = open_warehouse(settings)
        counts = import_reviews(warehouse, args.file, audience, reviewer=reviewer, platform=args.platform)
    except (ReviewInputError, ReviewFileError, AudienceError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: nothing was imported: {exc}", file=sys.stderr)
        return 1
    labels = counts["labels"]
    print(
        f"{args.file}: {counts['reviews']} review(s) for {audience.key} from {counts['lines']} line(s) "
        f"-> {warehouse.describe()}"
    )
    print(f"imported {counts['added']}, already present {counts['present']}")
    print("labels: " + ", ".join(f"{word} {labels.get(word, 0)}" for word in ("true", "false", "null")))
    unmatched = counts["reviews"] - counts["matched"]
    print(
        f"matched to known accounts: {counts['matched']} of {counts['reviews']}"
        + (f" ({unmatched} kept by handle, matched when the account is found)" if unmatched else "")
    )
    return 0


# --- export --------------------------------------------------------------------------------------


def read_reviews(warehouse: Warehouse, audience_key: str, *, history: bool = False) -> pl.DataFrame:
    """The latest review per account for one audience (every review, oldest first, with ``history``)."""
    from scout_contract.reviews import LATEST_REVIEWS_SQL, REVIEW_HISTORY_SQL

    return warehouse.read(REVIEW_HISTORY_SQL if history else LATEST_REVIEWS_SQL, [audience_key])


def run_export(args: argparse.Namespace) -> int:
    """``scout review export``: 0 written (maybe empty), 1 warehouse failure, 2 an unknown audience."""
    from resources.warehouse import WarehouseError
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.audience import AudienceError, load_audiences
    from scout_contract.reviews import export_record
    from scout_contract.settings import SettingsError

    try:
        key = _audience_key(args.audience)
        warehouse = open_warehouse(_settings())
        warehouse.ensure_schema()
        frame = read_reviews(warehouse, key, history=args.history)
        if frame.height == 0 and key not in load_audiences():
            reviewed = warehouse.read("select distinct audience from reviews order by audience")["audience"]
            raise ReviewInputError(
                f"audience {key!r}: no reviews and not a configured audience "
                f"(audiences with reviews: {', '.join(reviewed) or 'none'})"
            )
    except (ReviewInputError, AudienceError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    lines = "".join(
        json.dumps(export_record(row), ensure_ascii=False) + "\n" for row in frame.iter_rows(named=True)
    )
    what = "review(s), every verdict" if args.history else "account(s), latest verdict each"
    if args.out is None:
        sys.stdout.write(lines)
        print(f"{frame.height} {what} for {key}", file=sys.stderr)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(lines, encoding="utf-8")
    print(f"{frame.height} {what} for {key} -> {args.out}")
    return 0


# --- queue ---------------------------------------------------------------------------------------


def run_queue(args: argparse.Namespace) -> int:
    """``scout review queue``: the top of ``mart_review_queue``; 2 when the mart is not built."""
    from resources.warehouse import WarehouseError
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.audience import AudienceError
    from scout_contract.reviews import review_queue_sql
    from scout_contract.settings import SettingsError

    try:
        key = _audience_key(args.audience)
        settings = _settings()
        warehouse = open_warehouse(settings)
        warehouse.ensure_schema()
        queue = warehouse.read(review_queue_sql(settings.marts_schema, args.limit), [key])
    except (AudienceError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(
            f"error: cannot read the review queue: {exc} (is mart_review_queue built? dbt build or scout run "
            "builds it)",
            file=sys.stderr,
        )
        return 1
    if queue.height == 0:
        print(f"nothing to review for {key}: every queued account has a verdict, or none is queued")
        return 0
    print(f"{queue.height} account(s) to review for {key}, most valuable first:")
    for row in queue.iter_rows(named=True):
        has = "-" if row["has"] is None else f"{row['has']:.2f}"
        p_true = "-" if row["local_p_true"] is None else f"{row['local_p_true']:.2f}"
        print(
            f"  {row['priority']:.3f}  @{row['handle']} ({row['platform']}) HAS {has} · "
            f"consensus {_shown_label(row['consensus_label'])} · local p(true) {p_true} · {row['why'] or ''}"
        )
    print("review them in the dashboard (Review page) or with `scout review import FILE`")
    return 0
