"""The spend caps (``config/budgets.yaml``), with their environment overrides, checked.

Why a file plus overrides: the caps are a decision a person writes down once (prices, the plan's
quota, what a day may cost), but a deployment (or a test) must be able to lower one without
editing the checkout. Each override is one variable, ``SCOUT_BUDGET_<NAME>_<FIELD>`` (declared
as a family in ``scout_contract.settings``: ``ScoutSettings.BUDGET_PREFIX``), read by the
resource binding and handed here as a mapping, so this module never reads the environment.

A bad file names the file and the field; a bad override names the variable, what it should
be, and the platforms and models it may address. Nothing falls back to "no cap" silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import dagster as dg
import yaml
from pydantic import Field, PrivateAttr, model_validator

from resources.models.registry import MODELS_FILE, load_models_file
from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    Integer,
    NonNegative,
    Text,
    field_problem,
    load_config_file,
)
from scout_contract.paths import CONFIG_DIR
from scout_contract.platforms import PLATFORMS
from scout_contract.settings import ScoutSettings, SettingsError

BUDGETS_FILE = CONFIG_DIR / "budgets.yaml"
_WHAT = "budgets file"
PREFIX = ScoutSettings.BUDGET_PREFIX

Scope = Literal["platform", "model"]
Period = Literal["run", "day", "month"]
Unit = Literal["calls", "usd", "requests"]

# A count cap: a whole number >= 0 (0 switches the platform off).
Count = Annotated[Integer, Field(ge=0)]


class BudgetsError(ConfigFileError):
    """A budgets file that cannot be used; names the file and the field."""


class BudgetOverrideError(SettingsError):
    """A ``SCOUT_BUDGET_*`` variable that cannot be used; names the variable and what is wrong."""


class PlatformBudget(ConfigModel):
    """One platform's price and caps (the header of ``budgets.yaml`` documents each field)."""

    price_per_request_usd: NonNegative
    calls_per_run: Count | None = None
    calls_per_day: Count | None = None
    usd_per_run: NonNegative | None = None
    usd_per_day: NonNegative | None = None
    plan_requests_per_month: Count | None = None


class ModelBudget(ConfigModel):
    """One model's dollar caps; a model not in the file has none."""

    usd_per_run: NonNegative | None = None
    usd_per_day: NonNegative | None = None


@dataclass(frozen=True)
class Cap:
    """One capped budget: which field of which platform or model, over which period, in what unit."""

    scope: Scope
    name: str
    period: Period
    unit: Unit
    field: str
    cap: float
    source: str  # "budgets.yaml" or the overriding variable's name

    @property
    def label(self) -> str:
        """``twitter calls_per_day`` (used in logs, metadata and budget_stops)."""
        return f"{self.name} {self.field}"


# (field, period, unit) of every cap, per scope: the one table that says what a field means.
PLATFORM_CAPS: tuple[tuple[str, Period, Unit], ...] = (
    ("calls_per_run", "run", "calls"),
    ("calls_per_day", "day", "calls"),
    ("usd_per_run", "run", "usd"),
    ("usd_per_day", "day", "usd"),
    ("plan_requests_per_month", "month", "requests"),
)
MODEL_CAPS: tuple[tuple[str, Period, Unit], ...] = (
    ("usd_per_run", "run", "usd"),
    ("usd_per_day", "day", "usd"),
)
_COUNT_FIELDS = {"calls_per_run", "calls_per_day", "plan_requests_per_month"}
_NO_CAP_WORDS = ("none", "null", "off", "unlimited")


class Budgets(ConfigModel):
    """``budgets.yaml``: every platform's price and caps, and the models' dollar caps."""

    platforms: dict[Text, PlatformBudget]
    models: dict[Text, ModelBudget] = Field(default_factory=dict)

    # "platforms.twitter.calls_per_day" -> "SCOUT_BUDGET_TWITTER_CALLS_PER_DAY" for overridden fields.
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _known_names(self) -> Budgets:
        missing = [p for p in PLATFORMS if p not in self.platforms]
        if missing:
            raise field_problem(
                "platforms", f"must list every platform; missing: {', '.join(missing)} (each needs its price)"
            )
        unknown = sorted(set(self.platforms) - set(PLATFORMS))
        if unknown:
            raise field_problem(
                "platforms", f"{unknown[0]!r} is not a platform; known: {', '.join(PLATFORMS)}"
            )
        aliases = _model_aliases()
        strangers = sorted(set(self.models) - set(aliases))
        if strangers:
            raise field_problem(
                "models", f"{strangers[0]!r} is not a model of models.yaml; known: {', '.join(aliases)}"
            )
        return self

    def platform(self, name: str) -> PlatformBudget:
        """The budget of platform ``name`` (every platform is in the file)."""
        return self.platforms[name]

    def model(self, alias: str) -> ModelBudget:
        """The caps of model ``alias`` (none when the file does not list it)."""
        return self.models.get(alias, ModelBudget())

    def price(self, platform: str) -> float:
        """USD one HTTP request to ``platform`` costs."""
        return self.platform(platform).price_per_request_usd

    def source(self, scope: Scope, name: str, field: str) -> str:
        """Where a value came from: ``budgets.yaml`` or the variable that overrode it."""
        return self._sources.get(f"{_section(scope)}.{name}.{field}", "budgets.yaml")

    def caps(self, scope: Scope | None = None, name: str | None = None) -> list[Cap]:
        """Every capped budget (null caps left out), platforms first, in file order."""
        found: list[Cap] = []
        for kind, entries, table in (
            ("platform", self.platforms, PLATFORM_CAPS),
            ("model", self.models, MODEL_CAPS),
        ):
            if scope is not None and kind != scope:
                continue
            for entry_name, entry in entries.items():
                if name is not None and entry_name != name:
                    continue
                for field, period, unit in table:
                    value = getattr(entry, field)
                    if value is not None:
                        source = self.source(kind, entry_name, field)  # type: ignore[arg-type]
                        found.append(Cap(kind, entry_name, period, unit, field, float(value), source))  # type: ignore[arg-type]
        return found


def _section(scope: Scope) -> str:
    return "platforms" if scope == "platform" else "models"


def _model_aliases() -> list[str]:
    return list(load_models_file(MODELS_FILE).models)


def env_name(name: str) -> str:
    """A platform or model name as it appears in a variable: ``claude-haiku-4.5`` → ``CLAUDE_HAIKU_4_5``."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def override_variable(scope: Scope, name: str, field: str) -> str:
    """The variable that overrides ``field`` of platform or model ``name``."""
    del scope  # platform and model names never collide (PLATFORMS vs models.yaml aliases)
    return f"{PREFIX}{env_name(name)}_{field.upper()}"


def load_budgets(overrides: Mapping[str, str] | None = None, path: str | Path | None = None) -> Budgets:
    """``budgets.yaml`` (``BUDGETS_FILE`` unless ``path``), with ``overrides`` applied and checked.

    ``overrides`` maps ``SCOUT_BUDGET_*`` variable names to their values, as
    ``ScoutSettings.budget_overrides`` holds them (the binding's ``current_budgets()`` passes the
    environment's; ``None`` or ``{}``: the file alone).
    """
    path = Path(path or BUDGETS_FILE)
    budgets = load_config_file(path, Budgets, _WHAT, error=BudgetsError)
    if not overrides:
        return budgets
    data = budgets.model_dump()
    sources: dict[str, str] = {}
    for variable, raw in sorted(overrides.items()):
        section, name, field = _target(variable, budgets)
        value = _value(variable, raw, field)
        data[section].setdefault(name, {})[field] = value
        sources[f"{section}.{name}.{field}"] = variable
    try:
        merged = Budgets.model_validate(data)
    except Exception as exc:  # the overrides were checked one by one; a clash is still theirs
        names = ", ".join(sorted(overrides))
        raise BudgetOverrideError(f"{names}: the budgets with these overrides are not valid: {exc}") from None
    merged._sources.update(sources)
    return merged


def _target(variable: str, budgets: Budgets) -> tuple[str, str, str]:
    """(section, name, field) that ``variable`` overrides, or an error listing what it may address."""
    rest = variable.removeprefix(PREFIX)
    names: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for platform in PLATFORMS:
        names[env_name(platform)] = (
            "platforms",
            platform,
            ("price_per_request_usd", *(f for f, _, _ in PLATFORM_CAPS)),
        )
    for alias in _model_aliases():
        names[env_name(alias)] = ("models", alias, tuple(f for f, _, _ in MODEL_CAPS))
    # The longest name first, so a model named like a prefix of another is never mistaken for it.
    for key in sorted(names, key=len, reverse=True):
        if rest.startswith(key + "_"):
            section, name, fields = names[key]
            field = rest[len(key) + 1 :].lower()
            if field not in fields:
                raise BudgetOverrideError(
                    f"{variable}: {field.upper()!r} is not a budget field of {name}; "
                    f"use one of {', '.join(f.upper() for f in fields)}"
                )
            return section, name, field
    known = ", ".join(sorted(names))
    raise BudgetOverrideError(
        f"{variable}: names no platform or model; expected {PREFIX}<NAME>_<FIELD> with NAME one of {known}"
    )


def _value(variable: str, raw: str, field: str) -> float | int | None:
    """The override's value: ``none`` removes the cap; counts are whole numbers, USD any number >= 0."""
    text = raw.strip()
    if text.lower() in _NO_CAP_WORDS:
        if field == "price_per_request_usd":
            raise BudgetOverrideError(f"{variable}={text!r}: a price cannot be removed; give USD >= 0")
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        kind = "a whole number >= 0" if field in _COUNT_FIELDS else "a number of USD >= 0"
        raise BudgetOverrideError(f"{variable}={text!r} is not {kind} (or 'none' for no cap)")
    if field in _COUNT_FIELDS:
        if not number.is_integer():
            raise BudgetOverrideError(
                f"{variable}={text!r} is not a whole number >= 0 (or 'none' for no cap)"
            )
        return int(number)
    return number


def budgets_yaml_text(budgets: Budgets) -> str:
    """The budgets in effect as YAML (for ``scout plan`` and run metadata)."""
    return yaml.safe_dump(budgets.model_dump(), sort_keys=False)


class BudgetsResource(dg.ConfigurableResource):
    """The budgets a run enforces: the file and the ``SCOUT_BUDGET_*`` overrides the binding read.

    A resource, like ``ConfigFiles``, so the two calling assets and the alert sensor read the
    same caps, chosen in one place, and a test lowers a cap without touching the process
    environment. Nothing here is a secret.
    """

    path: str = Field(default=str(BUDGETS_FILE), description="The budgets file (config/budgets.yaml).")
    overrides: dict[str, str] = Field(
        default_factory=dict, description="SCOUT_BUDGET_<NAME>_<FIELD> variable -> value."
    )

    @classmethod
    def from_settings(cls, settings: ScoutSettings) -> BudgetsResource:
        return cls(overrides=dict(settings.budget_overrides))

    def load(self) -> Budgets:
        """The budgets, read now (an edit of the file counts from the next run on)."""
        return load_budgets(self.overrides, self.path)


def iter_caps(budgets: Budgets, scope: Scope, name: str, period: Period) -> Iterator[Cap]:
    """The caps of one platform or model over one period."""
    return (cap for cap in budgets.caps(scope, name) if cap.period == period)
