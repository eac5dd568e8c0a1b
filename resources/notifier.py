"""``Notifier``: post Scout's alerts as JSON to one webhook, with every secret scrubbed out.

Why a webhook: every chat and paging tool (Slack, Mattermost, Teams via a connector, ntfy, a
small relay of one's own) accepts an HTTP POST of JSON, so one URL is all an operator configures.
The body carries a Slack-compatible ``text`` (a title line and the message) and the same content
as fields (``kind``, ``severity``, ``title``, ``message``, ``key``, ``fields``) for anything that
parses it.

- **The URL** comes from ``SCOUT_ALERT_WEBHOOK_URL``, bound by the resource binding with
  ``EnvVar`` (a webhook URL usually holds its token, so it is a secret: never shown in the UI,
  run config, logs or errors). Unset: the notifier is off (``enabled`` is False) and the alert
  sensors say so in their skip reason.
- **One attempt per send**, with a timeout (``timeout_s`` for connecting, and again for the
  answer). There is no retry here: the alert sensors are the one layer that retries (an alert
  that was not delivered stays due, and the next tick sends it again), so a webhook that is down
  costs one attempt per tick, not a burst.
- **Secrets never leave.** Before the body is built, every text of the alert has every secret
  value replaced by ``<NAME>``: the values the caller hands in (the binding's ``secret_values()``:
  model keys, the platform key, the warehouse URL, this webhook URL) and, always, the webhook
  URL itself and its token-bearing parts. The errors ``send`` raises never quote the URL either.
  This resource reads no environment (the floor rule of ``resources``): the caller passes the
  secret values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import dagster as dg
import httpx
from pydantic import Field

WEBHOOK_ENV = "SCOUT_ALERT_WEBHOOK_URL"
# Shorter values are not scrubbed: replacing every "abc" in a message would garble it, and a
# secret that short protects nothing. The same floor as the run-failure scrubber (failure_kinds).
MIN_SECRET_LENGTH = 6
MAX_TEXT_CHARS = 2000

Severity = Literal["warning", "error"]


class NotifierError(RuntimeError):
    """An alert that was not delivered; the message names the variable, never the URL."""


@dataclass(frozen=True)
class Alert:
    """One alert: what happened (``title``, ``text``), how bad, and what makes it unique.

    ``kind``: ``run_failure`` | ``breaker_opened`` | ``budget`` | ``freshness``. ``key`` identifies
    the thing alerted on (a run id, a breaker event id, a budget, period and threshold, an asset's
    failure), so a receiver can de-duplicate too. ``fields``: short facts shown as a table.
    """

    kind: str
    title: str
    text: str
    key: str
    severity: Severity = "error"
    fields: Mapping[str, str] = field(default_factory=dict)


def scrub_secrets(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every secret value (and its URL-quoted form) replaced by ``<NAME>``.

    Longest values first, so a URL that contains a key is replaced whole before the key is. A name
    may carry a ``#suffix`` (several parts of one variable): it is shown without it.
    """
    pairs = sorted(
        (
            (name.split("#", 1)[0], variant)
            for name, value in secrets.items()
            for variant in {value, quote(value, safe="")}
        ),
        key=lambda pair: -len(pair[1]),
    )
    for name, value in pairs:
        if len(value) >= MIN_SECRET_LENGTH:
            text = text.replace(value, f"<{name}>")
    return text


def url_secrets(url: str) -> dict[str, str]:
    """The parts of a webhook URL that may hold its token, each as a secret value to scrub.

    The whole URL, the URL without its scheme, its path with the query, its query, a password in
    it, and every path segment or query value that looks like a token (at least 6 characters
    with a digit, or at least 16): a token sits in the path (Slack, Discord, Teams) or the query
    (relays), and a message may quote it alone. Short plain words (``hooks``, ``services``) are
    route names, left alone so a message stays readable.
    """
    parts = urlsplit(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    pieces = [unquote(p) for p in parts.path.split("/")] + [v for _, v in parse_qsl(parts.query)]
    tokens = {
        p for p in pieces if len(p) >= 16 or (len(p) >= MIN_SECRET_LENGTH and any(c.isdigit() for c in p))
    }
    candidates = {
        url,
        url.split("://", 1)[-1],
        path_query if path_query not in ("", "/") else "",
        parts.query,
        parts.password or "",
        *tokens,
    }
    return {f"{WEBHOOK_ENV}#{i}": value for i, value in enumerate(sorted(candidates, key=len)) if value}


class Notifier(dg.ConfigurableResource):
    """Posts alerts to the webhook at ``webhook_url``; off when it is unset."""

    webhook_url: str | None = Field(
        default=None, description=f"The webhook URL (from {WEBHOOK_ENV}, bound as a secret); unset: off."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Seconds to connect, and to get the answer.")

    @property
    def enabled(self) -> bool:
        return bool((self.webhook_url or "").strip())

    def body(self, alert: Alert, secrets: Mapping[str, str]) -> dict[str, Any]:
        """The JSON the webhook receives, every text scrubbed of the secrets and the URL."""
        known = {**secrets, **(url_secrets(self.webhook_url) if self.webhook_url else {})}

        def scrub(text: str) -> str:  # scrub first: a cut could leave half a secret unmatched
            text = scrub_secrets(text, known)
            return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"

        title, message = scrub(alert.title), scrub(alert.text)
        return {
            "text": f"[Scout] {title}\n{message}",
            "source": "scout",
            "kind": alert.kind,
            "severity": alert.severity,
            "title": title,
            "message": message,
            "key": scrub(alert.key),
            "fields": {scrub(str(k)): scrub(str(v)) for k, v in alert.fields.items()},
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def send(self, alert: Alert, secrets: Mapping[str, str]) -> None:
        """POST one alert; raises ``NotifierError`` unless the webhook answered 2xx.

        ``secrets`` (name -> value, the binding's ``secret_values()``) is required, so no caller
        can forget it; the webhook URL's parts are scrubbed whatever it holds.
        """
        if not self.enabled or self.webhook_url is None:
            raise NotifierError(f"alerts are off: {WEBHOOK_ENV} is not set")
        payload = json.dumps(self.body(alert, secrets), ensure_ascii=False).encode("utf-8")
        try:
            response = httpx.post(
                self.webhook_url,
                content=payload,
                headers={"content-type": "application/json"},
                timeout=self.timeout_s,
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            # httpx messages may quote the URL: name the error's class only, plus a scrubbed text.
            detail = scrub_secrets(str(exc), url_secrets(self.webhook_url))
            raise NotifierError(
                f"the alert webhook ({WEBHOOK_ENV}) could not be reached: {type(exc).__name__}: {detail}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise NotifierError(f"the alert webhook ({WEBHOOK_ENV}) answered HTTP {response.status_code}")
