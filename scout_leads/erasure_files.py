"""Erasure outside the warehouse: the raw archive's pages and objects, and past lead exports.

``scout_leads/erasure.py`` runs these before it touches the warehouse (which tells it where to look).
Every file is rewritten only when it held the person, atomically, and checked afterwards: a page
that still mentions one of their ids outside an account (say, a search keyword) is reported as left
in place, never silently kept.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import polars as pl

from resources.platforms.scrub import scrub_json

EXPORT_SUFFIXES = (".csv", ".parquet", ".jsonl")
EXPORTS_PREFIX = "exports"  # archive objects of lead_exports (S3): objects/exports/<audience>/<day>/...


class ErasableArchive(Protocol):
    """What erasure needs of the raw archive (``resources.archive.RawArchive``, local or S3).

    Spelled out here because the lead operations load no Dagster, and the archive is a Dagster resource.
    """

    def list_day(self, platform: str, day: date) -> list[str]: ...
    def get_page(self, uri: str) -> bytes: ...
    def replace_page(self, uri: str, body: str | bytes) -> None: ...
    def list_objects(self, prefix: str) -> list[str]: ...
    def get_object(self, key: str) -> bytes: ...
    def replace_object(self, key: str, body: str | bytes) -> None: ...


def mention_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern for whole occurrences of ``values`` (ids, handles) in text.

    Whole means not inside a longer id or word: ``123`` is not found in ``91234``, ``ana`` not in
    ``anabel``; an at-URI ``at://did:plc:x/...`` does mention ``did:plc:x``.
    """
    wanted = sorted({value for value in values if value}, key=len, reverse=True)
    if not wanted:
        return None
    alternatives = "|".join(re.escape(value) for value in wanted)
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class FileOutcome:
    """Files rewritten, and where a mention was left in place (names the file, never the person)."""

    rewritten: int
    left_in_place: list[str]


def scrub_archive_pages(
    archive: ErasableArchive, platform: str, days: Iterable[date], platform_ids: Collection[str]
) -> FileOutcome:
    """Rewrite every archived page of ``platform`` on ``days`` that holds one of the accounts."""
    mentions = mention_pattern(platform_ids)
    assert mentions is not None
    rewritten, left = 0, []
    for day in sorted(set(days)):
        for uri in archive.list_day(platform, day):
            text = archive.get_page(uri).decode("utf-8")
            if not mentions.search(text):
                continue
            cleaned = scrub_json(platform, text, platform_ids)
            if cleaned.removed:
                archive.replace_page(uri, cleaned.text)
                rewritten += 1
            if mentions.search(cleaned.text):
                left.append(f"archive page {uri.rsplit('/', 1)[-1]} of {day}: a mention outside any account")
    return FileOutcome(rewritten, left)


def without_account(data: bytes, suffix: str, platform: str, platform_ids: Collection[str]) -> bytes | None:
    """An export file's bytes without the account's rows; None when it held none."""
    ids = set(platform_ids)
    if suffix == ".jsonl":
        lines = data.decode("utf-8").splitlines(keepends=True)
        kept = [
            line
            for line in lines
            if not line.strip()
            or not (
                (row := json.loads(line)).get("platform") == platform and str(row.get("platform_id")) in ids
            )
        ]
        return None if len(kept) == len(lines) else "".join(kept).encode("utf-8")
    if suffix == ".csv":
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False) if data.strip() else None
    elif suffix == ".parquet":
        frame = pl.read_parquet(io.BytesIO(data))
    else:
        raise ValueError(f"export file: unknown format {suffix!r}; expected one of {EXPORT_SUFFIXES}")
    if frame is None or not {"platform", "platform_id"} <= set(frame.columns):
        return None
    match = (pl.col("platform") == platform) & pl.col("platform_id").cast(pl.String).is_in(sorted(ids))
    if not frame.filter(match).height:
        return None
    kept_frame = frame.filter(~match)
    out = io.BytesIO()
    if suffix == ".csv":
        kept_frame.write_csv(out)
    else:
        kept_frame.write_parquet(out, statistics=False)
    return out.getvalue()


def scrub_export_folder(folder: Path, platform: str, platform_ids: Collection[str]) -> FileOutcome:
    """Rewrite every export file under ``folder`` (``<audience>/<day>/leads.*``) that lists the account."""
    rewritten = 0
    if not folder.is_dir():
        return FileOutcome(0, [])
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in EXPORT_SUFFIXES or path.name.startswith("."):
            continue
        cleaned = without_account(path.read_bytes(), path.suffix, platform, platform_ids)
        if cleaned is None:
            continue
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(cleaned)
        os.replace(tmp, path)
        rewritten += 1
    return FileOutcome(rewritten, [])


def scrub_export_objects(
    archive: ErasableArchive, platform: str, platform_ids: Collection[str]
) -> FileOutcome:
    """Rewrite every archived export object (the S3 archive's ``exports/``) that lists the account."""
    rewritten = 0
    for key in archive.list_objects(EXPORTS_PREFIX):
        suffix = Path(key).suffix
        if suffix not in EXPORT_SUFFIXES:
            continue
        cleaned = without_account(archive.get_object(key), suffix, platform, platform_ids)
        if cleaned is not None:
            archive.replace_object(key, cleaned)
            rewritten += 1
    return FileOutcome(rewritten, [])
