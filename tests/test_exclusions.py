"""Do-not-contact exclusions: the rule, the audit trail, the CLI, and the proof that an excluded
account in the labeling queue costs no model call (the real ``llm_labels`` asset against the
loopback LLM server, on DuckDB and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from resources.warehouse import Warehouse
from scout_assets.labeling.queue import Route, pending_units
from scout_assets.partitions import today_utc
from scout_cli.main import main
from scout_contract.exclusions import Exclusion, ExclusionError, check_entry, entry_matches, normalize_value
from scout_leads.exclusions import add_exclusion, entries, refresh_excluded_accounts, remove_exclusion
from tests.dbt_fixtures import run_dbt
from tests.llm_server import FakeLLMServer
from tests.test_cascade import AUDIENCE, FIRST, LOCAL, asked, defer_all, handles, label_run, queue_profiles

T0 = datetime(2026, 3, 1, 12, 0, 0)

PROFILES = pl.DataFrame(
    {
        "platform": ["twitter", "twitter", "twitter", "twitter", "twitter", "bluesky"],
        "platform_id": ["1", "2", "3", "4", "5", "6"],
        "handle": ["Acme_CEO", "jo", "sam", "kim", "lee", "acme_ceo"],
        "name": ["Ann", "Jo at ACME Corp", "Sam", "Kim", "Lee", "Ann"],
        "bio": [
            "founder",
            "research",
            "mail me: sam@Acme.com",
            "see https://blog.acme.com/post",
            "notacme.com and acme.community fan",
            "founder",
        ],
    }
)


def entry(kind: str, value: str, platform: str = "twitter") -> Exclusion:
    return Exclusion("e1", platform, kind, normalize_value(kind, value), "why", "tester", T0)


def matched(kind: str, value: str) -> list[str]:
    hits = PROFILES.filter(entry_matches(entry(kind, value), PROFILES))
    return sorted(hits["platform_id"].to_list())


def test_each_kind_matches_only_its_accounts_on_its_platform() -> None:
    assert matched("handle", "@acme_ceo") == ["1"]  # case-insensitive; bluesky's acme_ceo is not twitter's
    assert matched("account", "2") == ["2"]
    assert matched("org", "acme corp") == ["2"]
    assert matched("domain", "https://www.ACME.com/") == ["3", "4"]  # e-mail and subdomain, not notacme.com
    assert matched("bio_pattern", r"\bfound(er|ing)\b") == ["1"]


def test_bad_entries_are_refused_naming_the_field() -> None:
    with pytest.raises(ExclusionError, match=r"bio_pattern: .* not a valid regular expression"):
        check_entry("twitter", "bio_pattern", "(unclosed", "why", "me")
    with pytest.raises(ExclusionError, match="bio_pattern: 201 characters, at most 200"):
        check_entry("twitter", "bio_pattern", "a" * 201, "why", "me")
    with pytest.raises(ExclusionError, match="domain: 'acme' is not a web domain"):
        check_entry("twitter", "domain", "acme", "why", "me")
    with pytest.raises(ExclusionError, match="platform: 'myspace'"):
        check_entry("myspace", "handle", "jo", "why", "me")
    with pytest.raises(ExclusionError, match="reason: required"):
        check_entry("twitter", "handle", "jo", "  ", "me")
    with pytest.raises(ExclusionError, match="by: "):
        check_entry("twitter", "handle", "jo", "why", "")


def test_add_and_remove_are_audited_and_refreshing_is_idempotent(warehouse: Warehouse) -> None:
    ids = queue_profiles(warehouse, 3)
    first, _ = add_exclusion(warehouse, "twitter", "handle", f"USER{ids[0]}", "asked us", "ann")
    second, hits = add_exclusion(warehouse, "twitter", "account", "999", "legal", "bob")
    assert hits == 1  # an account id is excluded before it is ever seen
    rows = warehouse.read("select platform_id, exclusion_id from excluded_accounts order by platform_id")
    assert rows.rows() == [(ids[0], first), ("999", second)]
    refresh_excluded_accounts(warehouse)
    assert warehouse.read("select count(*) as n from excluded_accounts").item() == 2
    removed = remove_exclusion(warehouse, first, "consent given", "cy")
    assert removed.value == f"user{ids[0]}"
    assert [e.exclusion_id for e in entries(warehouse)] == [second]
    assert warehouse.read("select platform_id from excluded_accounts")["platform_id"].to_list() == ["999"]
    trail = warehouse.read(
        "select exclusion_id, action, actor, reason from exclusion_events order by event_at"
    )
    assert trail.rows() == [
        (first, "add", "ann", "asked us"),
        (second, "add", "bob", "legal"),
        (first, "remove", "cy", "consent given"),
    ]
    with pytest.raises(ExclusionError, match="no such active entry"):
        remove_exclusion(warehouse, first, "again", "cy")


def test_an_excluded_account_in_the_queue_gets_no_model_call(warehouse: Warehouse) -> None:
    """Excluded by handle, and by a bio pattern added before the account was ever seen: both are
    queued and deferred by the local labeler, yet the LLM server never sees them; the others are labeled."""
    add_exclusion(warehouse, "twitter", "bio_pattern", r"(?i)do not contact", "asked us", "ann")
    kept = queue_profiles(warehouse, 3)
    by_handle = queue_profiles(warehouse, 1, start=100)
    add_exclusion(warehouse, "twitter", "handle", f"user{by_handle[0]}", "unsubscribed", "ann")
    by_pattern = queue_profiles(warehouse, 1, start=200, bio="qualitative researcher. DO NOT CONTACT")
    defer_all(warehouse, kept + by_handle + by_pattern, label=True)
    pending = pending_units(warehouse, today_utc(), Route(FIRST, LOCAL), AUDIENCE, relabel=False)
    assert set(pending["platform_id"]) == set(kept + by_pattern)  # the pattern's match is not refreshed yet
    with FakeLLMServer("good") as server:
        assert label_run(warehouse, FIRST, {FIRST: server}).success
        assert server.requests  # the non-excluded ones were sent
        assert asked(server) == handles(kept)
    labeled = warehouse.read("select platform_id from llm_labels where model = $1", [FIRST])
    assert set(labeled["platform_id"]) == set(kept)


@pytest.fixture
def bound(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("SCOUT_WAREHOUSE_URL", warehouse.url)
    monkeypatch.delenv("SCOUT_REVIEWER", raising=False)
    monkeypatch.setenv("USER", "tester")
    return warehouse


def test_cli_adds_lists_and_removes(bound: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    queue_profiles(bound, 2, bio="works at acme.com")
    code = main(["exclude", "add", "--platform", "twitter", "--domain", "acme.com", "--reason", "client"])
    assert code == 0
    out = capsys.readouterr().out
    assert "excludes 2 known account(s) now" in out
    exclusion_id = out.split("added exclusion ")[1].split(":")[0]
    assert main(["exclude", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split("\t")[:6] == [exclusion_id, "twitter", "domain", "acme.com", "2", "tester"]
    bad = ["exclude", "add", "--platform", "twitter", "--bio-pattern", "([", "--reason", "x"]
    assert main(bad) == 2
    assert "bio_pattern:" in capsys.readouterr().err
    assert main(["exclude", "remove", exclusion_id, "--reason", "ended", "--by", "ann"]) == 0
    assert bound.read("select count(*) as n from excluded_accounts").item() == 0
    assert main(["exclude", "remove", exclusion_id, "--reason", "again"]) == 2
    assert bound.read("select count(*) as n from exclusion_events").item() == 2


def test_no_event_is_written_for_a_refused_entry(warehouse: Warehouse) -> None:
    with pytest.raises(ExclusionError):
        add_exclusion(warehouse, "twitter", "bio_pattern", "(a", "why", "ann")
    assert warehouse.read("select count(*) as n from exclusion_events").item() == 0


def test_dbt_staging_model_lists_the_excluded_accounts(warehouse: Warehouse, tmp_path) -> None:
    """``stg_excluded_accounts`` (read by the lead marts and exports) has exactly the table's matches."""
    ids = queue_profiles(warehouse, 3, bio="works at acme.com")
    exclusion_id, _ = add_exclusion(warehouse, "twitter", "domain", "acme.com", "client", "ann")
    other, _ = add_exclusion(warehouse, "bluesky", "account", "b1", "asked us", "ann")
    run_dbt(warehouse.url, tmp_path, "build", "--select", "stg_excluded_accounts")
    staged = warehouse.read(
        "select platform, platform_id, exclusion_id, reason from analytics.stg_excluded_accounts "
        "order by platform, platform_id"
    )
    assert staged.rows() == [
        ("bluesky", "b1", other, "asked us"),
        *[("twitter", pid, exclusion_id, "client") for pid in sorted(ids)],
    ]
