"""X/Twitter people search through the RapidAPI "TwitterX" API (REFERENCE §3.1).

Wire format: ``GET {base}/api/search/people?keyword=K&count=20[&cursor=C]`` with headers
``x-rapidapi-host`` and ``x-rapidapi-key``; the answer is ``{"data": [User...], "cursor": ...}``
and a missing/null cursor ends the keyword.

Where requests go (one rule, no second code path):
1. ``base_url`` when set (a proxy, a recorded-replay server, a test sandbox);
2. else, with an ``api_key``, the real API at ``https://{host}``;
3. else the local sandbox server, which speaks the same wire format. A deployment without a
   key therefore runs end to end against the sandbox instead of failing.
"""

from __future__ import annotations

from pydantic import Field

from resources.platforms.http_client import CallScope
from resources.platforms.platform_resource import PlatformSearchResource, sandbox_base_url
from resources.platforms.search_page import SearchPage, new_call_id
from resources.platforms.twitter_wire import TwitterPage, parse_twitter_page

SEARCH_PATH = "/api/search/people"
RAPIDAPI_HOST = "twitter-x-api.p.rapidapi.com"


class TwitterSearch(PlatformSearchResource):
    """Searches X/Twitter profiles by keyword, one page (about 20 users) per call."""

    platform = "twitter"

    api_key: str | None = Field(
        default=None,
        repr=False,  # the key must never show up in reprs, logs or the Dagster UI
        description="RapidAPI key (bind with EnvVar('TWITTERX_APIKEY')). Unset: the sandbox is used.",
    )
    host: str = Field(default=RAPIDAPI_HOST, description="RapidAPI host, sent as x-rapidapi-host.")
    page_size: int = Field(default=20, gt=0, description="Sent as `count`; the API returns about 20 a page.")
    requests_per_second: float = Field(
        default=10.0, gt=0, description="The RapidAPI plan allows 10 requests/s (500,000 a month)."
    )

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.api_key:
            return f"https://{self.host}"
        return sandbox_base_url(self.platform, allowed=self.sandbox_allowed)

    @property
    def uses_sandbox(self) -> bool:
        """True when requests go to the local sandbox because neither base_url nor a key is set."""
        return not self.base_url and not self.api_key

    def _public_headers(self) -> dict[str, str]:
        return {"x-rapidapi-host": self.host}

    def _secret_headers(self) -> dict[str, str]:
        return {"x-rapidapi-key": self.api_key} if self.api_key else {}

    def search(self, keyword: str, cursor: str | None = None, *, request_id: str | None = None) -> SearchPage:
        """Fetch one page of people matching ``keyword``, resuming from ``cursor`` (None = first page).

        Raises a ``PlatformError`` subclass when the API cannot deliver a usable page (an
        ``InvalidPayloadError`` when what it delivers is not a search page, or holds more than
        ``row_limit`` users); it carries ``.calls`` (every HTTP attempt) for the usage ledger.
        """
        params = self._search_params(keyword, cursor, keyword_param="keyword", size_param="count")
        request_id = request_id or new_call_id()
        response = self.http.get_json(
            SEARCH_PATH,
            params,
            scope=CallScope(request_id=request_id, platform=self.platform, keyword=keyword, cursor=cursor),
            parse=lambda body: parse_twitter_page(body, keyword, fail_if_no_row_readable=True),
            count=lambda page: len(page.users),
            max_results=self.row_limit,
        )
        page: TwitterPage = response.value
        return self._search_page(
            request_id=request_id,
            keyword=keyword,
            cursor=cursor,
            params=params,
            response=response,
            cursor_out=page.cursor,
            handles=tuple(user["handle"] for user in page.users),
        )
