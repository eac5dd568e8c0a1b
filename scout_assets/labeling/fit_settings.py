"""How the local labeler is fitted: the ``local_labeler`` section of ``labeling.yaml``.

Kept apart from ``fit.py`` so reading the settings file never imports scikit-learn or torch.
"""

from __future__ import annotations

from pydantic import Field

from scout_contract.config_file import ConfigModel, Integer, Number, PositiveInteger, Share


class FitSettings(ConfigModel):
    """Settings of ``scout labeler fit`` and the ``local_labeler`` asset (docs/labeling.md).

    Defaults are the first values that did well in 5-fold cross-validation on the bundled
    audience's 446 reviews (a curated sample, see docs/labeling.md), not a tuned optimum.
    """

    c: Number = Field(default=8.0, gt=0, description="Inverse L2 strength of the logistic regression.")
    ngram_bits: Integer = Field(default=15, ge=10, le=20, description="Hashed n-gram columns: 2**ngram_bits.")
    ngram_max: Integer = Field(default=2, ge=1, le=3, description="Longest word n-gram.")
    folds: Integer = Field(default=5, ge=2, le=20, description="Cross-validation folds.")
    seed: Integer = Field(default=0, description="Seed of the fold assignment.")
    defer_threshold: Share = Field(
        default=0.55,
        description="Default defer threshold stored with a fit (labeling.yaml's cascade overrides it).",
    )
    min_reviews: PositiveInteger = Field(
        default=30, description="Fewer reviews than this: no fit, the zero-shot labeler stays."
    )
    min_per_class: PositiveInteger = Field(
        default=5, description="Reviews needed of `true` and of `false` each (null may be absent)."
    )
    refit_after_reviews: PositiveInteger = Field(
        default=25, description="New reviews since the last fit that make the refit sensor ask for one."
    )
