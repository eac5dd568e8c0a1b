"""``labeler_refit_sensor``: refit an audience's local labeler when enough new reviews arrived.

Every tick (every five minutes) counts, per audience version, the accounts with a review (the
latest review of each, as the fit reads them) and compares that with the reviews its latest fit
learned from (``labeler_fits.reviews``; 0 with no fit yet). When the difference reaches
``refit_after_reviews`` (labeling.yaml, ``local_labeler`` section), and there are at least
``min_reviews`` reviews to fit on, it launches ``scout_labeler_fit`` for that audience.

Only new accounts count: a person changing earlier verdicts changes the reviews (and their
digest) but not their number, so corrections are picked up by the next refit, or at once by
materializing the audience's partition by hand.

Restarts neither repeat nor skip work: the run key is ``<audience>@<reviews digest>``, so one
state of the reviews is fitted once even if the cursor is lost, while every later state (more
reviews, changed verdicts) is a new key. An audience with a fit run still queued or running is
left alone until it ends. The cursor remembers the digest last launched per audience, for the
tick log only.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from resources.warehouse import Warehouse, WarehouseError
from scout_assets.jobs import labeler_fit_job
from scout_assets.labeling.fit import load_fit_settings, reviews_digest, unique_reviews
from scout_assets.labeling.fit_settings import FitSettings
from scout_assets.labeling.labeler_store import latest_fit, latest_reviews
from scout_assets.partitions import audience_partitions
from scout_contract.config_file import ConfigFileError
from sensors.cursors import dump_cursor, load_cursor, tick_result
from sensors.run_queries import UNFINISHED, run_of_partition
from sensors.targets import REASON_TAG, TRIGGER_TAG

SENSOR_NAME = "labeler_refit_sensor"
REFIT_INTERVAL_S = 300  # reviews arrive by hand or by file: minutes are soon enough
REVIEWS_DIGEST_TAG = "scout/reviews_digest"
REVIEWS_TAG = "scout/reviews"


@dataclass(frozen=True)
class RefitState:
    """What the sensor sees for one audience: its reviews now and those of its latest fit."""

    audience: str
    reviews: int
    digest: str | None  # of the reviews now; None when there are none
    fitted_reviews: int  # reviews of the latest fit; 0 without a fit
    fitted_digest: str | None


@dataclass(frozen=True)
class RefitVerdict:
    state: RefitState
    launch: bool
    note: str


def judge_refit_state(
    state: RefitState, settings: FitSettings, launched_digest: str | None, unfinished_run: str | None
) -> RefitVerdict:
    """Whether one audience's labeler should be refitted now (pure: no I/O)."""
    seen = f"{state.audience}: {state.reviews} reviews, latest fit on " + (
        f"{state.fitted_reviews}" if state.fitted_digest else "none"
    )
    new = state.reviews - state.fitted_reviews
    if state.digest is None:
        return RefitVerdict(state, False, f"{state.audience}: no reviews yet")
    if state.digest == state.fitted_digest:
        return RefitVerdict(state, False, f"{seen}: nothing new since the latest fit")
    if state.reviews < settings.min_reviews:
        return RefitVerdict(state, False, f"{seen}: fewer than min_reviews={settings.min_reviews} to fit on")
    if new < settings.refit_after_reviews:
        return RefitVerdict(
            state,
            False,
            f"{seen}: {new} new, a refit waits for refit_after_reviews={settings.refit_after_reviews}",
        )
    if launched_digest == state.digest:
        return RefitVerdict(state, False, f"{seen}: already launched for these reviews")
    if unfinished_run is not None:
        return RefitVerdict(state, False, f"{seen}: fit run {unfinished_run} has not finished yet")
    return RefitVerdict(state, True, f"{seen}: {new} new reviews, refitting")


def refit_states(warehouse: Warehouse, audiences: list[str]) -> list[RefitState]:
    """The reviews of each audience now and those of its latest fit."""
    states = []
    for audience in audiences:
        reviews = unique_reviews(latest_reviews(warehouse, audience))  # counted as the fit counts them
        fit = latest_fit(warehouse, audience)
        states.append(
            RefitState(
                audience=audience,
                reviews=len(reviews),
                digest=reviews_digest(reviews) if reviews else None,
                fitted_reviews=int(fit["reviews"]) if fit else 0,
                fitted_digest=str(fit["reviews_digest"]) if fit else None,
            )
        )
    return states


def labeler_refit_tick(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
    """One evaluation of the sensor."""
    cursor = load_cursor(context.cursor, SENSOR_NAME, context.log) or {}
    launched: dict[str, str] = dict(cursor.get("launched", {}))
    try:
        settings = load_fit_settings()
    except ConfigFileError as exc:
        return dg.SensorResult(skip_reason=f"labeler fit settings unusable, nothing launched: {exc}")
    audiences = audience_partitions.get_partition_keys()
    try:
        states = refit_states(warehouse, audiences)
    except WarehouseError as exc:
        if "does not exist" in str(exc):  # a new deployment: no run has created the tables yet
            return dg.SensorResult(
                skip_reason="the warehouse has no Scout tables yet; the first scout_main run creates them"
            )
        return dg.SensorResult(skip_reason=f"cannot read the reviews, nothing launched: {exc}")

    requests: list[dg.RunRequest] = []
    notes: list[str] = []
    for state in states:
        unfinished = None
        if state.digest is not None and state.digest != launched.get(state.audience):
            unfinished = run_of_partition(context.instance, labeler_fit_job.name, state.audience, UNFINISHED)
        verdict = judge_refit_state(state, settings, launched.get(state.audience), unfinished)
        notes.append(verdict.note)
        if not verdict.launch or state.digest is None:
            continue
        launched[state.audience] = state.digest
        requests.append(
            dg.RunRequest(
                run_key=f"{state.audience}@{state.digest}",
                partition_key=state.audience,
                tags={
                    TRIGGER_TAG: SENSOR_NAME,
                    REASON_TAG: f"reviews:{state.fitted_reviews}->{state.reviews}",
                    REVIEWS_DIGEST_TAG: state.digest,
                    REVIEWS_TAG: str(state.reviews),
                },
            )
        )
    kept = {audience: digest for audience, digest in launched.items() if audience in audiences}
    return tick_result(context, requests, "; ".join(notes) or "no audience", dump_cursor({"launched": kept}))


@dg.sensor(
    name=SENSOR_NAME,
    job=labeler_fit_job,
    minimum_interval_seconds=REFIT_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Launches scout_labeler_fit for an audience version when its reviews outnumber those of its "
        "latest fit by refit_after_reviews (labeling.yaml); one run per state of the reviews."
    ),
)
def labeler_refit_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
    return labeler_refit_tick(context, warehouse)
