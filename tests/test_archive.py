"""The raw-response archive: a local folder and a real S3-compatible server.

S3 cases run against ``moto_server`` (moto[server], a dev dependency) started as a separate
process on 127.0.0.1 (tests/infra_fixtures.py): boto3 talks real HTTP to it, signatures,
conditional writes and pagination included. Only the credentials are fake, set through the
standard AWS variables.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import boto3
import dagster as dg
import pytest

from resources.archive import (
    ArchiveConflictError,
    ArchiveError,
    ArchiveNotFoundError,
    LocalArchive,
    RawArchive,
    S3Archive,
    object_key,
    page_key,
)
from scout_assets.resources_binding import build_archive
from tests import infra_fixtures

DAY = date(2026, 3, 1)
FAKE_SECRET = infra_fixtures.FAKE_SECRET
moto_endpoint = infra_fixtures.moto_endpoint  # shared fixtures, re-exported for this module
aws_env = infra_fixtures.aws_env


@pytest.fixture(scope="module")
def s3_endpoint(moto_endpoint: str) -> str:
    return moto_endpoint


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: None, request: pytest.FixtureRequest) -> str:
    """A fresh bucket per test (moto keeps state for the whole server's life)."""
    name = f"scout-{request.node.name.lower()}"[:40].replace("_", "-").replace("[", "-").replace("]", "")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_archive(bucket: str, s3_endpoint: str) -> S3Archive:
    return S3Archive(bucket=bucket, endpoint_url=s3_endpoint)


def _object_keys(endpoint: str, bucket: str) -> list[str]:
    listed = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


# --- key layout and input checks (both implementations) -----------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("scout/raw", "scout/raw/twitter/2026-03-01/req-1.json"),
        ("/scout/raw/", "scout/raw/twitter/2026-03-01/req-1.json"),
        ("", "twitter/2026-03-01/req-1.json"),
    ],
)
def test_page_key_layout(prefix: str, expected: str) -> None:
    assert page_key(prefix, "twitter", DAY, "req-1") == expected


@pytest.mark.parametrize(
    ("platform", "request_id", "field"),
    [
        ("../etc", "ok", "platform"),
        ("twitter", "a/b", "request_id"),
        ("twitter", "..", "request_id"),
        ("", "ok", "platform"),
        ("twitter", "", "request_id"),
    ],
)
def test_unsafe_segments_are_refused_with_the_field_named(
    tmp_path: Path, platform: str, request_id: str, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        LocalArchive(root=str(tmp_path)).put_page(platform, DAY, request_id, "{}")
    assert not any(tmp_path.rglob("*.json"))


def test_day_must_be_a_date(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="day"):
        LocalArchive(root=str(tmp_path)).put_page("twitter", "2026-03-01", "req-1", "{}")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["api_key", "x-rapidapi-key", "authorization", "access_token", "password"])
def test_credential_like_metadata_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        LocalArchive(root=str(tmp_path)).put_page("twitter", DAY, "req-1", "{}", {name: "value"})
    assert not any(tmp_path.rglob("*.json"))


def test_ordinary_metadata_names_containing_key_like_letters_are_allowed(tmp_path: Path) -> None:
    archive = LocalArchive(root=str(tmp_path))
    uri = archive.put_page("twitter", DAY, "req-1", "{}", {"keyword": "ai safety", "monkey": "x"})
    assert archive.get_metadata(uri) == {"keyword": "ai safety", "monkey": "x"}


# --- LocalArchive ---------------------------------------------------------------------------


def test_local_round_trip(tmp_path: Path) -> None:
    archive = LocalArchive(root=str(tmp_path / "arch"))
    body = '{"data": [{"rest_id": "1"}], "cursor": "c2"}'
    uri = archive.put_page("twitter", DAY, "req-1", body, {"keyword": "café", "page": "1"})
    other = archive.put_page("twitter", date(2026, 3, 2), "req-2", b"{}")
    archive.put_page("bluesky", DAY, "req-3", b"{}")

    assert uri == (tmp_path / "arch/twitter/2026-03-01/req-1.json").resolve().as_uri()
    assert archive.get_page(uri) == body.encode()
    assert archive.get_metadata(uri) == {"keyword": "café", "page": "1"}
    assert archive.list_day("twitter", DAY) == [uri]
    assert archive.list_day("twitter", date(2026, 3, 2)) == [other]
    assert archive.list_day("twitter", date(2026, 3, 3)) == []


def test_local_put_is_idempotent_and_never_rewrites(tmp_path: Path) -> None:
    archive = LocalArchive(root=str(tmp_path))
    first = archive.put_page("twitter", DAY, "req-1", '{"v": 1}')
    assert archive.put_page("twitter", DAY, "req-1", b'{"v": 1}') == first
    assert archive.list_day("twitter", DAY) == [first]

    with pytest.raises(ArchiveConflictError, match=r"twitter/2026-03-01/req-1\.json"):
        archive.put_page("twitter", DAY, "req-1", '{"v": 2}')
    assert archive.get_page(first) == b'{"v": 1}'
    assert not list(tmp_path.rglob(".tmp-*")), "temporary files must not be left behind"


def test_local_missing_page_names_the_path(tmp_path: Path) -> None:
    archive = LocalArchive(root=str(tmp_path))
    missing = (tmp_path / "twitter/2026-03-01/nope.json").as_uri()
    with pytest.raises(ArchiveNotFoundError, match=r"nope\.json"):
        archive.get_page(missing)
    with pytest.raises(ValueError, match="file://"):
        archive.get_page("s3://bucket/key.json")


def test_local_default_root_is_under_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCOUT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SCOUT_ARCHIVE_BUCKET", raising=False)
    monkeypatch.delenv("SCOUT_ARCHIVE_DIR", raising=False)
    uri = build_archive().put_page("bluesky", DAY, "req-1", "{}")
    assert uri == (tmp_path / "data/raw_archive/bluesky/2026-03-01/req-1.json").resolve().as_uri()


# --- S3Archive against moto_server --------------------------------------------------------


def test_s3_round_trip(s3_archive: S3Archive, s3_endpoint: str, bucket: str) -> None:
    body = '{"data": [{"rest_id": "1"}], "cursor": "c2"}'
    uri = s3_archive.put_page("twitter", DAY, "req-1", body, {"keyword": "café ☕ 100%", "page": "1"})
    other_day = s3_archive.put_page("twitter", date(2026, 3, 2), "req-2", b"{}")
    other_platform = s3_archive.put_page("bluesky", DAY, "req-3", b"{}")

    assert uri == f"s3://{bucket}/scout/raw/twitter/2026-03-01/req-1.json"
    assert s3_archive.get_page(uri) == body.encode()
    # Non-ASCII metadata survives the ASCII-only header round trip.
    assert s3_archive.get_metadata(uri) == {"keyword": "café ☕ 100%", "page": "1"}
    assert s3_archive.list_day("twitter", DAY) == [uri]
    assert s3_archive.list_day("twitter", date(2026, 3, 2)) == [other_day]
    assert s3_archive.list_day("bluesky", DAY) == [other_platform]
    assert _object_keys(s3_endpoint, bucket) == [
        "scout/raw/bluesky/2026-03-01/req-3.json",
        "scout/raw/twitter/2026-03-01/req-1.json",
        "scout/raw/twitter/2026-03-02/req-2.json",
    ]


def test_s3_put_is_idempotent_and_never_rewrites(
    s3_archive: S3Archive, s3_endpoint: str, bucket: str
) -> None:
    first = s3_archive.put_page("twitter", DAY, "req-1", '{"v": 1}', {"page": "1"})
    assert s3_archive.put_page("twitter", DAY, "req-1", b'{"v": 1}', {"page": "1"}) == first
    assert _object_keys(s3_endpoint, bucket) == ["scout/raw/twitter/2026-03-01/req-1.json"]

    with pytest.raises(ArchiveConflictError) as caught:
        s3_archive.put_page("twitter", DAY, "req-1", '{"v": 2}')
    assert bucket in str(caught.value) and "scout/raw/twitter/2026-03-01/req-1.json" in str(caught.value)
    assert s3_archive.get_page(first) == b'{"v": 1}'


def test_s3_missing_object_names_bucket_and_key(s3_archive: S3Archive, bucket: str) -> None:
    key = "scout/raw/twitter/2026-03-01/absent.json"
    with pytest.raises(ArchiveNotFoundError) as caught:
        s3_archive.get_page(f"s3://{bucket}/{key}")
    assert repr(bucket) in str(caught.value) and repr(key) in str(caught.value)
    with pytest.raises(ArchiveNotFoundError, match=r"absent\.json"):
        s3_archive.get_metadata(f"s3://{bucket}/{key}")


def test_s3_missing_bucket_names_the_bucket_and_hides_credentials(s3_endpoint: str, aws_env: None) -> None:
    archive = S3Archive(bucket="scout-no-such-bucket", endpoint_url=s3_endpoint, max_attempts=1)
    with pytest.raises(ArchiveError) as caught:
        archive.put_page("twitter", DAY, "req-1", "{}")
    message = str(caught.value)
    assert "scout-no-such-bucket" in message and "req-1.json" in message
    assert FAKE_SECRET not in message
    assert FAKE_SECRET not in repr(archive)


def test_s3_refuses_uris_of_another_bucket(s3_archive: S3Archive, bucket: str) -> None:
    with pytest.raises(ValueError, match=bucket):
        s3_archive.get_page("s3://someone-elses-bucket/scout/raw/twitter/2026-03-01/req-1.json")


def test_s3_list_day_follows_pagination(s3_endpoint: str, bucket: str) -> None:
    archive = S3Archive(bucket=bucket, endpoint_url=s3_endpoint, prefix="p", list_page_size=2)
    uris = [archive.put_page("twitter", DAY, f"req-{i}", "{}") for i in range(5)]
    archive.put_page("twitter", date(2026, 3, 2), "req-x", "{}")
    assert archive.list_day("twitter", DAY) == sorted(uris)


def test_s3_archive_has_no_field_that_could_hold_a_secret() -> None:
    # Credentials come from the AWS chain only; a key field would invite putting one in run config.
    fields = set(S3Archive.model_fields)
    assert not {
        name for name in fields if any(word in name for word in ("key", "secret", "token", "password"))
    }


# --- non-page objects (fitted labelers), on both implementations ----------------------------

WEIGHTS = bytes(range(256)) * 4  # binary, not UTF-8: objects are bytes, not JSON text


@pytest.fixture(params=["local", "s3"])
def any_archive(request: pytest.FixtureRequest, tmp_path: Path) -> RawArchive:
    """The same object tests on a folder and on the moto S3 server."""
    if request.param == "local":
        return LocalArchive(root=str(tmp_path / "arch"))
    return request.getfixturevalue("s3_archive")


def test_object_round_trip_keeps_bytes_and_stays_apart_from_pages(any_archive: RawArchive) -> None:
    key = "labelers/thelai_customers.v3/fit1/weights.npz"
    uri = any_archive.put_object(key, WEIGHTS, {"fit-id": "fit1"})
    any_archive.put_object("labelers/thelai_customers.v3/fit1/labeler.json", '{"v": 1}')
    page = any_archive.put_page("twitter", DAY, "req-1", "{}")

    assert uri.endswith("/objects/labelers/thelai_customers.v3/fit1/weights.npz")
    assert any_archive.get_object(key) == WEIGHTS
    assert any_archive.get_object("labelers/thelai_customers.v3/fit1/labeler.json") == b'{"v": 1}'
    # Objects live under their own branch: a day's page listing never sees them.
    assert any_archive.list_day("twitter", DAY) == [page]


def test_object_put_is_idempotent_and_never_rewrites(any_archive: RawArchive) -> None:
    key = "labelers/a.v1/fit1/weights.npz"
    first = any_archive.put_object(key, WEIGHTS)
    assert any_archive.put_object(key, WEIGHTS) == first  # a retried run changes nothing

    with pytest.raises(ArchiveConflictError, match=r"labelers/a\.v1/fit1/weights\.npz"):
        any_archive.put_object(key, WEIGHTS[::-1])
    assert any_archive.get_object(key) == WEIGHTS


def test_missing_object_names_its_key(any_archive: RawArchive) -> None:
    with pytest.raises(ArchiveNotFoundError, match=r"labelers/a\.v1/nope/labeler\.json"):
        any_archive.get_object("labelers/a.v1/nope/labeler.json")


@pytest.mark.parametrize("key", ["", "labelers//x", "../etc/passwd", "labelers/../x", "a/b c", "/abs"])
def test_unsafe_object_keys_are_refused_before_anything_is_written(tmp_path: Path, key: str) -> None:
    archive = LocalArchive(root=str(tmp_path))
    with pytest.raises(ValueError, match="object key"):
        archive.put_object(key, b"x")
    with pytest.raises(ValueError, match="object key"):
        archive.get_object(key)
    assert not any(tmp_path.rglob("*"))


def test_object_metadata_refuses_credentials_like_pages(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="api_key"):
        LocalArchive(root=str(tmp_path)).put_object("labelers/a.v1/f/labeler.json", b"{}", {"api_key": "x"})
    assert not any(tmp_path.rglob("labeler.json"))


def test_object_key_layout() -> None:
    assert object_key("labelers/a.v1/f/weights.npz") == "objects/labelers/a.v1/f/weights.npz"


def test_s3_object_key_sits_under_the_prefix(s3_archive: S3Archive, s3_endpoint: str, bucket: str) -> None:
    s3_archive.put_object("labelers/a.v1/f/weights.npz", WEIGHTS)
    assert _object_keys(s3_endpoint, bucket) == ["scout/raw/objects/labelers/a.v1/f/weights.npz"]


# --- inside Dagster ----------------------------------------------------------------------------


@dg.asset
def archived_page(archive: RawArchive) -> dg.MaterializeResult:
    uri = archive.put_page("bluesky", DAY, "req-dagster", '{"actors": []}', {"keyword": "rust"})
    return dg.MaterializeResult(
        metadata={"uri": uri, "pages_that_day": len(archive.list_day("bluesky", DAY))}
    )


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_assets_take_either_archive_through_the_base_type(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    archive: RawArchive = (
        LocalArchive(root=str(tmp_path)) if kind == "local" else request.getfixturevalue("s3_archive")
    )
    result = dg.materialize([archived_page], resources={"archive": archive})
    assert result.success
    metadata = result.asset_materializations_for_node("archived_page")[0].metadata
    uri = metadata["uri"].value
    assert uri.startswith("file://" if kind == "local" else "s3://")
    assert metadata["pages_that_day"].value == 1
    assert archive.get_page(uri) == b'{"actors": []}'


# --- choosing the archive from the environment ---------------------------------------------


def test_build_archive_defaults_to_a_local_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SCOUT_ARCHIVE_BUCKET", "SCOUT_ARCHIVE_DIR"):
        monkeypatch.delenv(name, raising=False)
    archive = build_archive()
    assert isinstance(archive, LocalArchive) and archive.root_path().name == "raw_archive"


def test_build_archive_uses_s3_when_a_bucket_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOUT_ARCHIVE_BUCKET", "scout-prod-raw")
    monkeypatch.setenv("SCOUT_ARCHIVE_PREFIX", "raw/v1")
    monkeypatch.setenv("SCOUT_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    archive = build_archive()
    assert isinstance(archive, S3Archive)
    assert (archive.bucket, archive.prefix, archive.endpoint_url, archive.region_name) == (
        "scout-prod-raw",
        "raw/v1",
        "http://minio:9000",
        "eu-west-1",
    )
