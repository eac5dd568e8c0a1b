"""Both platform hosts come from the environment: ``SCOUT_TWITTER_URL`` and ``SCOUT_BLUESKY_URL``.

Through ``build_resources()`` (the one reader of the environment) and real HTTP over loopback:
the sandbox plays a proxy or mirror the operator points Scout at. An explicit URL wins over
the key-decides-the-host rule, and the key still travels (in a header) to that host.
"""

from __future__ import annotations

import pytest

from scout_assets.resources_binding import build_resources
from scout_contract.settings import ScoutSettings, SettingsError


def _bound(name: str):
    """The resource as a run would get it (EnvVar-bound fields resolved), as a context manager."""
    return build_resources()[name].process_config_and_initialize_cm()


def test_explicit_urls_win_and_requests_reach_them(sandbox, monkeypatch):
    monkeypatch.setenv("SCOUT_TWITTER_URL", sandbox.base_url + "/")
    monkeypatch.setenv("SCOUT_BLUESKY_URL", sandbox.base_url)
    monkeypatch.setenv("TWITTERX_APIKEY", "k-from-the-environment")  # would mean the RapidAPI host
    with _bound("twitter") as twitter, _bound("bluesky") as bluesky:
        assert twitter.resolved_base_url() == sandbox.base_url
        assert bluesky.resolved_base_url() == sandbox.base_url
        assert not twitter.uses_sandbox and not bluesky.uses_sandbox  # configured hosts, not the fallback
        assert twitter.search("ux research").result_count > 0
        assert bluesky.search("ux research").result_count > 0
    paths = [request.path for request in sandbox.requests]
    assert paths[0] == "/api/search/people"
    assert paths[1] == "/xrpc/app.bsky.actor.searchActors"


def test_without_urls_the_key_decides_the_host(monkeypatch):
    monkeypatch.delenv("SCOUT_TWITTER_URL", raising=False)
    monkeypatch.setenv("TWITTERX_APIKEY", "k")
    with _bound("twitter") as twitter:
        assert twitter.resolved_base_url() == "https://twitter-x-api.p.rapidapi.com"


@pytest.mark.parametrize("name", ["SCOUT_TWITTER_URL", "SCOUT_BLUESKY_URL"])
@pytest.mark.parametrize("value", ["twitter-x-api.p.rapidapi.com", "ftp://mirror.example", "https://"])
def test_a_url_that_is_not_http_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=rf"^{name}='{value}' is not an http\(s\) URL"):
        ScoutSettings.from_environ({name: value})
