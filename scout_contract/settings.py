"""Every environment variable Scout documents, as one typed, validated settings object.

This module *declares* the variables and checks their values; it never reads the process
environment itself. The resource binding (``scout_assets.resources_binding``) and the
entry-point scripts (``scout``, the dashboard) call ``ScoutSettings.from_environ(os.environ)``,
so a variable is named once here and read in exactly those places. Secrets are kept as
``SecretStr``: their values never appear in a repr, a log line or an error.

The embedded default needs no variable at all: every field has a default that suits a laptop.
A bad value fails loudly with the variable's name and what it should look like, because a typo
in a deployment's environment must not silently turn automation off or make it run wild.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from scout_contract.paths import KEYWORD_FILE, PROJECT_ROOT

DUCKDB_FILE_NAME = "scout.duckdb"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_TRUE_WORDS = ("1", "true", "yes", "on")
_FALSE_WORDS = ("", "0", "false", "no", "off")


class SettingsError(ValueError):
    """An environment variable whose value cannot be used; the message names the variable."""


class ScoutSettings(BaseModel):
    """Scout's deployment switches. Field ``x`` comes from the variable ``ENV_NAMES['x']``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ENV_NAMES: ClassVar[dict[str, str]] = {
        "data_dir": "SCOUT_DATA_DIR",
        "warehouse_url": "SCOUT_WAREHOUSE_URL",
        "marts_schema": "SCOUT_MARTS_SCHEMA",
        "keyword_file": "SCOUT_KEYWORD_FILE",
        "twitter_api_key": "TWITTERX_APIKEY",
        "twitter_url": "SCOUT_TWITTER_URL",
        "bluesky_url": "SCOUT_BLUESKY_URL",
        "require_live_apis": "SCOUT_REQUIRE_LIVE_APIS",
        "archive_bucket": "SCOUT_ARCHIVE_BUCKET",
        "archive_dir": "SCOUT_ARCHIVE_DIR",
        "archive_prefix": "SCOUT_ARCHIVE_PREFIX",
        "s3_endpoint_url": "SCOUT_S3_ENDPOINT_URL",
        "aws_region": "AWS_REGION",
        "search_cron": "SCOUT_SEARCH_CRON",
        "stats_cron": "SCOUT_STATS_CRON",
        "export_cron": "SCOUT_EXPORT_CRON",
        "label_max_wait_minutes": "SCOUT_LABEL_MAX_WAIT_MINUTES",
        "relabel_days": "SCOUT_RELABEL_DAYS",
        "reviewer": "SCOUT_REVIEWER",
        "alert_webhook_url": "SCOUT_ALERT_WEBHOOK_URL",
        "dagster_url": "SCOUT_DAGSTER_URL",
        "api_requests_per_minute": "SCOUT_API_REQUESTS_PER_MINUTE",
        "suppression_key": "SCOUT_SUPPRESSION_KEY",
    }
    # Budget overrides are a family, not one name: every variable starting with this prefix
    # (SCOUT_BUDGET_<PLATFORM|MODEL>_<FIELD>, e.g. SCOUT_BUDGET_TWITTER_CALLS_PER_DAY=500) overrides
    # one field of scout_assets/config/budgets.yaml; scout_assets/spend/budgets.py checks them.
    BUDGET_PREFIX: ClassVar[str] = "SCOUT_BUDGET_"
    # Read when the first name is unset (the AWS SDKs accept either; a reviewer is the login name).
    FALLBACK_NAMES: ClassVar[dict[str, str]] = {"aws_region": "AWS_DEFAULT_REGION", "reviewer": "USER"}

    # where data lives
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data", description="DuckDB file, raw archive, local state."
    )
    warehouse_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL (production); unset: the DuckDB file under data_dir."
    )
    marts_schema: str = Field(default="analytics", description="Schema dbt builds its models into.")
    keyword_file: Path = Field(default=KEYWORD_FILE, description="The keyword list.")
    # platforms
    twitter_api_key: SecretStr | None = Field(default=None, description="RapidAPI key; unset: sandbox.")
    twitter_url: str | None = Field(
        default=None,
        description="Base URL of the X people-search API (a proxy, a mirror, a test server); wins over "
        "the key's rule. Unset: the RapidAPI host with a key, else the sandbox.",
    )
    bluesky_url: str | None = Field(default=None, description="Bluesky AppView URL; unset: sandbox.")
    require_live_apis: bool = Field(default=False, description="Forbid the sandbox (production).")
    # raw archive
    archive_bucket: str | None = Field(default=None, description="S3 bucket; unset: a local folder.")
    archive_dir: Path | None = Field(default=None, description="Local archive folder; unset: data_dir.")
    archive_prefix: str = Field(default="scout/raw", description="Key prefix inside the bucket.")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (tests, MinIO).")
    aws_region: str = Field(default="us-east-1", description="Region of the archive bucket.")
    # automation
    search_cron: str = Field(default="*/15 * * * *", description="The predecessor searched every 15 min.")
    stats_cron: str = Field(default="0 2 * * *", description="Yesterday's keyword stats at 02:00 UTC.")
    export_cron: str = Field(default="0 6 * * *", description="The day's lead exports at 06:00 UTC.")
    label_max_wait_minutes: int = Field(default=60, ge=1, description="Oldest unit's wait before a run.")
    relabel_days: int = Field(default=7, ge=1, description="Days a new audience version relabels.")
    # reviews
    reviewer: str | None = Field(
        default=None, description="Who a review is from (dashboard, scout review import); unset: $USER."
    )

    # alerts (docs/operations.md, "Alerts"): the URL usually holds the webhook's token, so a secret
    alert_webhook_url: SecretStr | None = Field(
        default=None, description="Webhook the alert sensors post to (JSON); unset: alerts are off."
    )
    # HTTP API (docs/api.md): the Dagster webserver it launches runs through, and each key's rate
    dagster_url: str = Field(
        default="http://127.0.0.1:3000", description="Dagster webserver whose GraphQL API launches runs."
    )
    api_requests_per_minute: int = Field(
        default=120, ge=1, description="Requests one API key may make per minute (bursts up to as many)."
    )
    # erasure (docs/leads.md, "Erasure"): the HMAC key of the suppression list (scout_contract/suppression.py)
    suppression_key: SecretStr | None = Field(
        default=None,
        description="Key of the suppression list's hashes; unset: generated once into <data_dir>/suppression.key.",
    )
    # budgets (docs/operations.md, "Budgets and the cost ledger")
    budget_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="SCOUT_BUDGET_* variable -> value: overrides of budgets.yaml (checked when loaded).",
    )

    @field_validator("marts_schema")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        if not _SCHEMA_NAME.match(value):
            raise ValueError("is not a plain lower-case schema name (letters, digits, _)")
        return value

    @field_validator("search_cron", "stats_cron", "export_cron")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(
                "is not a cron string: expected 5 fields (minute hour day-of-month month day-of-week)"
            )
        return value

    @field_validator("twitter_url", "bluesky_url", "dagster_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, rest = value.partition("://")
        if scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
            raise ValueError("is not an http(s) URL: expected e.g. https://host[:port][/path]")
        return value.rstrip("/")

    @field_validator("alert_webhook_url")
    @classmethod
    def _secret_http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme, _, rest = value.get_secret_value().partition("://")
            if scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
                raise ValueError("is not an http(s) URL: expected e.g. https://host[:port]/path")
        return value

    @field_validator("require_live_apis", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
            raise ValueError(f"is not a switch: use one of {', '.join(_TRUE_WORDS)} or leave it unset")
        return value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ScoutSettings:
        """Settings from an environment mapping; blank values count as unset."""
        values: dict[str, str] = {}
        for field, name in cls.ENV_NAMES.items():
            raw = (environ.get(name) or "").strip()
            if not raw and field in cls.FALLBACK_NAMES:
                raw = (environ.get(cls.FALLBACK_NAMES[field]) or "").strip()
            if raw:
                values[field] = raw
        budgets = {
            name: value.strip()
            for name, value in environ.items()
            if name.startswith(cls.BUDGET_PREFIX) and value.strip()
        }
        try:
            return cls(**values, budget_overrides=budgets)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "?"
            name = cls.ENV_NAMES.get(field, field)
            shown = (
                "<secret>"
                if field in ("warehouse_url", "twitter_api_key", "alert_webhook_url", "suppression_key")
                else repr(values.get(field))
            )
            default = cls.model_fields[field].default if field in cls.model_fields else None
            hint = f" (default {default!r})" if default not in (None, "") else ""
            raise SettingsError(
                f"{name}={shown} {first['msg'].removeprefix('Value error, ')}{hint}"
            ) from None

    @property
    def duckdb_path(self) -> Path:
        """The embedded warehouse file."""
        return self.data_dir / DUCKDB_FILE_NAME

    def resolved_warehouse_url(self) -> str:
        """The warehouse as one URL: ``SCOUT_WAREHOUSE_URL`` (may hold a password) or the DuckDB file.

        For programs outside Dagster (dashboard, shell exports); the code location binds the
        secret with ``EnvVar`` instead, so its value never enters run config.
        """
        if self.warehouse_url is not None:
            return self.warehouse_url.get_secret_value()
        return f"duckdb://{self.duckdb_path.resolve()}"

    @property
    def raw_archive_dir(self) -> Path:
        """The local raw archive folder (used when no bucket is set)."""
        return self.archive_dir or self.data_dir / "raw_archive"


# Switches third-party libraries read from the process environment at import time. The binding
# and the entry points default them (never override): no tool phones home, no model is fetched.
OFFLINE_SWITCHES: dict[str, str] = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",  # dbt would otherwise post usage events
    "DO_NOT_TRACK": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm would otherwise download its price map
    "HF_HUB_OFFLINE": "1",  # models come from packages, never the hub
    "TRANSFORMERS_OFFLINE": "1",
}
