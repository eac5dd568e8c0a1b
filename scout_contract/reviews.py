"""People's reviews: the file format, the row the ``reviews`` table stores, and "the latest wins".

A review is one person's verdict (true / false / null, with an optional reason) on one account
against one audience version. ``reviews`` is append-only; for (platform, account, audience) the
review with the greatest ``(reviewed_at, review_id)`` is the truth, and it overrides every model.

**Which account.** A review names an account by ``platform_id`` when it has one, else by
``lower(handle)``. A review imported before the account was discovered has no ``platform_id``;
``LATEST_REVIEWS_SQL`` resolves it from ``profiles`` (same platform, same handle ignoring case,
the account last seen with that handle), so a later dashboard review of the same account, which
carries the id, supersedes it instead of standing beside it.

**The file format** (``human_labels.jsonl``, what ``scout review import`` reads and ``scout review
export`` writes): one JSON object per line with ``handle`` (required), ``name``, ``bio``,
``category``, ``followers`` and ``human_label`` (required: ``"true"`` / ``"false"`` / ``"null"``, or
JSON ``true`` / ``false`` / ``null``), optionally ``human_reason``. An export adds ``reviewer``,
``reviewed_at``, ``audience``, ``platform``, ``platform_id``, ``source`` and ``review_id``, which an
import honours, so export then import gives back the same reviews. Any other field is ignored.

**One bad line rejects the file.** ``parse_review_lines`` checks every line and raises one
``ReviewFileError`` listing each bad line (file, line number, field, what is wrong) before anything
is written: a file is imported whole or not at all, never half.

**Which review is which** (``review_id``). Importing the same file twice must not add the same
verdicts twice, while a changed verdict is a new review. So the id is a digest of what the
review says: platform, handle (lower-cased), audience, label, reason, reviewer and, when the
verdict has its own time (a dashboard click, an exported line), that time. A line without a time
gets the time of its import but keeps the timeless id, so re-importing it is a no-op.

Pure: no I/O, no Dagster, standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scout_contract.errors import storable_text
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import REVIEWS

REVIEW_COLUMNS: tuple[str, ...] = tuple(REVIEWS.column_names)

# One verdict, spelled as the file spells it.
LABEL_WORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}

# Where a review comes from (reviews.source); an import adds the file's name: "import:labels.jsonl".
SOURCE_DASHBOARD = "dashboard"
SOURCE_CLI = "cli"
IMPORT_SOURCE_PREFIX = "import:"

# How many bad lines a ReviewFileError spells out in its message (``problems`` keeps them all).
MAX_LISTED_PROBLEMS = 50

# The account a review is about, as SQL over a row with platform_id and handle (see the module
# docstring). Prefixed, so a numeric handle can never equal a platform id.
ACCOUNT_KEY_SQL = "coalesce('id:' || platform_id, 'handle:' || lower(handle))"

# The latest review of each account for one audience ($1 = audience key), one row per account,
# with the columns of ``reviews`` (platform_id resolved from ``profiles`` when the review had none).
# Plain SQL that DuckDB and PostgreSQL both run through ``Warehouse.read(LATEST_REVIEWS_SQL, [key])``.
LATEST_REVIEWS_SQL = f"""
with known_handles as (
    select platform, lower(handle) as handle_key, platform_id,
        row_number() over (
            partition by platform, lower(handle)
            order by last_seen_at desc nulls last, platform_id
        ) as handle_rank
    from profiles
    where handle is not null
),
resolved as (
    select r.review_id, r.platform, coalesce(r.platform_id, k.platform_id) as platform_id, r.handle,
        r.name, r.bio, r.category, r.followers, r.audience, r.audience_hash, r.label, r.reason,
        r.reviewer, r.source, r.reviewed_at
    from reviews as r
    left join known_handles as k
        on k.handle_rank = 1 and k.platform = r.platform and k.handle_key = lower(r.handle)
    where r.audience = $1
),
ranked as (
    select resolved.*,
        row_number() over (
            partition by platform, {ACCOUNT_KEY_SQL}
            order by reviewed_at desc, review_id desc
        ) as review_rank
    from resolved
)
select {", ".join(REVIEW_COLUMNS)}
from ranked
where review_rank = 1
order by platform, lower(handle), review_id
"""

# Every review of one audience ($1), oldest first: the audit trail (``scout review export --history``).
REVIEW_HISTORY_SQL = f"""
select {", ".join(REVIEW_COLUMNS)}
from reviews
where audience = $1
order by reviewed_at, review_id
"""


# What the review queue shows, in order (mart_review_queue, built by dbt).
REVIEW_QUEUE_COLUMNS: tuple[str, ...] = (
    "audience",
    "platform",
    "platform_id",
    "handle",
    "name",
    "bio",
    "category",
    "followers",
    "has",
    "consensus_label",
    "local_p_true",
    "models_disagree",
    "priority",
    "why",
)


def review_queue_sql(schema: str, limit: int | None, skip: int = 0) -> str:
    """The top of ``<schema>.mart_review_queue`` for one audience ($1), best first (all rows: ``limit=None``).

    The mart already leaves out the accounts reviewed when dbt built it; this query also leaves
    out every account reviewed since (the ``reviews`` table, matched as in ``LATEST_REVIEWS_SQL``),
    so a verdict takes its account off the queue at once. ``skip`` more parameters ($2 ...) are
    ``platform:platform_id`` keys to pass over (accounts a person skipped for now).
    """
    if not schema.isidentifier() or not schema.isascii() or schema.lower() != schema:
        raise ValueError(f"marts schema {schema!r} is not a plain lower-case identifier")
    if (limit is not None and limit < 1) or skip < 0:
        raise ValueError(f"review queue: limit must be >= 1 and skip >= 0, got {limit} and {skip}")
    skipped = ""
    if skip:
        keys = ", ".join(f"${n}" for n in range(2, skip + 2))
        skipped = f"and (q.platform || ':' || q.platform_id) not in ({keys})"
    return f"""
select {", ".join(f"q.{column}" for column in REVIEW_QUEUE_COLUMNS)}
from {schema}.mart_review_queue as q
where q.audience = $1
    and not exists (
        select 1 from reviews as r
        where r.audience = q.audience and r.platform = q.platform
            and (r.platform_id = q.platform_id or (r.platform_id is null and lower(r.handle) = lower(q.handle)))
    )
    {skipped}
order by q.priority desc, q.has desc nulls last, q.platform, q.handle
{"" if limit is None else f"limit {int(limit)}"}
"""


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line of a reviews file."""

    line: int
    field: str
    detail: str

    def describe(self, source_name: str) -> str:
        return f"{source_name}:{self.line}: field {self.field!r} {self.detail}"


class ReviewFileError(ValueError):
    """A reviews file with bad lines; nothing of it may be written. Lists every bad line."""

    def __init__(self, source_name: str, problems: list[LineProblem]) -> None:
        self.source_name = source_name
        self.problems = problems
        listed = [problem.describe(source_name) for problem in problems[:MAX_LISTED_PROBLEMS]]
        if len(problems) > MAX_LISTED_PROBLEMS:
            listed.append(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more bad line(s)")
        super().__init__(
            storable_text(
                f"{source_name}: {len(problems)} bad line(s), nothing was imported:\n  " + "\n  ".join(listed)
            )
        )


class _Bad(Exception):
    def __init__(self, field: str, detail: str) -> None:
        self.field, self.detail = field, detail


def _shown(value: Any) -> str:
    """A value quoted in a message: its type and a short repr (the value may be hostile or huge)."""
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def label_word(label: bool | None) -> str:
    """``true`` / ``false`` / ``null``: the file's spelling of a verdict."""
    return "null" if label is None else ("true" if label else "false")


def parse_label(value: Any, field: str = "human_label") -> bool | None:
    """``"true"``/``"false"``/``"null"`` (any case, spaces around) or JSON true/false/null."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in LABEL_WORDS:
        return LABEL_WORDS[value.strip().lower()]
    raise _Bad(field, f"must be true, false or null, got {_shown(value)}")


def _text(record: dict[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(field, f"must be text, got {_shown(value)}")
    return storable_text(value)


def _followers(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
        return None
    if isinstance(value, bool):
        raise _Bad("followers", f"must be a whole number, got {_shown(value)}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise _Bad("followers", f"must be a whole number, got {_shown(value)}") from None
    if not number.is_integer() or not 0 <= number < 2**63:
        raise _Bad("followers", f"must be a whole number >= 0, got {_shown(value)}")
    return int(number)


def parse_reviewed_at(value: str, field: str = "reviewed_at") -> datetime:
    """An ISO 8601 time as naive UTC (the warehouse's timestamp); a time without offset is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Bad(
            field, f"must be an ISO 8601 time like 2026-03-01T12:00:00Z, got {_shown(value)}"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _record(record: dict[str, Any]) -> dict[str, Any]:
    """One parsed line (without its line number); raises ``_Bad`` on the first wrong field."""
    if "handle" not in record:
        raise _Bad("handle", "is missing")
    handle = (_text(record, "handle") or "").strip().lstrip("@")
    if not handle:
        raise _Bad("handle", "is empty")
    if any(ch.isspace() for ch in handle) or "\ufffd" in handle:
        raise _Bad("handle", f"must be one word without spaces, got {_shown(handle)}")
    if "human_label" not in record:
        raise _Bad("human_label", "is missing (true, false or null)")
    category = (_text(record, "category") or "").strip() or None
    parsed: dict[str, Any] = {
        "handle": handle,
        "name": _text(record, "name") or "",
        "bio": _text(record, "bio") or "",
        "category": None if category is not None and category.lower() == "null" else category,
        "followers": _followers(record.get("followers")),
        "label": parse_label(record["human_label"]),
        "reason": (_text(record, "human_reason") or "").strip(),
        "reviewer": (_text(record, "reviewer") or "").strip() or None,
        "reviewed_at": None,
        "audience": (_text(record, "audience") or "").strip() or None,
        "platform": (_text(record, "platform") or "").strip() or None,
        "platform_id": None,
        "source": (_text(record, "source") or "").strip() or None,
        "review_id": (_text(record, "review_id") or "").strip() or None,
    }
    if parsed["platform"] is not None and parsed["platform"] not in PLATFORMS:
        raise _Bad("platform", f"must be one of {', '.join(PLATFORMS)}, got {_shown(parsed['platform'])}")
    platform_id = record.get("platform_id")
    if platform_id is not None:
        if isinstance(platform_id, bool) or not isinstance(platform_id, str | int):
            raise _Bad("platform_id", f"must be text, got {_shown(platform_id)}")
        parsed["platform_id"] = storable_text(str(platform_id)).strip() or None
    reviewed_at = _text(record, "reviewed_at")
    if reviewed_at is not None and reviewed_at.strip():
        parsed["reviewed_at"] = parse_reviewed_at(reviewed_at)
    if parsed["review_id"] is not None and (parsed["reviewed_at"] is None or parsed["reviewer"] is None):
        raise _Bad(
            "review_id",
            "comes from an export and needs its reviewed_at and reviewer beside it "
            "(drop review_id to record the line as a new review)",
        )
    return parsed


def parse_review_lines(lines: Iterable[str], source_name: str) -> list[dict[str, Any]]:
    """Every review of a ``human_labels.jsonl``-format file, in file order, or a ``ReviewFileError``.

    Each dict has ``line`` (1-based), ``handle`` (without ``@``), ``name``, ``bio`` (``""`` when
    absent), ``category`` (None when absent), ``followers`` (int, None when absent), ``label``
    (True / False / None), ``reason`` (``""`` when absent), and what an export adds, None when the
    line does not say: ``reviewer``, ``reviewed_at`` (naive UTC datetime), ``audience``,
    ``platform``, ``platform_id``, ``source``, ``review_id``. Blank lines are skipped.

    Every line is checked before anything is returned: one error lists every bad line. Two lines
    about the same account (same platform, handle ignoring case, and time) that disagree are an
    error too: the file says two things and nothing could tell which one is meant.
    """
    rows: list[dict[str, Any]] = []
    problems: list[LineProblem] = []
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                LineProblem(number, "(line)", f"is not valid JSON ({exc.msg} at column {exc.colno})")
            )
            continue
        if not isinstance(record, dict):
            problems.append(
                LineProblem(number, "(line)", f"must be a JSON object, got {type(record).__name__}")
            )
            continue
        try:
            parsed = {"line": number, **_record(record)}
        except _Bad as bad:
            problems.append(LineProblem(number, bad.field, bad.detail))
            continue
        account = (parsed["platform"], parsed["handle"].lower(), parsed["reviewed_at"], parsed["review_id"])
        earlier = seen.setdefault(account, parsed)
        if earlier is not parsed and (earlier["label"], earlier["reason"]) != (
            parsed["label"],
            parsed["reason"],
        ):
            problems.append(
                LineProblem(
                    number,
                    "human_label",
                    f"contradicts line {earlier['line']} about the same account @{parsed['handle']} "
                    f"({label_word(earlier['label'])} there, {label_word(parsed['label'])} here)",
                )
            )
            continue
        rows.append(parsed)
    if problems:
        raise ReviewFileError(source_name, problems)
    return rows


def review_digest(
    platform: str,
    handle: str,
    audience: str,
    label: bool | None,
    reason: str,
    reviewer: str,
    reviewed_at: datetime | None,
) -> str:
    """The ``review_id`` of a verdict: the same verdict gives the same id (see the module docstring)."""
    when = None if reviewed_at is None else reviewed_at.isoformat(timespec="microseconds")
    identity = [
        platform,
        handle.strip().lstrip("@").lower(),
        audience,
        label_word(label),
        reason,
        reviewer,
        when,
    ]
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def utc_now() -> datetime:
    """Now as the warehouse stores times: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def review_row(
    *,
    platform: str,
    handle: str,
    audience: str,
    audience_hash: str,
    label: bool | None,
    reviewer: str,
    source: str,
    reviewed_at: datetime,
    platform_id: str | None = None,
    name: str = "",
    bio: str = "",
    category: str | None = None,
    followers: int | None = None,
    reason: str = "",
    review_id: str | None = None,
    time_in_id: bool = True,
) -> dict[str, Any]:
    """One row of ``reviews`` (keys in table order).

    ``reviewed_at`` is naive UTC (an aware time is converted). ``review_id``: given (an exported
    review keeps its id), else ``review_digest`` of the verdict, with ``reviewed_at`` in it when
    ``time_in_id`` (every dashboard click is a review of its own) or without it (a file's line
    imported again is the same review).
    """
    if platform not in PLATFORMS:
        raise ValueError(
            f"review of @{handle}: platform must be one of {', '.join(PLATFORMS)}, got {platform!r}"
        )
    handle = handle.strip().lstrip("@")
    if not handle:
        raise ValueError("review: the handle is empty")
    if not audience:
        raise ValueError(f"review of @{handle}: the audience is empty")
    if reviewed_at.tzinfo is not None:
        reviewed_at = reviewed_at.astimezone(UTC).replace(tzinfo=None)
    reason = (reason or "").strip()
    reviewer = reviewer.strip() or "unknown"
    if review_id is None:
        review_id = review_digest(
            platform, handle, audience, label, reason, reviewer, reviewed_at if time_in_id else None
        )
    row = {
        "review_id": review_id,
        "platform": platform,
        "platform_id": platform_id or None,
        "handle": handle,
        "name": name or "",
        "bio": bio or "",
        "category": category or None,
        "followers": followers,
        "audience": audience,
        "audience_hash": audience_hash,
        "label": label,
        "reason": reason,
        "reviewer": reviewer,
        "source": source,
        "reviewed_at": reviewed_at,
    }
    assert tuple(row) == REVIEW_COLUMNS, "review_row is out of step with scout_contract.tables.REVIEWS"
    return row


def export_record(row: dict[str, Any]) -> dict[str, Any]:
    """A ``reviews`` row as one line of the file format (what ``parse_review_lines`` reads back)."""
    reviewed_at = row["reviewed_at"]
    if isinstance(reviewed_at, datetime):
        if reviewed_at.tzinfo is not None:
            reviewed_at = reviewed_at.astimezone(UTC).replace(tzinfo=None)
        reviewed_at = reviewed_at.isoformat(timespec="microseconds") + "Z"
    return {
        "handle": row["handle"],
        "name": row["name"],
        "bio": row["bio"],
        "category": row["category"],
        "followers": row["followers"],
        "human_label": label_word(row["label"]),
        "human_reason": row["reason"] or "",
        "reviewer": row["reviewer"],
        "reviewed_at": reviewed_at,
        "audience": row["audience"],
        "platform": row["platform"],
        "platform_id": row["platform_id"],
        "source": row["source"],
        "review_id": row["review_id"],
    }
