"""The one module that reads the environment and binds Scout's resources to it.

Embedded default and production differ only in environment variables (DESIGN.md: "only
configuration differs"); ``scout_contract.settings.ScoutSettings`` declares every one of them
and this module is where they are read (the entry-point scripts aside). Nothing below it
(resources, domain, assets) looks at ``os.environ``: each gets its values as constructor
arguments, so a test or an embedding application binds them explicitly.

- ``SCOUT_WAREHOUSE_URL`` unset → DuckDB file under ``SCOUT_DATA_DIR``; set → that PostgreSQL URL.
- ``TWITTERX_APIKEY`` unset → the built-in sandbox; set → the real RapidAPI host.
- ``SCOUT_TWITTER_URL`` set → that base URL for X (a proxy, a mirror, a test server), key or not:
  an explicit URL wins over the key-decides-the-host rule (the key is still sent if set).
- ``SCOUT_BLUESKY_URL`` unset → the sandbox; set (e.g. https://public.api.bsky.app) → that AppView.
- ``SCOUT_REQUIRE_LIVE_APIS=1`` → a platform without a key or URL fails instead of using the sandbox.
- ``SCOUT_ARCHIVE_BUCKET`` unset → raw pages archived under ``SCOUT_DATA_DIR``; set → that S3 bucket.
- a model's key variable (named in config/models.yaml) unset → that model cannot run.
- ``SCOUT_ALERT_WEBHOOK_URL`` unset → alerts are off; set → the alert sensors post there (``notifier``).
- ``SCOUT_BUDGET_<NAME>_<FIELD>`` set → overrides that field of config/budgets.yaml (``budgets``).
- ``SCOUT_SUPPRESSION_KEY`` unset → the key file ``<SCOUT_DATA_DIR>/suppression.key`` (``suppression``).
Secrets are bound with ``EnvVar``, so their values never appear in the UI, run config or metadata.
"""

from __future__ import annotations

import os
from contextlib import suppress

import dagster as dg

from resources.archive import LocalArchive, RawArchive, S3Archive
from resources.models.registry import ModelSpec, load_models_file
from resources.models.resource import LabelModel, model_resource_key
from resources.models.roster import ModelRoster
from resources.notifier import Notifier
from resources.platforms.bluesky import BlueskySearch
from resources.platforms.platform_resource import provide_sandbox
from resources.platforms.twitter import TwitterSearch
from resources.warehouse import Warehouse
from scout_assets.config_files import ConfigFiles
from scout_assets.dbt_project import build_dbt_resource
from scout_assets.lead_export_target import LeadExportTarget
from scout_assets.spend.budgets import Budgets, BudgetsResource, load_budgets
from scout_assets.suppression_list import SuppressionList
from scout_contract.settings import OFFLINE_SWITCHES, ScoutSettings

# Variables whose values are secrets besides the model keys: error texts are scrubbed of them.
SECRET_VARIABLES = (
    "TWITTERX_APIKEY",
    "SCOUT_WAREHOUSE_URL",
    "DAGSTER_PG_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "SCOUT_ALERT_WEBHOOK_URL",
    "SCOUT_SUPPRESSION_KEY",
)


def apply_offline_switches() -> None:
    """Keep dbt, litellm and the MiniLM loader offline unless the operator chose otherwise.

    These are read by third-party libraries at import time, so they are process environment,
    not resource config; they are only defaulted, never overridden.
    """
    for name, value in OFFLINE_SWITCHES.items():
        os.environ.setdefault(name, value)


apply_offline_switches()


def current_settings() -> ScoutSettings:
    """The settings as the environment says now (read on every call: sensors see edits on reload)."""
    return ScoutSettings.from_environ(os.environ)


def _env(name: str) -> dg.EnvVar | None:
    """``EnvVar(name)`` when the variable is set, so its value is resolved by Dagster, never shown."""
    return dg.EnvVar(name) if (os.environ.get(name) or "").strip() else None


def build_resources(settings: ScoutSettings | None = None) -> dict[str, dg.ConfigurableResource]:
    """Every resource of the code location, bound to ``settings`` (default: the environment)."""
    settings = settings or current_settings()
    use_builtin_sandbox()
    return {
        "warehouse": build_warehouse(settings),
        "twitter": TwitterSearch(
            api_key=_env(ScoutSettings.ENV_NAMES["twitter_api_key"]),
            base_url=settings.twitter_url,
            sandbox_allowed=not settings.require_live_apis,
        ),
        "bluesky": BlueskySearch(
            base_url=settings.bluesky_url, sandbox_allowed=not settings.require_live_apis
        ),
        "archive": build_archive(settings),
        "config_files": ConfigFiles.from_settings(settings),
        "lead_export_target": LeadExportTarget(
            folder=str(settings.data_dir / "exports"), marts_schema=settings.marts_schema
        ),
        "notifier": Notifier(webhook_url=_env(ScoutSettings.ENV_NAMES["alert_webhook_url"])),  # unset: off
        "budgets": BudgetsResource.from_settings(settings),  # SCOUT_BUDGET_* overrides of budgets.yaml
        # scout forget's suppression list: SCOUT_SUPPRESSION_KEY, else <SCOUT_DATA_DIR>/suppression.key
        "suppression": SuppressionList.in_data_dir(
            settings.data_dir, _env(ScoutSettings.ENV_NAMES["suppression_key"])
        ),
        "dbt": build_dbt_resource(settings.marts_schema),
        "model_roster": build_model_roster(),
        **model_resources(),
    }


def current_budgets(settings: ScoutSettings | None = None) -> Budgets:
    """The budgets in effect: ``budgets.yaml`` with the environment's ``SCOUT_BUDGET_*`` overrides.

    For programs outside a Dagster run (``scout plan``); assets and sensors use the ``budgets``
    resource, which holds the same overrides.
    """
    settings = settings or current_settings()
    return load_budgets(settings.budget_overrides)


def build_warehouse(settings: ScoutSettings | None = None) -> Warehouse:
    """The warehouse: ``SCOUT_WAREHOUSE_URL`` (bound as a secret) or the DuckDB file under the data dir."""
    settings = settings or current_settings()
    if settings.warehouse_url is not None:
        return Warehouse(url=dg.EnvVar(ScoutSettings.ENV_NAMES["warehouse_url"]))
    return Warehouse(url=settings.resolved_warehouse_url())


def open_warehouse(settings: ScoutSettings | None = None) -> Warehouse:
    """The bound warehouse with its ``EnvVar`` resolved, for programs outside a Dagster run."""
    return build_warehouse(settings).process_config_and_initialize()


def build_archive(settings: ScoutSettings | None = None) -> RawArchive:
    """S3 when ``SCOUT_ARCHIVE_BUCKET`` is set, else a local folder (none of these is a secret)."""
    settings = settings or current_settings()
    if not settings.archive_bucket:
        return LocalArchive(root=str(settings.raw_archive_dir))
    return S3Archive(
        bucket=settings.archive_bucket,
        prefix=settings.archive_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
    )


def model_resources() -> dict[str, LabelModel]:
    """One resource per registered model; a provider key is bound only where its variable is set."""
    return {
        model_resource_key(alias): LabelModel(
            alias=alias, api_key=_env(spec.api_key_env) if spec.api_key_env else None
        )
        for alias, spec in load_models_file().models.items()
    }


def build_model_roster() -> ModelRoster:
    """The models that can run here: local ones, keyless ones, and those whose key variable is set."""
    return ModelRoster(
        available=[
            alias
            for alias, spec in load_models_file().models.items()
            if spec.is_local or spec.api_key_env is None or _env(spec.api_key_env) is not None
        ]
    )


def model_api_key(spec: ModelSpec) -> str | None:
    """The key of one model from its variable, for programs outside Dagster (``scout label``)."""
    return (os.environ.get(spec.api_key_env) or None) if spec.api_key_env else None


def secret_values() -> dict[str, str]:
    """Name → value of every secret variable that is set: what error texts must be scrubbed of.

    An unreadable models file must not hide the failure being reported, so its keys are then
    left out rather than raising.
    """
    names = list(SECRET_VARIABLES)
    with suppress(ValueError):
        names += [spec.api_key_env for spec in load_models_file().models.values() if spec.api_key_env]
    return {name: os.environ[name] for name in names if (os.environ.get(name) or "").strip()}


def use_builtin_sandbox() -> None:
    """Let platform resources without a key or URL reach the built-in sandbox (started lazily).

    The sandbox is a separate program (``scout_sandbox``); resources never import it. The
    binding hands them a way to start it, so a live deployment never starts it at all.
    """

    def start() -> str:
        from scout_sandbox import get_sandbox

        return get_sandbox().base_url

    provide_sandbox(start)
