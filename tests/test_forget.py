"""Erasure: ``scout forget`` removes one person from everything Scout holds, and keeps them out.

The end-to-end proof plants a person with the real chain, once per warehouse (module scope): the
sandbox search (``raw_searches`` → ``profiles`` → ``has_scores`` → ``profiles_to_score``), a label,
a review and a lead state, a real dbt run of every model, and a real ``lead_exports``
materialization. DuckDB runs with the local archive and export folder, PostgreSQL with the S3
archive on moto's server (a real S3 protocol over loopback; only the credentials are fake). Then
``scout forget`` runs through the CLI entry point, and every relation of every schema, every
archive object and every export file is searched for the person's id, handle, name and bio. A new
search that the sandbox answers with the same page proves they are dropped at ingest.

The fast tests cover the parts on their own: the scrub over every recorded wire shape, the key,
the archive's erasure-only overwrite (a versioned bucket keeps no old version) and export files.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest

from resources.archive import LocalArchive, RawArchive, S3Archive
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.raw_pages import profiles_from_page
from resources.platforms.scrub import scrub_json, scrub_page
from resources.platforms.twitter import TwitterSearch
from resources.warehouse import Warehouse
from scout_assets.assets.lead_exports import lead_exports
from scout_assets.config_files import ConfigFiles
from scout_assets.lead_export_target import LeadExportTarget
from scout_assets.partitions import partition_key, today_utc
from scout_assets.suppression_list import SuppressionList
from scout_cli.main import main
from scout_contract.suppression import SuppressionKeyError, account_hash, load_or_create_key
from scout_leads.erasure import Person
from scout_leads.erasure_files import mention_pattern, without_account
from tests import infra_fixtures
from tests.conftest import postgres_database
from tests.dbt_fixtures import rows, run_dbt
from tests.pipeline_support import FAST_RETRIES, MAIN_ASSETS, assets, budgets_resource

moto_endpoint = infra_fixtures.moto_endpoint  # shared fixtures, re-exported for this module
aws_env = infra_fixtures.aws_env
FIXTURES = Path(__file__).parent / "fixtures"
AUDIENCE = "ux_research_leads.v1"
KEY = "test-suppression-key-0123456789abcdef"
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")


# --- the scrub, on every recorded wire shape ------------------------------------------------------


def _recorded_pages() -> list[tuple[str, str, str, str | None]]:
    """(fixture, platform, search payload, hydration payload) of every recorded page with users."""
    pages = [
        (path.name, "twitter", path.read_text(), None)
        for path in sorted((FIXTURES / "twitter").glob("*.json"))
    ]
    for path in sorted((FIXTURES / "bluesky").glob("searchActors*.json")):
        pages.append((path.name, "bluesky", path.read_text(), None))
    for path in sorted((FIXTURES / "bluesky").glob("getProfiles*.json")):
        body = json.loads(path.read_text())
        views = body.get("response", body)["profiles"]
        pages.append((path.name, "bluesky", json.dumps({"actors": views}), json.dumps([body])))
    return pages


@pytest.mark.parametrize(
    ("name", "platform", "payload", "hydration"), _recorded_pages(), ids=lambda v: str(v)[:40]
)
def test_a_scrubbed_page_still_parses_to_the_same_rows_minus_the_account(name, platform, payload, hydration):
    before = profiles_from_page(platform, "k", payload, hydration).rows
    assert before, f"{name} holds no profile"
    victim = before[len(before) // 2]
    page = scrub_page(platform, "k", payload, hydration, [victim["platform_id"]])
    after = profiles_from_page(platform, "k", page.payload, page.hydration_payload).rows
    assert [r["platform_id"] for r in after] == [
        r["platform_id"] for r in before if r["platform_id"] != victim["platform_id"]
    ]
    assert victim["platform_id"] not in page.payload + (page.hydration_payload or "")
    untouched = scrub_page(platform, "k", payload, hydration, ["no-such-account"])
    assert (untouched.payload, untouched.removed) == (payload, 0)  # byte for byte


def test_an_envelope_holding_only_the_account_becomes_an_empty_page():
    body = (FIXTURES / "twitter" / "x-graphql.UserByScreenName.2026-08.no-legacy.twscrape.json").read_text()
    [user] = profiles_from_page("twitter", "k", body, None).rows
    cleaned = scrub_json("twitter", body, [user["platform_id"]])
    assert json.loads(cleaned.text) == {"data": []} and cleaned.removed == 1


# --- the key ------------------------------------------------------------------------------------------


def test_the_default_key_is_generated_once_private_and_stable(tmp_path: Path):
    path = tmp_path / "data" / "suppression.key"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == first and len(first) >= 32
    expected = hmac.new(first, b"twitter:42", hashlib.sha256).hexdigest()
    assert account_hash(first, "twitter", "42") == expected != account_hash(first, "bluesky", "42")
    path.write_text("short\n")
    with pytest.raises(SuppressionKeyError, match=r"suppression key file .* at least 16 characters") as error:
        load_or_create_key(path)
    assert "short" not in str(error.value)  # a key, even a bad one, is never echoed


# --- the archive's erasure-only overwrite and export files -------------------------------------------


def test_local_replace_overwrites_only_what_exists(tmp_path: Path):
    archive = LocalArchive(root=str(tmp_path))
    uri = archive.put_page("twitter", today_utc(), "r1", '{"data": [1]}', {"keyword": "k"})
    archive.put_object("exports/a/b/leads.csv", b"x")
    archive.replace_page(uri, '{"data": []}')
    archive.replace_object("exports/a/b/leads.csv", b"y")
    assert archive.get_page(uri) == b'{"data": []}' and archive.get_metadata(uri) == {"keyword": "k"}
    assert archive.list_objects("exports") == ["exports/a/b/leads.csv"]
    assert archive.get_object("exports/a/b/leads.csv") == b"y"
    with pytest.raises(FileNotFoundError):
        archive.replace_object("exports/none.csv", b"z")


def test_s3_replace_leaves_no_old_version_in_a_versioned_bucket(moto_endpoint: str, aws_env: None):
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="scout-versioned")
    s3.put_bucket_versioning(Bucket="scout-versioned", VersioningConfiguration={"Status": "Enabled"})
    archive = S3Archive(bucket="scout-versioned", endpoint_url=moto_endpoint)
    uri = archive.put_page(
        "bluesky", today_utc(), "r1", '{"actors": [{"did": "did:plc:x"}]}', {"keyword": "k"}
    )
    archive.replace_page(uri, '{"actors": []}')
    key = uri.split("scout-versioned/", 1)[1]
    versions = s3.list_object_versions(Bucket="scout-versioned", Prefix=key).get("Versions", [])
    assert len(versions) == 1 and archive.get_page(uri) == b'{"actors": []}'
    assert archive.get_metadata(uri) == {"keyword": "k"}


def test_export_files_lose_the_accounts_rows_in_every_format():
    frame = pl.DataFrame({"platform": ["twitter", "twitter", "bluesky"], "platform_id": ["1", "2", "1"]})
    parquet = io.BytesIO()
    frame.write_parquet(parquet)
    jsonl = "".join(json.dumps(row) + "\n" for row in frame.iter_rows(named=True)).encode()
    for suffix, data in (
        (".csv", frame.write_csv().encode()),
        (".parquet", parquet.getvalue()),
        (".jsonl", jsonl),
    ):
        cleaned = without_account(data, suffix, "twitter", ["1"])
        assert cleaned is not None, suffix
        if suffix == ".parquet":
            kept = pl.read_parquet(io.BytesIO(cleaned))
        elif suffix == ".csv":
            kept = pl.read_csv(io.BytesIO(cleaned), infer_schema=False)
        else:
            kept = pl.DataFrame([json.loads(line) for line in cleaned.decode().splitlines()])
        assert kept.rows() == [("twitter", "2"), ("bluesky", "1")], suffix
        assert without_account(data, suffix, "twitter", ["9"]) is None


def test_mentions_are_whole_words_only():
    pattern = mention_pattern(["123", "ana", "did:plc:abc"])
    assert pattern is not None
    assert pattern.search("@Ana said") and pattern.search("at://did:plc:abc/app.bsky.feed.post/1")
    assert not pattern.search("anabel 91234 did:plc:abcd")
    # Free text of other people is cleared only for an id, @handle or the handle alone, never a word.
    person = Person("twitter", ("123",), ("john", "jo"))
    assert person.mentioned_in("ask @John") and person.mentioned_in(" JO ") and person.mentioned_in("id 123")
    assert not person.mentioned_in("john loves research") and not person.mentioned_in("jo-ann")


# --- the end-to-end proof ----------------------------------------------------------------------------


@dataclass
class Planted:
    warehouse: Warehouse
    archive: RawArchive
    data_dir: Path
    bucket: str | None
    endpoint: str
    person: dict
    resources: dict
    monkeypatch: pytest.MonkeyPatch
    key: bytes


def _write_keywords(path: Path, keyword: str) -> None:
    path.write_text(f"keyword,platforms,tags,enabled\n{keyword},twitter,,true\n")


def _search(planted: Planted) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets(MAIN_ASSETS),
        partition_key=partition_key(today_utc(), "twitter"),
        resources=planted.resources,
        run_config={"ops": {"raw_searches": {"config": {"keywords_per_run": 1, "pages_per_keyword": 1}}}},
    )


def _pick_person(warehouse: Warehouse) -> dict:
    """A queued account whose name and bio appear in no other profile, so "found nothing" means something."""
    frame = warehouse.read(
        "select p.platform_id, p.handle, p.name, p.bio from profiles p "
        "join profiles_to_score q on q.platform = p.platform and q.platform_id = p.platform_id "
        "where p.bio is not null and length(p.name) >= 5 order by p.platform_id"
    )
    everyone = warehouse.read("select platform_id, handle, name, bio from profiles")
    for row in frame.iter_rows(named=True):
        others = everyone.filter(pl.col("platform_id") != row["platform_id"])
        text = " ".join(str(v) for r in others.iter_rows() for v in r).lower()
        if all(str(row[c]).lower() not in text for c in ("handle", "name", "bio")):
            return row
    raise AssertionError("no queued account with a unique name and bio")


def _plant_person_rows(warehouse: Warehouse, person: dict) -> None:
    """A label, a review and a lead state: what makes the account a lead the export carries."""
    ident = {"platform": "twitter", "platform_id": person["platform_id"], "handle": person["handle"]}
    now = datetime.now().replace(microsecond=0)
    warehouse.append(
        "llm_labels",
        rows(
            "llm_labels",
            {
                **ident,
                "model": "local-minilm",
                "model_id": "test/planted",
                "audience": AUDIENCE,
                "audience_hash": "h",
                "partition_date": today_utc(),
                "label": True,
                "reason": f"{person['name']} does user research",
                "labeled_at": now,
                "deferred": False,
            },
        ),
    )
    warehouse.append(
        "reviews",
        rows(
            "reviews",
            {
                **ident,
                "review_id": "rv-planted",
                "name": person["name"],
                "bio": person["bio"],
                "audience": AUDIENCE,
                "audience_hash": "h",
                "label": True,
                "reason": "checked",
                "reviewer": "ana",
                "source": "cli",
                "reviewed_at": now,
            },
        ),
    )
    warehouse.append(
        "lead_events",
        rows(
            "lead_events",
            {
                **ident,
                "event_id": "le-planted",
                "audience": AUDIENCE,
                "from_state": "reviewed",
                "state": "contacted",
                "note": f"DM'd @{person['handle']}",
                "set_by": "ana",
                "source": "cli",
                "set_at": now,
            },
        ),
    )


def _export(planted: Planted) -> None:
    assert dg.materialize(
        [lead_exports],
        partition_key=dg.MultiPartitionKey({"date": today_utc().isoformat(), "audience": AUDIENCE}),
        resources={
            "warehouse": planted.warehouse,
            "archive": planted.archive,
            "lead_export_target": LeadExportTarget(
                folder=str(planted.data_dir / "exports"), marts_schema="analytics"
            ),
        },
    ).success


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("duckdb", id="duckdb-local"),
        pytest.param("postgres", id="postgres-s3", marks=pytest.mark.postgres),
    ],
)
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    from scout_sandbox import SandboxServer

    work = tmp_path_factory.mktemp(f"forget-{request.param}")
    data_dir = work / "data"
    data_dir.mkdir()
    with (
        pytest.MonkeyPatch.context() as mp,
        SandboxServer() as sandbox,
        _database(request.param, work) as url,
    ):
        warehouse = Warehouse(url=url)
        warehouse.ensure_schema()
        keyword_file = work / "keywords.csv"
        _write_keywords(keyword_file, "ux research")
        mp.setenv("SCOUT_DATA_DIR", str(data_dir))
        mp.setenv("SCOUT_WAREHOUSE_URL", url)
        mp.setenv("SCOUT_KEYWORD_FILE", str(keyword_file))
        endpoint: str = request.getfixturevalue("moto_endpoint")
        for name, value in {  # fake credentials, as tests/infra_fixtures.py's aws_env sets them
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": infra_fixtures.FAKE_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(work / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials"),
        }.items():
            mp.setenv(name, value)
        bucket = None
        if request.param == "postgres":  # the S3 archive, and the key from the environment
            bucket = "scout-forget"
            boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
            archive: RawArchive = S3Archive(bucket=bucket, endpoint_url=endpoint)
            mp.setenv("SCOUT_ARCHIVE_BUCKET", bucket)
            mp.setenv("SCOUT_S3_ENDPOINT_URL", endpoint)
            mp.setenv("SCOUT_SUPPRESSION_KEY", KEY)
            suppression = SuppressionList.in_data_dir(data_dir, KEY)
        else:  # the local archive, and the key file generated in the data folder
            archive = LocalArchive(root=str(data_dir / "raw_archive"))
            mp.delenv("SCOUT_SUPPRESSION_KEY", raising=False)
            suppression = SuppressionList.in_data_dir(data_dir)
        resources = {
            "warehouse": warehouse,
            "archive": archive,
            "twitter": TwitterSearch(base_url=sandbox.base_url, **FAST_RETRIES),
            "bluesky": BlueskySearch(base_url=sandbox.base_url, **FAST_RETRIES),
            "config_files": ConfigFiles(keyword_file=str(keyword_file)),
            "budgets": budgets_resource(),
            "suppression": suppression,
        }
        planted = Planted(warehouse, archive, data_dir, bucket, endpoint, {}, resources, mp, b"")
        assert _search(planted).success
        planted.person = _pick_person(warehouse)
        _plant_person_rows(warehouse, planted.person)
        run_dbt(url, work / "dbt", "run")
        _export(planted)
        yield planted


def _database(kind: str, work: Path):
    if kind == "postgres":
        return postgres_database()
    from contextlib import nullcontext

    return nullcontext(f"duckdb://{work / 'scout.duckdb'}")


def _needles(person: dict) -> re.Pattern[str]:
    values = [person["platform_id"], person["handle"], person["name"], person["bio"]]
    return re.compile("|".join(rf"(?<![\w.-]){re.escape(v)}(?![\w-])" for v in values), re.IGNORECASE)


def _warehouse_hits(warehouse: Warehouse, needles: re.Pattern[str]) -> list[str]:
    """Every relation of every schema (tables and views), dumped as text, searched."""
    relations = warehouse.read(
        "select table_schema as s, table_name as t from information_schema.tables order by 1, 2"
    )
    hits = []
    with warehouse.transaction() as tx:  # one connection for the whole dump
        for schema, name in relations.iter_rows():
            if schema in SYSTEM_SCHEMAS or schema.startswith("pg_"):
                continue
            frame = tx.read(f'select * from "{schema}"."{name}"')
            text = frame.cast({c: pl.String for c in frame.columns}).write_csv() if frame.height else ""
            if needles.search(text):
                hits.append(f"{schema}.{name}")
    return hits


def _decoded(name: str, data: bytes) -> str:
    if name.endswith(".parquet"):
        frame = pl.read_parquet(io.BytesIO(data))
        return frame.cast({c: pl.String for c in frame.columns}).write_csv()
    return data.decode("utf-8", errors="replace")


def _file_hits(planted: Planted, needles: re.Pattern[str]) -> list[str]:
    """Every file of the data folder (archive, exports) and every object of the bucket, searched."""
    hits = [
        str(path)
        for path in sorted(planted.data_dir.rglob("*"))
        if path.is_file()
        and path.name != "suppression.key"
        and needles.search(_decoded(path.name, path.read_bytes()))
    ]
    if planted.bucket:
        s3 = boto3.client("s3", endpoint_url=planted.endpoint, region_name="us-east-1")
        for item in s3.list_objects_v2(Bucket=planted.bucket).get("Contents", []):
            body = s3.get_object(Bucket=planted.bucket, Key=item["Key"])["Body"].read()
            if needles.search(_decoded(item["Key"], body)):
                hits.append(f"s3://{planted.bucket}/{item['Key']}")
    return hits


@pytest.mark.slow
def test_forget_erases_the_person_everywhere_and_a_new_search_does_not_bring_them_back(
    planted: Planted, capsys: pytest.CaptureFixture[str]
):
    person, warehouse = planted.person, planted.warehouse
    needles = _needles(person)
    # Planted where it matters: the tables, the marts, the raw archive and the export.
    before = _warehouse_hits(warehouse, needles)
    assert {"profiles", "raw_searches", "reviews"} <= {name.split(".")[-1] for name in before}
    assert any(name.startswith("analytics.mart_audience_leads") for name in before)
    files = _file_hits(planted, needles)
    assert any("exports" in name and name.endswith(".parquet") for name in files)
    assert sum("raw" in name for name in files) >= 1

    # A first attempt whose archive is unreachable: reported, the warehouse keeps the person.
    planted.monkeypatch.setenv("SCOUT_ARCHIVE_BUCKET", "no-such-bucket")
    planted.monkeypatch.setenv("SCOUT_S3_ENDPOINT_URL", planted.endpoint)
    assert main(["forget", "twitter", f"@{person['handle'].upper()}", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "archive pages:" in err and "warehouse: not touched" in err
    assert "profiles" in {name.split(".")[-1] for name in _warehouse_hits(warehouse, needles)}
    if planted.bucket:
        planted.monkeypatch.setenv("SCOUT_ARCHIVE_BUCKET", planted.bucket)
        planted.monkeypatch.setenv("SCOUT_S3_ENDPOINT_URL", planted.endpoint)
    else:
        planted.monkeypatch.delenv("SCOUT_ARCHIVE_BUCKET")
        planted.monkeypatch.delenv("SCOUT_S3_ENDPOINT_URL")

    # Running it again completes the erasure.
    assert main(["forget", "twitter", person["handle"], "--yes"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "suppressed" in out and "archive pages 0" not in out
    assert _warehouse_hits(warehouse, needles) == []
    assert _file_hits(planted, needles) == []

    # The records hold only the keyed hash (no plain id or handle: the searches above cover them).
    key = (
        KEY.encode()
        if planted.bucket
        else (planted.data_dir / "suppression.key").read_text().strip().encode()
    )
    expected = account_hash(key, "twitter", person["platform_id"])
    assert warehouse.read("select account_hash from suppressions")["account_hash"].to_list() == [expected]
    log = warehouse.read("select status, account_hash, rows_deleted from erasure_log order by erased_at")
    assert log["status"].to_list() == ["partial", "complete"] and set(log["account_hash"]) == {expected}
    assert log["rows_deleted"].to_list()[-1] > 0

    # Forgetting twice is fine: by id, found through the suppression list.
    assert main(["forget", "twitter", person["platform_id"], "--yes"]) == 0
    capsys.readouterr()

    # The same search again (another spelling: the sandbox answers the same first page): dropped at ingest.
    keyword_file = Path(planted.resources["config_files"].keyword_file)
    _write_keywords(keyword_file, "UX Research")
    result = _search(planted)
    assert result.success
    [event] = result.asset_materializations_for_node("raw_searches")
    assert event.metadata["suppressed_accounts_dropped"].value == 1
    assert event.metadata["pages_fetched"].value == 1
    assert _warehouse_hits(warehouse, needles) == []
    assert _file_hits(planted, needles) == []


@pytest.mark.slow
def test_an_unknown_account_is_refused_naming_it(planted: Planted, capsys: pytest.CaptureFixture[str]):
    assert main(["forget", "twitter", "nobody_by_this_name", "--yes"]) == 2
    assert "'nobody_by_this_name': not found" in capsys.readouterr().err
