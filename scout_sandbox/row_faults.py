"""Faults that change the rows of a page: bad values, hostile text, huge pages and fields,
repeating cursors, an oversized body.

They work on the normal answer's payload (a fresh dict per request), so a page is spoiled the
same way every time it is asked for: which rows are hit is seeded by the request (path and query),
and every spoiled row is reported as an ``AffectedRow`` (position, defect, account id) so a test
knows exactly which accounts should be stored, cleaned or quarantined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import scout_sandbox.bluesky_wire as bluesky_wire
import scout_sandbox.twitter_wire as twitter_wire
from scout_sandbox.directory import Directory
from scout_sandbox.faults import Fault
from scout_sandbox.replies import AffectedRow, Params, Reply, encode_json, single_param
from scout_sandbox.seeding import rng_for
from scout_sandbox.synthetic import SyntheticProfile

ROW_KINDS = frozenset(
    {"bad_rows", "hostile_text", "huge_page", "huge_field", "repeating_cursor", "oversized"}
)
AFFECTED_HEADER = "x-sandbox-affected-rows"
X_SEARCH, X_DETAIL = "/api/search/people", "/api/user/detail"
BSKY_SEARCH, BSKY_PROFILES = "/xrpc/app.bsky.actor.searchActors", "/xrpc/app.bsky.actor.getProfiles"
_ROWS_KEY = {X_SEARCH: "data", BSKY_SEARCH: "actors", BSKY_PROFILES: "profiles"}
_Render = Callable[[SyntheticProfile, str], dict[str, object]]
_RENDER: dict[str, tuple[str, _Render]] = {
    X_SEARCH: ("twitter", twitter_wire.user_result),
    X_DETAIL: ("twitter", twitter_wire.user_result),
    BSKY_SEARCH: ("bluesky", lambda p, _shape: bluesky_wire.profile_view(p)),
    BSKY_PROFILES: ("bluesky", lambda p, _shape: bluesky_wire.profile_view_detailed(p)),
}
_COUNT_DEFECTS = ("count_suffix", "count_separator", "count_string", "count_word")
_ALL = ("count_suffix", "count_word", "no_blocks", "no_id", "count_separator", "bad_date")
DEFAULT_DEFECTS = {
    X_SEARCH: (*_ALL, "count_string", "not_object"),
    X_DETAIL: (*_ALL, "count_string", "not_object"),
    BSKY_SEARCH: ("no_id", "bad_date", "not_object"),
    BSKY_PROFILES: ("no_id", "count_suffix", "count_word", "count_separator", "bad_date", "count_string"),
}
# Lone surrogates (half an emoji), NUL, C0/C1 controls, an ANSI escape and bidi overrides/isolates.
NAME_POISON = ("\u202e", "\x00\ud83d")
BIO_POISON = ("\x00", "\u202a\x1b[2J\udc00\x07\x7f\u0085\u2067")


class FaultMisuse(ValueError):
    """A fault that cannot apply to the endpoint it was queued for (e.g. counts on searchActors)."""


@dataclass(frozen=True)
class FaultedRequest:
    """What a row fault needs to know about the request it answers."""

    path: str
    params: Params
    shape: str
    directory: Directory
    answer: Callable[[Params], Reply]  # the normal answer to other parameters (for cursors)


def apply_row_fault(fault: Fault, normal: Reply, request: FaultedRequest) -> Reply:
    """``normal`` with ``fault`` applied; error answers pass through untouched."""
    if normal.status != 200 or not isinstance(normal.payload, dict) or request.path not in _RENDER:
        return normal
    try:
        return _APPLY[fault.kind](fault, normal.payload, request)
    except FaultMisuse as exc:
        return Reply(500, {"error": "SandboxFaultMisuse", "message": str(exc)})


def _rows(payload: dict[str, object], path: str) -> list[object]:
    if path == X_DETAIL:
        user = payload.get("user")
        return [user["result"]] if isinstance(user, dict) else []
    rows = payload[_ROWS_KEY[path]]
    assert isinstance(rows, list)
    return rows


def _with_rows(payload: dict[str, object], path: str, rows: list[object]) -> dict[str, object]:
    if path == X_DETAIL:
        return {"user": {"result": rows[0]}} if rows else payload
    return payload | {_ROWS_KEY[path]: rows}


def _positions(fault: Fault, n: int, request: FaultedRequest) -> list[int]:
    query = sorted((k, tuple(v)) for k, v in request.params.items())
    rng = rng_for("fault-rows", fault.kind, request.path, query)
    return sorted(rng.sample(range(n), min(fault.rows, n)))


def _row_id(row: object) -> str:
    if isinstance(row, dict):
        return str(row.get("rest_id") or row.get("did") or "")
    return ""


def _reply(payload: dict[str, object], affected: list[AffectedRow]) -> Reply:
    header = ",".join(f"{a.position}={a.defect}" for a in affected)
    return Reply(200, payload, {AFFECTED_HEADER: header} if header else {}, affected=tuple(affected))


# -- bad values ------------------------------------------------------------------------------------


def _bad_rows(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    rows = _rows(payload, request.path)
    defects = fault.defects or DEFAULT_DEFECTS[request.path]
    affected = []
    for i, position in enumerate(_positions(fault, len(rows), request)):
        defect = defects[i % len(defects)]
        affected.append(AffectedRow(position, defect, _row_id(rows[position])))
        rows[position] = _spoil(rows[position], defect, request.path)
    return _reply(_with_rows(payload, request.path, rows), affected)


def _spoil(row: object, defect: str, path: str) -> object:
    assert isinstance(row, dict)
    platform = _RENDER[path][0]
    if defect == "not_object":
        return "oops"
    if defect == "no_id":
        for key in ("rest_id", "id", "did"):
            row.pop(key, None)
    elif defect == "no_blocks":
        if platform != "twitter":
            raise FaultMisuse(f"defect 'no_blocks' is X-only; {path} rows have no legacy/core blocks")
        row.pop("legacy", None)
        row.pop("core", None)
    elif defect == "bad_date":
        holder = row if platform == "bluesky" else (row.get("core") or row["legacy"])
        holder["createdAt" if platform == "bluesky" else "created_at"] = "sometime last year"
    elif defect in _COUNT_DEFECTS:
        holder, key = _count_slot(row, path)
        holder[key] = {
            "count_suffix": "1.2K",
            "count_separator": "12,345",
            "count_string": str(holder[key]),
            "count_word": "many",
        }[defect]
    return row


def _count_slot(row: dict, path: str) -> tuple[dict, str]:
    if path == BSKY_SEARCH:
        raise FaultMisuse(f"count defects need counts, and {path} rows carry none; use {BSKY_PROFILES}")
    if path == BSKY_PROFILES:
        return row, "followersCount"
    legacy = row.get("legacy")
    if isinstance(legacy, dict) and "followers_count" in legacy:
        return legacy, "followers_count"
    return row["relationship_counts"], "followers"


# -- text ------------------------------------------------------------------------------------------


def _set_text(
    row: object, platform: str, name: Callable[[str], str] | None, bio: Callable[[str], str]
) -> None:
    """Rewrite the display name and bio wherever this row's shape keeps them."""
    assert isinstance(row, dict)
    if platform == "bluesky":
        if name is not None:
            row["displayName"] = name(str(row.get("displayName") or ""))
        row["description"] = bio(str(row.get("description") or ""))
        return
    for block in ("legacy", "core", "profile_bio"):  # X: which blocks hold them depends on the shape
        holder = row.get(block)
        if not isinstance(holder, dict):
            continue
        if name is not None and "name" in holder:
            holder["name"] = name(str(holder["name"]))
        if "description" in holder:
            holder["description"] = bio(str(holder["description"]))


def _hostile_text(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    rows = _rows(payload, request.path)
    affected = []
    for position in _positions(fault, len(rows), request):
        affected.append(AffectedRow(position, "hostile_text", _row_id(rows[position])))
        _set_text(
            rows[position],
            _RENDER[request.path][0],
            lambda n: NAME_POISON[0] + n + NAME_POISON[1],
            lambda b: BIO_POISON[0] + b + BIO_POISON[1],
        )
    return _reply(payload, affected)


def _huge_field(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    rows = _rows(payload, request.path)
    affected = []

    def grow(bio: str) -> str:
        base = (bio or "Qualitative researcher.") + " "
        return (base * (fault.size // len(base) + 1))[: fault.size]

    for position in _positions(fault, len(rows), request):
        affected.append(AffectedRow(position, "huge_field", _row_id(rows[position])))
        _set_text(rows[position], _RENDER[request.path][0], None, grow)
    return _reply(payload, affected)


# -- size ------------------------------------------------------------------------------------------


def _huge_page(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    if request.path == X_DETAIL:
        raise FaultMisuse(f"huge_page needs a page of rows; {X_DETAIL} answers one user")
    platform, render = _RENDER[request.path]
    pool = request.directory.pool(platform)
    keyword = single_param(request.params, "keyword") or single_param(request.params, "q") or ""
    hits = pool.hits(keyword) if keyword.strip() else []
    chosen = list(dict.fromkeys([*hits, *range(pool.size)]))[: fault.rows]
    rows: list[object] = [render(request.directory.profile(platform, i), request.shape) for i in chosen]
    return _reply(_with_rows(payload, request.path, rows), [])


def _oversized(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    """A valid page of at least ``size`` bytes: the page's rows over and over, made as it is sent."""
    if request.path == X_DETAIL:
        raise FaultMisuse(f"oversized needs a page of rows; {X_DETAIL} answers one user")
    key = _ROWS_KEY[request.path]
    rows = _rows(payload, request.path)
    if not rows:
        platform, render = _RENDER[request.path]
        rows = [render(request.directory.profile(platform, i), request.shape) for i in range(20)]
    encoded = [encode_json(row) for row in rows]
    others = {k: v for k, v in payload.items() if k != key}
    head = b'{"' + key.encode() + b'":['
    tail = b"]," + encode_json(others)[1:] if others else b"]}"

    def chunks() -> Iterator[bytes]:
        yield head
        sent, separator = len(head), b""
        while sent < fault.size:  # whole rounds of the page's rows: overshoots by at most one page
            block = b"".join(separator + row if i == 0 else b"," + row for i, row in enumerate(encoded))
            separator = b","
            sent += len(block)
            yield block
        yield tail

    return Reply(200, None, stream=chunks)


# -- cursors ---------------------------------------------------------------------------------------


def _repeating_cursor(fault: Fault, payload: dict[str, object], request: FaultedRequest) -> Reply:
    """Mode "same": the next cursor is the one asked for; "cycle": pages 2 and 3 point at each other."""
    if request.path not in {X_SEARCH, BSKY_SEARCH}:
        raise FaultMisuse(f"repeating_cursor needs a paged search; {request.path} has no cursor")
    asked = single_param(request.params, "cursor")
    if not asked:
        return _reply(payload, [])
    if fault.mode == "same":
        return _reply(payload | {"cursor": asked}, [])
    first = request.answer({k: v for k, v in request.params.items() if k != "cursor"}).payload
    second_page = first.get("cursor") if isinstance(first, dict) else None
    if second_page and asked != second_page:
        return _reply(payload | {"cursor": second_page}, [])
    return _reply(payload, [])


_APPLY: dict[str, Callable[[Fault, dict[str, object], FaultedRequest], Reply]] = {
    "bad_rows": _bad_rows,
    "hostile_text": _hostile_text,
    "huge_field": _huge_field,
    "huge_page": _huge_page,
    "oversized": _oversized,
    "repeating_cursor": _repeating_cursor,
}
