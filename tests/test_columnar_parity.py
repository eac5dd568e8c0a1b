"""The columnar page parser gives exactly what the per-row parser gives, row for row and error for error.

``stored_pages.rowwise_appearances`` (every page through ``raw_pages.profiles_from_page``) is the
reference; ``columnar.columnar_appearances`` must return frames equal to it (same rows, order,
types, values, and the same ``quarantined_rows`` entries) on every recorded fixture, on pages the
real sandbox serves in every X shape and for Bluesky, on the body of every sandbox fault mode,
and on hand-made variants of the values the readers treat specially. Where the columnar path is
supposed to do the work itself, the tests also check that it did (``pages_columnar``), so a
parser that referred every page to the reference could not pass. The last tests run the
``profiles`` asset on DuckDB and PostgreSQL and compare its tables with a run of the reference.
"""

from __future__ import annotations

import copy
import http.client
import json
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from resources.platforms.columnar import columnar_appearances
from resources.platforms.parser_version import PARSER_VERSION
from resources.platforms.stored_pages import rowwise_appearances
from scout_assets import spill
from scout_assets.assets import profiles_day
from scout_assets.page_store import append_pages
from scout_assets.partitions import partition_key
from scout_contract.tables import polars_schema, table
from scout_sandbox import FAULT_KINDS, SHAPE_HEADER, Fault, SandboxServer
from scout_sandbox import bluesky_wire as sandbox_bluesky
from scout_sandbox import twitter_wire as sandbox_twitter
from scout_sandbox.replies import encode_json
from scout_sandbox.synthetic import sketch
from tests.pipeline_support import assets

FIXTURES = Path(__file__).parent / "fixtures"
DAY = date(2026, 11, 30)
KW = "postdoc"
X_SEARCH, BSKY_SEARCH, BSKY_PROFILES = (
    "/api/search/people",
    "/xrpc/app.bsky.actor.searchActors",
    "/xrpc/app.bsky.actor.getProfiles",
)
PAGE_SCHEMA = {
    "request_id": pl.String,
    "keyword": pl.String,
    "page": pl.Int64,
    "payload": pl.String,
    "hydration_payload": pl.String,
    "fetched_at": pl.Datetime("us"),
}


def pages_frame(bodies: list[tuple[str, str | None]]) -> pl.DataFrame:
    """Stored pages in day order, one per (payload, hydration_payload)."""
    return pl.DataFrame(
        [
            {
                "request_id": f"req-{i:04d}",
                "keyword": KW,
                "page": i,
                "payload": payload,
                "hydration_payload": hydration,
                "fetched_at": datetime(2026, 11, 30, 9, i // 60, i % 60),
            }
            for i, (payload, hydration) in enumerate(bodies)
        ],
        schema=PAGE_SCHEMA,
    )


def assert_parity(platform: str, bodies: list[tuple[str, str | None]]) -> dict[str, int]:
    """Both parsers on the same pages; equal frames, or the test fails. Returns the counters."""
    pages = pages_frame(bodies)
    expected_rows, expected_held = rowwise_appearances(pages, DAY, platform)
    counters: dict[str, int] = {}
    rows, held = columnar_appearances(pages, DAY, platform, counters)
    assert_frame_equal(rows, expected_rows)
    assert_frame_equal(held, expected_held)
    assert counters["pages_columnar"] + counters["pages_referred"] == pages.height
    return counters


def x_page(users: list, cursor: str | None = "c1") -> str:
    return json.dumps({"data": users, "cursor": cursor})


def bluesky_page(index: int, size: int = 5) -> tuple[str, str]:
    """A sandbox-rendered searchActors body and its stored getProfiles array."""
    profiles = [sketch("bluesky", index * size + i) for i in range(size)]
    search = encode_json({"actors": [sandbox_bluesky.profile_view(p) for p in profiles], "cursor": "5"})
    detailed = encode_json({"profiles": [sandbox_bluesky.profile_view_detailed(p) for p in profiles]})
    return search.decode(), f"[{detailed.decode()}]"


# --- recorded fixtures ----------------------------------------------------------------------------


def _users_in(node: object) -> Iterator[dict]:
    """Every X User object in a recorded response, wherever its envelope put it."""
    if isinstance(node, dict):
        if (
            node.get("__typename", "User") == "User"
            and "rest_id" in node
            and ("legacy" in node or "core" in node)
        ):
            yield node
            return
        for value in node.values():
            yield from _users_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _users_in(value)


def test_every_recorded_x_response_and_its_users_parse_alike() -> None:
    files = sorted((FIXTURES / "twitter").glob("*.json"))
    recorded = [(path.read_text(), None) for path in files]
    users = [user for path in files for user in _users_in(json.loads(path.read_text()))]
    # The same users re-enveloped as the people search the columnar path reads: one page per
    # recorded user (every shape alone) and one page with all of them (shapes mixed).
    searches = [(x_page([user]), None) for user in users] + [(x_page(users), None)]
    counters = assert_parity("twitter", recorded + searches)
    assert len(users) >= 6 and counters["pages_columnar"] >= len(users)


def test_every_recorded_bluesky_search_with_every_recorded_profiles_body_parses_alike() -> None:
    files = sorted((FIXTURES / "bluesky").glob("*.json"))
    # Verbatim (pretty-printed: one page cannot be one line, so the reference reads it) and
    # compact, as the AppView sends it (so the columnar path reads the recorded shapes).
    texts = {p.name: p.read_text() for p in files}
    texts |= {
        f"compact {name}": json.dumps(json.loads(text), ensure_ascii=False) for name, text in texts.items()
    }
    searches = [text for name, text in texts.items() if "searchActors" in name or "getSuggestions" in name]
    bodies = [text for name, text in texts.items() if "getProfile" in name]
    pages = [(search, None) for search in searches]
    pages += [(search, f"[{body}]") for search in searches for body in bodies]
    pages += [(search, "[" + ",".join(bodies) + "]") for search in searches]
    counters = assert_parity("bluesky", pages)
    assert counters["pages_columnar"] >= len(searches)  # compact, plain getProfiles bodies: column-wise


# --- the sandbox over HTTP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """One sandbox for the module (faults are reset after each use)."""
    with SandboxServer() as server:
        yield server


def raw_get(sandbox: SandboxServer, path: str, params: list[tuple[str, str]], headers=None) -> str | None:
    """The body exactly as sent (no decompression, whatever the status), or None without an answer."""
    address = urlsplit(sandbox.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
    try:
        connection.request("GET", f"{path}?{urlencode(params)}", headers=headers or {})
        return connection.getresponse().read().decode("utf-8", errors="replace")
    except (ConnectionError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def x_body(sandbox: SandboxServer, shape: str = "mixed", keyword: str = KW) -> str | None:
    return raw_get(sandbox, X_SEARCH, [("keyword", keyword), ("count", "20")], {SHAPE_HEADER: shape})


def bluesky_body(sandbox: SandboxServer, keyword: str = KW) -> tuple[str | None, str | None]:
    """A searchActors body and the stored array of the getProfiles bodies for its DIDs."""
    search = raw_get(sandbox, BSKY_SEARCH, [("q", keyword), ("limit", "25")])
    try:
        dids = [actor["did"] for actor in json.loads(search or "")["actors"] if isinstance(actor, dict)]
    except (ValueError, KeyError, TypeError):
        return search, None
    dids = [did for did in dids if isinstance(did, str)]
    bodies = [
        raw_get(sandbox, BSKY_PROFILES, [("actors", d) for d in dids[i : i + 25]])
        for i in range(0, len(dids), 25)
    ]
    return search, "[" + ",".join(b for b in bodies if b is not None) + "]"


@pytest.mark.parametrize("shape", ["legacy", "transitional", "core", "mixed"])
def test_sandbox_x_pages_of_every_shape_are_read_column_wise_and_alike(sandbox, shape) -> None:
    bodies = [(x_body(sandbox, shape, keyword), None) for keyword in ("postdoc", "ethnography", "data")]
    counters = assert_parity("twitter", bodies)
    assert counters == {"pages_columnar": 3, "pages_referred": 0}


def test_sandbox_bluesky_pages_are_read_column_wise_and_alike(sandbox) -> None:
    bodies = [bluesky_body(sandbox, keyword) for keyword in ("postdoc", "ethnography", "data")]
    counters = assert_parity("bluesky", bodies)
    assert counters == {"pages_columnar": 3, "pages_referred": 0}


# Each fault mode with parameters that keep the test fast; every kind is here (checked below).
FAULTS: dict[str, Fault] = {
    "rate_limit": Fault.rate_limit(retry_after=0),
    "server_error": Fault.server_error(502),
    "timeout": Fault.timeout(0.05),
    "truncated": Fault.truncated(),
    "malformed": Fault.malformed(),
    "empty": Fault.empty(),
    "bad_rows": Fault.bad_rows(rows=8),
    "hostile_text": Fault.hostile_text(rows=3),
    "bad_encoding": Fault.bad_encoding("gzip"),
    "drip": Fault.drip(chunk=4096, interval=0.001, seconds=10),
    "repeating_cursor": Fault.repeating_cursor("same", requests=1),
    "huge_page": Fault.huge_page(rows=120),
    "huge_field": Fault.huge_field(size=5_000, rows=2),
    "oversized": Fault.oversized(size=200_000),
    "down": Fault.down(requests=1, mode="status"),
}


def test_the_fault_table_covers_every_sandbox_fault_kind() -> None:
    assert set(FAULTS) == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_every_fault_mode_parses_alike_among_clean_pages(sandbox, kind) -> None:
    """The faulty body sits between clean pages: the clean ones stay column-wise, the faulty one
    (a page of bad rows, hostile text, an error page, half a body...) gives the reference's result."""
    try:
        sandbox.inject(X_SEARCH, FAULTS[kind])
        faulty_x = x_body(sandbox, "mixed", "postdoc")
        sandbox.reset()
        sandbox.inject(BSKY_SEARCH, FAULTS[kind])
        faulty_search = bluesky_body(sandbox, "postdoc")
        sandbox.reset()
        sandbox.inject(BSKY_PROFILES, FAULTS[kind])
        faulty_profiles = bluesky_body(sandbox, "postdoc")
    finally:
        sandbox.reset()
    clean_x = [(x_body(sandbox, "mixed", k), None) for k in ("ethnography", "data")]
    clean_bluesky = [bluesky_body(sandbox, k) for k in ("ethnography", "data")]
    x_pages = [clean_x[0], *([(faulty_x, None)] if faulty_x is not None else []), clean_x[1]]
    x_counters = assert_parity("twitter", x_pages)
    faulty_bluesky = [page for page in (faulty_search, faulty_profiles) if page[0] is not None]
    bluesky_counters = assert_parity("bluesky", [clean_bluesky[0], *faulty_bluesky, clean_bluesky[1]])
    assert x_counters["pages_columnar"] >= 2 and bluesky_counters["pages_columnar"] >= 2


def test_a_connection_reset_leaves_no_body_to_store(sandbox) -> None:
    """``down`` in reset mode answers nothing, so no page of it is ever stored or parsed."""
    sandbox.inject(X_SEARCH, Fault.down(requests=1, mode="reset"))
    try:
        assert x_body(sandbox) is None
    finally:
        sandbox.reset()


# --- values the readers treat specially -----------------------------------------------------------


def _set(keys: tuple[str, ...], value: object) -> Callable[[dict], None]:
    def change(user: dict) -> None:
        node = user
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value

    return change


def _legacy_or_core(key: str, value: object) -> Callable[[dict], None]:
    def change(user: dict) -> None:
        (user.get("core") or user["legacy"])[key] = value

    return change


def _counts(value: object) -> Callable[[dict], None]:
    def change(user: dict) -> None:
        if "legacy" in user:
            user["legacy"]["followers_count"] = value
        else:
            user["relationship_counts"]["followers"] = value

    return change


def _bio(value: object) -> Callable[[dict], None]:
    def change(user: dict) -> None:
        if "profile_bio" in user:
            user["profile_bio"]["description"] = value
        if "legacy" in user:
            user["legacy"]["description"] = value

    return change


X_VARIANTS: dict[str, Callable[[dict], None]] = {
    "count as digit string": _counts("4821"),
    "count as integral float": _counts(12.0),
    "count as fraction": _counts(1.5),
    "count negative": _counts(-3),
    "count as boolean": _counts(True),
    "count abbreviated": _counts("1.2K"),
    "count beyond 64 bits": _counts(2**70),
    "blue check as string": _set(("is_blue_verified",), "true"),
    "blue check as number": _set(("is_blue_verified",), 1),
    "name with CRLF, tab and line separator": _legacy_or_core("name", "Ana\r\nMaria\tRuiz\u2028Jr"),
    "name a number": _legacy_or_core("name", 12),
    "name decomposed (not NFC)": _legacy_or_core("name", "Jose\u0301"),
    "name over its cap": _legacy_or_core("name", "n" * 201),
    "name blank": _legacy_or_core("name", "   "),
    "name with a bidi override": _legacy_or_core("name", "abc\u202edef"),
    "name with a lone surrogate": _legacy_or_core("name", "Bad\ud800Name"),
    "bio with quotes, commas, tabs and newlines": _bio(' "quoted", it\'s\ta\nbio\\ '),
    "bio of only deleted characters": _bio(",,\"'"),
    "bio with emoji and accents": _bio("Doctoranda \U0001f9ea en Ciencias — ñandú"),
    "created_at ISO with fraction": _legacy_or_core("created_at", "2019-03-04T05:06:07.123456Z"),
    "created_at ISO without zone": _legacy_or_core("created_at", "2019-03-04T05:06:07"),
    "created_at ISO with an offset": _legacy_or_core("created_at", "2019-03-04T05:06:07+02:00"),
    "created_at impossible day": _legacy_or_core("created_at", "Sat Feb 30 04:35:55 +0000 2013"),
    "created_at epoch seconds": _legacy_or_core("created_at", 1_600_000_000),
    "created_at year 0": _legacy_or_core("created_at", "0000-01-01T00:00:00"),
    "handle with a control character": _legacy_or_core("screen_name", "bad\x07handle"),
    "handle missing": _legacy_or_core("screen_name", None),
    "id as a number": _set(("rest_id",), 12345),
    "id blank": _set(("rest_id",), " "),
    "category list empty": _set(("professional",), {"category": []}),
    "category first null": _set(("professional",), {"category": [None]}),
    "category name with commas": _set(("professional",), {"category": [{"name": "Science, Tech"}]}),
    "avatar of the default image": _set(("avatar",), {"image_url": "https://x/default_profile_images/a.png"}),
    "empty core block": _set(("core",), {}),
    "suspended account": lambda user: user.update({"__typename": "UserUnavailable"}),
}


def _x_user(index: int, shape: str) -> dict:
    return copy.deepcopy(sandbox_twitter.user_result(sketch("twitter", index), shape))


@pytest.mark.parametrize("shape", ["legacy", "transitional", "core"])
def test_x_value_variants_parse_alike(shape) -> None:
    pages = []
    for i, change in enumerate(X_VARIANTS.values()):
        users = [_x_user(100 * i + j, shape) for j in range(3)]
        change(users[1])
        pages.append((encode_json({"data": users, "cursor": "c"}).decode(), None))
    duplicate = _x_user(7, shape)
    pages.append((x_page([duplicate, _x_user(8, shape), duplicate]), None))  # the first of an id wins
    pages.append((x_page([]), None))
    pages.append((x_page([_x_user(9, shape)], cursor="bad\x00cursor"), None))
    counters = assert_parity("twitter", pages)
    assert counters["pages_columnar"] >= 10  # the plain variants stay column-wise


BLUESKY_VARIANTS: dict[str, Callable[[dict, dict], None]] = {
    "display name blank": lambda a, d: d.update(displayName="  "),
    "display name missing everywhere": lambda a, d: (a.pop("displayName", None), d.pop("displayName", None)),
    "createdAt unreadable, indexedAt used": lambda a, d: d.update(createdAt="sometime last year"),
    "createdAt missing": lambda a, d: (a.pop("createdAt", None), d.pop("createdAt", None)),
    "count as digit string": lambda a, d: d.update(followersCount="12"),
    "count abbreviated": lambda a, d: d.update(followersCount="1.2K"),
    "sensitive label": lambda a, d: d.update(labels=[{"val": "porn", "src": "did:plc:x"}]),
    "negated sensitive label": lambda a, d: d.update(labels=[{"val": "porn", "neg": True}]),
    "negation as a string": lambda a, d: d.update(labels=[{"val": "porn", "neg": "true"}]),
    "label value a number": lambda a, d: d.update(labels=[{"val": 5}]),
    "no labels at all": lambda a, d: (a.pop("labels", None), d.pop("labels", None)),
    "verification valid": lambda a, d: d.update(verification={"verifiedStatus": "valid"}),
    "verification empty": lambda a, d: d.update(verification={}),
    "verification status a number": lambda a, d: d.update(verification={"verifiedStatus": 1}),
    "chat open to all": lambda a, d: d.update(associated={"chat": {"allowIncoming": "all"}}),
    "chat following only": lambda a, d: d.update(associated={"chat": {"allowIncoming": "following"}}),
    "avatar empty": lambda a, d: (a.update(avatar=""), d.update(avatar="")),
    "avatar a number": lambda a, d: d.update(avatar=3),
    "detail without a handle": lambda a, d: d.pop("handle"),
    "bio with a NUL": lambda a, d: d.update(description="a\x00b"),
}


def test_bluesky_value_variants_parse_alike() -> None:
    pages = []
    for i, change in enumerate(BLUESKY_VARIANTS.values()):
        profiles = [sketch("bluesky", 100 * i + j) for j in range(3)]
        actors = [sandbox_bluesky.profile_view(p) for p in profiles]
        detailed = [sandbox_bluesky.profile_view_detailed(p) for p in profiles]
        change(actors[1], detailed[1])
        search = encode_json({"actors": actors}).decode()
        pages.append((search, "[" + encode_json({"profiles": detailed}).decode() + "]"))
    search, hydration = bluesky_page(50)
    pages.append((search, None))  # no hydration: counts unknown
    pages.append((search, "[]"))
    duplicated = json.loads(search)
    duplicated["actors"].append(duplicated["actors"][0])
    pages.append((json.dumps(duplicated), hydration))
    counters = assert_parity("bluesky", pages)
    assert counters["pages_columnar"] >= 10


def test_an_undecodable_page_costs_only_itself_in_a_batch() -> None:
    users = [_x_user(i, "mixed") for i in range(40)]
    pages = [(x_page(users[i : i + 4]), None) for i in range(0, 40, 4)]
    pages.insert(5, (x_page(users[:4])[:-30], None))  # half a body
    pages.insert(2, (json.dumps({"data": [users[0], "oops"], "cursor": None}), None))  # a row that is text
    counters = assert_parity("twitter", pages)
    assert counters == {"pages_columnar": 10, "pages_referred": 2}


def test_polars_trims_exactly_the_whitespace_python_trims() -> None:
    """The predecessor's rule trims with ``str.strip``; the columnar path with ``strip_chars``.

    Control characters are left out: both paths delete them (or refer the row) before trimming,
    and Python alone counts U+001C..U+001F as whitespace.
    """
    characters = [
        chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cc"
    ]
    padded = [f"{c}x{c}" for c in characters]
    trimmed = pl.Series(padded).str.strip_chars().to_list()
    assert [i for i, (p, t) in enumerate(zip(padded, trimmed, strict=True)) if p.strip() != t] == []


# --- the profiles asset, both paths, on both warehouses ------------------------------------------


def _store(warehouse, platform: str, bodies: list[tuple[str, str | None]]) -> None:
    spec = table("raw_searches")
    frame = pages_frame(bodies).with_columns(
        pl.lit(platform).alias("platform"),
        pl.lit(DAY).alias("partition_date"),
        pl.lit(200).alias("status"),
        pl.lit(6).alias("result_count"),  # sizes the account buckets (spill.BUCKET_ROWS)
    )
    frame = frame.with_columns(pl.lit(None).alias(c) for c in spec.column_names if c not in frame.columns)
    warehouse.append("raw_searches", frame.select(spec.column_names).cast(polars_schema(spec.columns)))


def _partition_tables(warehouse, platform: str) -> dict[str, pl.DataFrame]:
    tables = {}
    for name in ("profile_snapshots", "profile_sightings", "quarantined_rows"):
        frame = warehouse.read(
            f"select * from {name} where partition_date = $1 and platform = $2", [DAY, platform]
        )
        tables[name] = frame.sort(frame.columns)
    current = warehouse.read("select * from profiles where platform = $1", [platform])
    tables["profiles"] = current.sort("platform_id")
    return tables


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_the_profiles_asset_writes_the_same_rows_through_both_parsers(
    warehouse, monkeypatch, platform
) -> None:
    """Pages with bad rows, hostile text and an undecodable body among clean ones, streamed three
    pages a batch: the columnar run (the asset as deployed) and the per-row run leave every table
    of the partition identical."""
    if platform == "twitter":
        users = [_x_user(i, "mixed") for i in range(60)]
        bodies = [(x_page(users[i : i + 6]), None) for i in range(0, 60, 6)]
        spoiled = copy.deepcopy(users[:6])
        X_VARIANTS["count abbreviated"](spoiled[0])
        X_VARIANTS["name with a lone surrogate"](spoiled[1])
        X_VARIANTS["handle missing"](spoiled[2])
        bodies += [(encode_json({"data": spoiled}).decode(), None), ("{not json", None)]
    else:
        bodies = [bluesky_page(i) for i in range(10)]
        search, hydration = bluesky_page(3)
        bodies += [(search, hydration.replace('"displayName":"', '"displayName":"\\u0000')), ("[]", None)]
    _store(warehouse, platform, bodies)
    monkeypatch.setattr(profiles_day, "PAGE_BATCH", 3)
    monkeypatch.setattr(spill, "BUCKET_ROWS", 16)  # several account buckets

    reference_counts, _ = profiles_day.derive_partition(warehouse, DAY, platform, parse=rowwise_appearances)
    reference = _partition_tables(warehouse, platform)
    result = dg.materialize(
        assets(["profiles"]), partition_key=partition_key(DAY, platform), resources={"warehouse": warehouse}
    )
    assert result.success
    columnar = _partition_tables(warehouse, platform)
    assert reference["profile_snapshots"].height >= 50 and reference["quarantined_rows"].height >= 2
    for name, frame in reference.items():
        assert_frame_equal(columnar[name], frame)
    metadata = result.asset_materializations_for_node("profiles")[0].metadata
    assert metadata["rows_out"].value == reference_counts["rows_out"]
    assert metadata["quarantined_rows"].value == reference_counts["quarantined_rows"]


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["twitter", "bluesky"])
def test_rows_parsed_at_fetch_derive_what_the_payloads_derive(warehouse, monkeypatch, platform) -> None:
    """Pages stored as raw_searches stores them (``page_store.append_pages``): the clean ones get
    typed rows and the current parser version, the ones with a quarantine entry get neither. The
    asset then reads typed rows for the first and parses the rest, in day order, and leaves every
    table equal to a run of the per-row reference over the same pages stored without typed rows.
    Typed rows of an older parser version are ignored: their page is parsed again (its rows are
    spoiled here to prove it)."""
    if platform == "twitter":
        users = [_x_user(i, "mixed") for i in range(48)]
        clean = [(x_page(users[i : i + 6]), None) for i in range(0, 48, 6)]
        spoiled = copy.deepcopy(users[:3])
        X_VARIANTS["handle missing"](spoiled[0])
        dirty = [(encode_json({"data": spoiled}).decode(), None), ("{not json", None)]
    else:
        clean = [bluesky_page(i) for i in range(8)]
        search, hydration = bluesky_page(2)
        dirty = [(search, hydration.replace('"displayName":"', '"displayName":"\\u0000')), ("[]", None)]
    bodies = [*clean[:3], dirty[0], *clean[3:6], dirty[1], *clean[6:]]  # parsed pages between typed ones
    monkeypatch.setattr(profiles_day, "PAGE_BATCH", 2)
    monkeypatch.setattr(spill, "BUCKET_ROWS", 16)  # several account buckets

    _store(warehouse, platform, bodies)  # no parser version, no typed rows: every page from its payload
    profiles_day.derive_partition(warehouse, DAY, platform, parse=rowwise_appearances)
    reference = _partition_tables(warehouse, platform)
    assert reference["quarantined_rows"].height >= 2
    assert warehouse.read("select count(*) as n from page_profiles")["n"][0] == 0

    stored = warehouse.read("select * from raw_searches order by request_id")
    warehouse.execute("delete from raw_searches")
    with warehouse.transaction() as tx:
        assert append_pages(tx, stored, DAY, platform) == len(bodies)
    with warehouse.transaction() as tx:  # appending the same pages again adds nothing anywhere
        assert append_pages(tx, stored, DAY, platform) == 0
    versions = warehouse.read("select request_id, parser_version from raw_searches order by request_id")
    dirty_ids = {f"req-{bodies.index(body):04d}" for body in dirty}
    assert {r for r, v in versions.iter_rows() if v is None} == dirty_ids
    assert set(versions["parser_version"]) == {PARSER_VERSION, None}
    typed = warehouse.read("select request_id, count(*) as n from page_profiles group by request_id")
    assert set(warehouse.read("select parser_version from page_profiles")["parser_version"]) == {
        PARSER_VERSION
    }
    assert set(typed["request_id"]) == set(versions["request_id"]) - dirty_ids
    assert typed["n"].sum() == len(clean) * (6 if platform == "twitter" else 5)
    stale = "req-0005"
    warehouse.execute("update raw_searches set parser_version = 'older' where request_id = $1", [stale])
    warehouse.execute(
        "update page_profiles set name = 'STALE ROW', parser_version = 'older' where request_id = $1", [stale]
    )

    result = dg.materialize(
        assets(["profiles"]), partition_key=partition_key(DAY, platform), resources={"warehouse": warehouse}
    )
    assert result.success
    derived = _partition_tables(warehouse, platform)
    assert "STALE ROW" not in derived["profile_snapshots"]["name"].to_list()
    for name, frame in reference.items():
        assert_frame_equal(derived[name], frame)
