"""The labeling settings file: which audiences are active, how the queue is worked, the cascade."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from resources.models.registry import MODELS_FILE, RegistryError, load_models_file
from scout_assets.labeling.fit_settings import FitSettings
from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    Integer,
    Number,
    PositiveInteger,
    Text,
    load_config_file,
)
from scout_contract.paths import CONFIG_DIR

LABELING_FILE = CONFIG_DIR / "labeling.yaml"
_WHAT = "labeling settings"


class LabelingSettingsError(ConfigFileError):
    """A labeling settings file that cannot be used; names the file and the field."""


class CascadeSettings(ConfigModel):
    """Who labels what (docs/labeling.md, "The cascade").

    ``order``: every alias of ``models.yaml``, the local labeler first, then the LLMs cheapest
    first. The local labeler labels every queued profile; only the profiles it defers go to the
    first LLM of the order that can run here (has its key); a later LLM only gets the profiles
    on which the LLM before it said ``null`` or disagreed with the local label.
    """

    order: tuple[Text, ...] = Field(
        min_length=1, description="Model aliases, local first, then cheapest first."
    )
    defer_threshold: Number = Field(
        gt=0,
        le=1,
        description="The local labeler defers a profile when its top-class probability is below this.",
    )
    prompt_examples: Integer = Field(
        default=6, ge=0, description="Reviewed examples (K) put into each LLM prompt; 0: none."
    )


class LabelingSettings(ConfigModel):
    """What the labeling asset and sensors read from ``labeling.yaml`` (docs/labeling.md).

    There is no HAS setting here: the queue is exactly the accounts ``has_scores`` marked
    ``is_queued`` (has.yaml's ``queue_threshold``).
    """

    audiences: tuple[Text, ...] = Field(min_length=1, description="Active audience keys (name.version).")
    max_batches_per_run: PositiveInteger
    max_failures: PositiveInteger
    cascade: CascadeSettings
    local_labeler: FitSettings = FitSettings()

    @property
    def local_model(self) -> str:
        """The alias of the local labeler: the first of the cascade (checked on load)."""
        return self.cascade.order[0]


def load_labeling_settings(path: Path = LABELING_FILE, models_file: Path = MODELS_FILE) -> LabelingSettings:
    """Read and check ``path`` (and its cascade against ``models_file``); read on every use, so an
    edit applies without a code reload."""
    settings = load_config_file(path, LabelingSettings, _WHAT, error=LabelingSettingsError)
    _check_order(settings.cascade.order, path, models_file)
    return settings


def _check_order(order: tuple[str, ...], path: Path, models_file: Path) -> None:
    """The cascade names every registered model once, the local labeler first and only first."""

    def problem(text: str) -> LabelingSettingsError:
        return LabelingSettingsError(_WHAT, path, "cascade.order", text)

    try:
        models = load_models_file(models_file).models
    except RegistryError as exc:
        raise problem(f"cannot be checked against the models file: {exc}") from exc
    unknown = [alias for alias in order if alias not in models]
    if unknown:
        raise problem(f"names models that {models_file} does not define: {unknown}; known: {list(models)}")
    repeated = sorted({alias for alias in order if order.count(alias) > 1})
    if repeated:
        raise problem(f"names a model more than once: {repeated}")
    missing = [alias for alias in models if alias not in order]
    if missing:
        raise problem(
            f"must name every model of {models_file}; missing: {missing} "
            "(put each LLM where its price per profile puts it: cheapest first)"
        )
    local = [alias for alias in order if models[alias].is_local]
    if local != [order[0]]:
        raise problem(
            f"must start with the local labeler and hold no other local model; local models in it: {local}, "
            f"first: {order[0]!r}"
        )
