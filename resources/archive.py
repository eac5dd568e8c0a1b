"""``RawArchive``: every raw API response page, verbatim, one object per request.

The warehouse keeps raw pages too, but a warehouse can be rebuilt, migrated or pruned; the
archive is the copy that outlives it, so ``profiles`` and everything after it can be
re-derived for any past day even from an empty warehouse. The layout is one object per
request, keyed by platform and day so a day is one prefix listing:

    <prefix>/<platform>/<YYYY-MM-DD>/<request_id>.json

Besides pages the archive keeps a few other files Scout must not lose with the warehouse, such
as the fitted local labeler's weights (``scout_assets/labeling/labeler_store.py``). They are
*objects* under their own branch, so no object key can ever meet a page key:

    <prefix>/objects/<key>          e.g. objects/labelers/thelai_customers.v3/<fit_id>/weights.npz

Two implementations behind one interface: ``LocalArchive`` (a folder, the embedded default)
and ``S3Archive`` (a bucket, production). Both are write-once: putting the same
``request_id`` (or object key) again with the same body returns the same URI and changes nothing
(a retried run is harmless); a *different* body under an existing ``request_id`` or key raises
``ArchiveConflictError``, because an archive that silently rewrites history is no archive.

The one exception is erasure (``scout forget``, docs/leads.md "Erasure"): ``replace_page`` and
``replace_object`` overwrite an existing page or object with a version that no longer holds one
person. Nothing else calls them. On S3 the overwrite is a plain PUT; in a *versioned* bucket the
old version would survive it, so ``S3Archive`` then also deletes the key's noncurrent versions
(the role needs ``s3:ListBucketVersions`` and ``s3:DeleteObjectVersion``; docs/leads.md).

S3 credentials come only from boto3's standard chain (``AWS_ACCESS_KEY_ID``/
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, an ECS task role, an EKS service-account role):
no field of this module holds a secret, so none can reach run config, logs or metadata.
``scout_assets.resources_binding.build_archive`` picks the implementation from the settings.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from abc import abstractmethod
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import dagster as dg
from pydantic import Field, PrivateAttr

# Path segments we put in keys: no separators, no dot-only names, nothing a shell or S3
# console would mangle. Request ids are uuid hex or platform ids; platforms are short names.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# Metadata names that suggest a credential; refusing them keeps a careless caller from
# copying request headers (x-rapidapi-key, authorization) into object metadata.
_SECRET_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "cookie",
        "signature",
    }
)
_METADATA_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_META_SUFFIX = ".meta"  # LocalArchive keeps metadata beside the page: <request_id>.json.meta
# The branch every non-page object lives under; pages start with a platform name, never this.
OBJECTS_BRANCH = "objects"


class ArchiveError(RuntimeError):
    """An archive operation failed; the message names the bucket/folder and the key."""


class ArchiveNotFoundError(ArchiveError, FileNotFoundError):
    """The object asked for is not in the archive."""


class ArchiveConflictError(ArchiveError):
    """A different body was put under a request id the archive already holds."""


def page_key(prefix: str, platform: str, day: date, request_id: str) -> str:
    """The object key of one page: ``<prefix>/<platform>/<YYYY-MM-DD>/<request_id>.json``."""
    return "/".join(
        part for part in (prefix.strip("/"), day_prefix(platform, day), f"{request_id}.json") if part
    )


def day_prefix(platform: str, day: date) -> str:
    _check_segment("platform", platform)
    if not isinstance(day, date):
        raise TypeError(f"archive: day must be a datetime.date, got {type(day).__name__} {day!r}")
    return f"{platform}/{day.isoformat()}"


def object_key(key: str) -> str:
    """The checked path of a non-page object below the archive root: ``objects/<key>``.

    ``key`` is ``/``-separated safe segments (``labelers/thelai_customers.v3/ab12/labeler.json``);
    an empty segment, ``..`` or a character outside letters, digits, ``.``, ``_`` and ``-`` is refused.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"archive: object key must be a non-empty string, got {key!r}")
    for segment in key.split("/"):
        _check_segment(f"object key {key!r} segment", segment)
    return f"{OBJECTS_BRANCH}/{key}"


def _check_segment(name: str, value: str) -> None:
    if not isinstance(value, str) or not _SEGMENT.match(value) or set(value) == {"."}:
        raise ValueError(
            f"archive: {name} {value!r} is not a safe key segment "
            "(letters, digits, '.', '_' and '-' only, starting with a letter or digit, at most 200 chars)"
        )


def _as_bytes(body: str | bytes) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    raise TypeError(f"archive: body must be str or bytes, got {type(body).__name__}")


def _clean_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Validate metadata names and values; refuse anything that looks like a credential."""
    cleaned: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise ValueError(
                f"archive: metadata name {name!r} must be lower-case letters, digits, '_' or '-' (at most 64 chars)"
            )
        if _SECRET_WORDS.intersection(re.split(r"[_-]", name)):
            raise ValueError(
                f"archive: metadata name {name!r} looks like a credential; secrets never go into archive metadata"
            )
        if not isinstance(value, str):
            raise TypeError(f"archive: metadata {name!r} must be a string, got {type(value).__name__}")
        cleaned[name] = value
    return cleaned


class RawArchive(dg.ConfigurableResource):
    """Write-once store of raw response pages; see the module docstring for the layout.

    Assets annotate the parameter as ``RawArchive`` and the binding decides which one runs.
    """

    @abstractmethod
    def put_page(
        self,
        platform: str,
        day: date,
        request_id: str,
        body: str | bytes,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Store one page (idempotent) and return its URI."""

    @abstractmethod
    def get_page(self, uri: str) -> bytes:
        """The stored bytes of the page at ``uri``; ``ArchiveNotFoundError`` if absent."""

    @abstractmethod
    def get_metadata(self, uri: str) -> dict[str, str]:
        """The metadata stored with the page at ``uri``."""

    @abstractmethod
    def list_day(self, platform: str, day: date) -> list[str]:
        """URIs of every page of ``platform`` on ``day``, sorted."""

    @abstractmethod
    def put_object(self, key: str, body: str | bytes, metadata: Mapping[str, str] | None = None) -> str:
        """Store one non-page object under ``objects/<key>``, write-once like a page; return its URI."""

    @abstractmethod
    def get_object(self, key: str) -> bytes:
        """The stored bytes of the object put under ``key``; ``ArchiveNotFoundError`` if absent."""

    @abstractmethod
    def list_objects(self, prefix: str) -> list[str]:
        """The keys (as given to ``put_object``) of every object under ``prefix``, sorted."""

    @abstractmethod
    def replace_page(self, uri: str, body: str | bytes) -> None:
        """Erasure only: overwrite the existing page at ``uri`` (metadata kept); never used to ingest."""

    @abstractmethod
    def replace_object(self, key: str, body: str | bytes) -> None:
        """Erasure only: overwrite the existing object ``key`` (metadata kept); never used to ingest."""


class LocalArchive(RawArchive):
    """The archive as a folder: the embedded default, and what tests use.

    Writes go to a temporary file first and are published with a hard link, which fails if
    the name exists: a crash never leaves half a page, and two writers of the same request
    cannot both win.
    """

    root: str = Field(description="Archive folder (the binding chooses <SCOUT_DATA_DIR>/raw_archive).")

    def root_path(self) -> Path:
        return Path(self.root)

    def put_page(
        self,
        platform: str,
        day: date,
        request_id: str,
        body: str | bytes,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        _check_segment("request_id", request_id)
        target = self.root_path() / day_prefix(platform, day) / f"{request_id}.json"
        return self._put(target, body, metadata, f"request_id {request_id!r}")

    def put_object(self, key: str, body: str | bytes, metadata: Mapping[str, str] | None = None) -> str:
        target = self.root_path() / object_key(key)
        return self._put(target, body, metadata, f"object key {key!r}")

    def get_object(self, key: str) -> bytes:
        path = self.root_path() / object_key(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ArchiveNotFoundError(f"archive {self.root_path()}: no object at {path}") from None

    def list_objects(self, prefix: str) -> list[str]:
        folder = self.root_path() / OBJECTS_BRANCH
        start = self.root_path() / object_key(prefix.strip("/")) if prefix.strip("/") else folder
        if not start.is_dir():
            return []
        return sorted(
            path.relative_to(folder).as_posix()
            for path in start.rglob("*")
            if path.is_file() and not path.name.endswith(_META_SUFFIX) and not path.name.startswith(".tmp-")
        )

    def replace_page(self, uri: str, body: str | bytes) -> None:
        self._replace(self._path_of(uri), body)

    def replace_object(self, key: str, body: str | bytes) -> None:
        self._replace(self.root_path() / object_key(key), body)

    def _replace(self, target: Path, body: str | bytes) -> None:
        """Atomically overwrite an existing file (a reader sees the old or the new body, never half)."""
        if not target.is_file():
            raise ArchiveNotFoundError(f"archive {self.root_path()}: nothing to replace at {target}")
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_as_bytes(body))
        os.replace(tmp, target)

    def _put(self, target: Path, body: str | bytes, metadata: Mapping[str, str] | None, what: str) -> str:
        """Publish ``body`` (and its metadata) at ``target`` once; the same body again is a no-op."""
        data, meta = _as_bytes(body), _clean_metadata(metadata)
        target.parent.mkdir(parents=True, exist_ok=True)
        if _publish(target, data):
            _publish(target.with_name(target.name + _META_SUFFIX), json.dumps(meta, sort_keys=True).encode())
        elif target.read_bytes() != data:
            raise ArchiveConflictError(
                f"archive {self.root_path()}: {target.relative_to(self.root_path())} already holds a different body "
                f"for {what}; archived objects are never rewritten"
            )
        return target.resolve().as_uri()

    def get_page(self, uri: str) -> bytes:
        path = self._path_of(uri)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ArchiveNotFoundError(f"archive {self.root_path()}: no page at {path}") from None

    def get_metadata(self, uri: str) -> dict[str, str]:
        path = self._path_of(uri)
        meta = path.with_name(path.name + _META_SUFFIX)
        if not path.exists():
            raise ArchiveNotFoundError(f"archive {self.root_path()}: no page at {path}")
        return json.loads(meta.read_text()) if meta.exists() else {}

    def list_day(self, platform: str, day: date) -> list[str]:
        folder = self.root_path() / day_prefix(platform, day)
        return sorted(path.resolve().as_uri() for path in folder.glob("*.json")) if folder.is_dir() else []

    def _path_of(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise ValueError(f"archive {self.root_path()}: {uri!r} is not a file:// URI")
        return Path(unquote(parsed.path))


def _publish(target: Path, data: bytes) -> bool:
    """Create ``target`` with ``data`` atomically; False (and no change) if it already exists."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


class S3Archive(RawArchive):
    """The archive in an S3 bucket (or any S3-compatible store via ``endpoint_url``).

    boto3 is used directly rather than dagster-aws's ``S3Resource``: that resource carries
    access-key fields, and this one must have nowhere to put a secret. The client retries
    throttling and 5xx answers itself (botocore "standard" mode). Writes are conditional
    (``If-None-Match: *``), so an existing page is never overwritten even by two concurrent
    runs; a store that ignores the condition still receives the same bytes for the same id.
    """

    bucket: str = Field(description="Bucket name (bind with EnvVar('SCOUT_ARCHIVE_BUCKET')).")
    prefix: str = Field(default="scout/raw", description="Key prefix inside the bucket.")
    endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, moto); unset: AWS."
    )
    region_name: str = Field(default="us-east-1", description="AWS region of the bucket.")
    max_attempts: int = Field(
        default=5, gt=0, description="botocore attempts per request (standard retry mode)."
    )
    list_page_size: int = Field(
        default=1000, gt=0, le=1000, description="Keys per LIST request (S3 answers at most 1000)."
    )

    _client: Any = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = None  # a fresh client per run process; boto3 clients do not survive fork

    def put_page(
        self,
        platform: str,
        day: date,
        request_id: str,
        body: str | bytes,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        _check_segment("request_id", request_id)
        key = page_key(self.prefix, platform, day, request_id)
        return self._put(key, body, metadata, "application/json", f"request_id {request_id!r}")

    def put_object(self, key: str, body: str | bytes, metadata: Mapping[str, str] | None = None) -> str:
        full = self._object_key(key)
        return self._put(full, body, metadata, "application/octet-stream", f"object key {key!r}")

    def get_object(self, key: str) -> bytes:
        return self._read(self._object_key(key))

    def _object_key(self, key: str) -> str:
        return "/".join(part for part in (self.prefix.strip("/"), object_key(key)) if part)

    def list_objects(self, prefix: str) -> list[str]:
        root = "/".join(part for part in (self.prefix.strip("/"), OBJECTS_BRANCH) if part) + "/"
        branch = self._object_key(prefix.strip("/")) + "/" if prefix.strip("/") else root
        return sorted(key[len(root) :] for key in self._list_keys(branch))

    def replace_page(self, uri: str, body: str | bytes) -> None:
        self._replace(self._key_of(uri), body)

    def replace_object(self, key: str, body: str | bytes) -> None:
        self._replace(self._object_key(key), body)

    def _replace(self, key: str, body: str | bytes) -> None:
        """Overwrite ``key`` keeping its metadata, then drop its older versions (versioned buckets)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._read_error(key, exc) from exc
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=_as_bytes(body),
                ContentType=head.get("ContentType", "application/octet-stream"),
                Metadata=head.get("Metadata", {}),
            )
            versions = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
            for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                # Versions written before versioning was enabled have the id "null": deleted too.
                if version["Key"] == key and not version.get("IsLatest"):
                    self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version["VersionId"])
        except Exception as exc:
            raise ArchiveError(f"archive: replacing {self._where(key)} failed: {_describe(exc)}") from exc

    def _list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.list_page_size}
            ):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        except Exception as exc:
            raise ArchiveError(f"archive: listing {self._where(prefix)} failed: {_describe(exc)}") from exc
        return keys

    def _put(
        self, key: str, body: str | bytes, metadata: Mapping[str, str] | None, content_type: str, what: str
    ) -> str:
        """Conditionally create ``key``; the same body again is a no-op, a different one a conflict."""
        data, meta = _as_bytes(body), _clean_metadata(metadata)
        # S3 user metadata travels in HTTP headers, which must be ASCII: percent-encode values
        # (a keyword like "café" would otherwise fail the upload).
        encoded = {name: quote(value, safe=" -_.~:/@+,;=") for name, value in meta.items()}
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata=encoded,
                IfNoneMatch="*",
            )
        except Exception as exc:
            if _error_code(exc) not in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                raise ArchiveError(f"archive: put to {self._where(key)} failed: {_describe(exc)}") from exc
            if self._read(key) != data:
                raise ArchiveConflictError(
                    f"archive: {self._where(key)} already holds a different body for {what}; "
                    "archived objects are never rewritten"
                ) from None
        return f"s3://{self.bucket}/{key}"

    def get_page(self, uri: str) -> bytes:
        return self._read(self._key_of(uri))

    def get_metadata(self, uri: str) -> dict[str, str]:
        key = self._key_of(uri)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._read_error(key, exc) from exc
        return {name: unquote(value) for name, value in head.get("Metadata", {}).items()}

    def list_day(self, platform: str, day: date) -> list[str]:
        folder = "/".join(part for part in (self.prefix.strip("/"), day_prefix(platform, day)) if part) + "/"
        return sorted(f"s3://{self.bucket}/{key}" for key in self._list_keys(folder) if key.endswith(".json"))

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"max_attempts": self.max_attempts, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                # Custom endpoints (MinIO, moto, an IP) rarely resolve bucket sub-domains.
                s3={"addressing_style": "path"} if self.endpoint_url else None,
            )
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region_name, config=config
            )
        return self._client

    def _read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise self._read_error(key, exc) from exc

    def _read_error(self, key: str, exc: Exception) -> ArchiveError:
        if _error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
            return ArchiveNotFoundError(f"archive: no object at {self._where(key)}")
        return ArchiveError(f"archive: reading {self._where(key)} failed: {_describe(exc)}")

    def _where(self, key: str) -> str:
        return f"bucket {self.bucket!r}, key {key!r}"

    def _key_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or parsed.netloc != self.bucket or not parsed.path.lstrip("/"):
            raise ValueError(f"archive: {uri!r} is not an s3:// URI of bucket {self.bucket!r}")
        return parsed.path.lstrip("/")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _describe(exc: Exception) -> str:
    """Class and message of a boto error; botocore messages carry no credentials."""
    return f"{type(exc).__name__}: {exc}"
