"""Bluesky actor search through an AT Protocol AppView (REFERENCE §3.2).

One page takes two kinds of call, because search results carry no follower/follow/post counts:
``GET /xrpc/app.bsky.actor.searchActors?q=K&limit=N[&cursor=C]`` → ``{"actors": [...], "cursor"?}``,
then ``GET /xrpc/app.bsky.actor.getProfiles?actors=did1&actors=did2...`` (at most 25 per call)
for the counts. The page is all or nothing: if any hydration call fails after its retries the
whole page fails (``PlatformError`` with every call's record), so no half-counted page is
ever archived. Cursors are opaque strings, and a page shorter than ``limit`` may still have one.

Where requests go: ``base_url`` when set; else the public AppView
(https://public.api.bsky.app, no auth) when ``use_public_appview`` is true; else the local
sandbox. Unlike X there is no key whose presence could mean "go live", so going live is an
explicit switch (bind it from an env var in production definitions).
"""

from __future__ import annotations

from pydantic import Field

from resources.platforms.bluesky_wire import BlueskySearchPage, parse_bluesky_profiles, parse_bluesky_search
from resources.platforms.http_client import CallScope
from resources.platforms.platform_resource import PlatformSearchResource, sandbox_base_url
from resources.platforms.search_page import CallRecord, PlatformError, SearchPage, attach_calls, new_call_id

PUBLIC_APPVIEW = "https://public.api.bsky.app"
SEARCH_PATH = "/xrpc/app.bsky.actor.searchActors"
PROFILES_PATH = "/xrpc/app.bsky.actor.getProfiles"
PROFILES_PER_CALL = 25  # getProfiles' lexicon caps `actors` at 25


class BlueskySearch(PlatformSearchResource):
    """Searches Bluesky actors by keyword and hydrates them with their counts."""

    platform = "bluesky"

    use_public_appview: bool = Field(
        default=False, description="Send requests to the public AppView when base_url is unset."
    )
    page_size: int = Field(
        default=25, ge=1, le=100, description="searchActors `limit` (1..100, API default 25)."
    )
    requests_per_second: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Conservative pace for the unauthenticated public AppView, which limits per IP; each "
            "page costs 1 + ceil(actors/25) calls, and a 429's ratelimit-reset is honoured anyway."
        ),
    )

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.use_public_appview:
            return PUBLIC_APPVIEW
        return sandbox_base_url(self.platform, allowed=self.sandbox_allowed)

    @property
    def requests_per_page(self) -> int:
        """searchActors, then getProfiles for up to ``page_size`` actors, 25 per request."""
        return 1 + -(-self.page_size // PROFILES_PER_CALL)

    @property
    def uses_sandbox(self) -> bool:
        """True when requests go to the local sandbox because no live endpoint was configured."""
        return not self.base_url and not self.use_public_appview

    def search(self, keyword: str, cursor: str | None = None, *, request_id: str | None = None) -> SearchPage:
        """Fetch and hydrate one page of actors matching ``keyword`` (cursor None = first page).

        Raises a ``PlatformError`` subclass (typed by ``ErrorKind``) carrying ``.calls`` with
        the records of every call made for this page, search and hydration alike.
        """
        params = self._search_params(keyword, cursor, keyword_param="q", size_param="limit")
        request_id = request_id or new_call_id()
        scope = CallScope(request_id=request_id, platform=self.platform, keyword=keyword, cursor=cursor)
        found = self.http.get_json(
            SEARCH_PATH,
            params,
            scope=scope,
            parse=lambda body: parse_bluesky_search(body, keyword, fail_if_no_row_readable=True),
            count=lambda page: len(page.actors),
            max_results=self.row_limit,
        )
        page: BlueskySearchPage = found.value
        calls: list[CallRecord] = list(found.calls)
        bodies = self._hydrate(page, scope, calls)
        return self._search_page(
            request_id=request_id,
            keyword=keyword,
            cursor=cursor,
            params=params,
            response=found,
            cursor_out=page.cursor,
            handles=tuple(actor["handle"] for actor in page.actors),
            # Each body is kept byte for byte; joining valid JSON texts with commas inside
            # brackets is itself valid JSON, so nothing is re-encoded.
            hydration_payload="[" + ",".join(bodies) + "]",
            calls=tuple(calls),
        )

    def _hydrate(self, page: BlueskySearchPage, scope: CallScope, calls: list[CallRecord]) -> list[str]:
        """getProfiles for every distinct DID of the page, 25 per call; returns the bodies verbatim."""
        dids = list(dict.fromkeys(actor["did"] for actor in page.actors))
        bodies: list[str] = []
        for start in range(0, len(dids), PROFILES_PER_CALL):
            batch = dids[start : start + PROFILES_PER_CALL]
            try:
                hydrated = self.http.get_json(
                    PROFILES_PATH,
                    [("actors", did) for did in batch],
                    scope=scope,
                    parse=lambda body: parse_bluesky_profiles(
                        body, scope.keyword, fail_if_no_row_readable=True
                    ),
                    count=lambda profiles: len(profiles.views),
                    max_results=len(batch),  # never more profiles than DIDs asked for
                )
            except PlatformError as error:  # report the earlier calls of the page too
                attach_calls(error, calls)
                raise
            calls.extend(hydrated.calls)
            bodies.append(hydrated.text)
        return bodies
