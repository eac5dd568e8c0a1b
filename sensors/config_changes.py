"""``config_change_sensor``: act on edits of the checked-in config without waiting for a person.

It watches the keyword file (``SCOUT_KEYWORD_FILE`` or ``config/keywords.csv``), every audience
file and ``config/labeling.yaml``, and keeps their content hashes in its cursor:

- a new or changed keyword file → materialize ``keywords`` for today on every platform, so the
  new keywords' state is in the warehouse (and in the UI) before the next search tick;
- an audience version newly listed as active in ``labeling.yaml`` → refresh the labeling queue
  (``profiles_to_score``) of the last ``SCOUT_RELABEL_DAYS`` days on every platform. The queue
  drops accounts that every model already labeled for the audiences active *then*; refreshed
  under the new audience set, they are back, and ``relabel.py`` launches the labeling runs as
  each refresh succeeds (labels are per audience version, so all of the new version's units
  are pending).

The first tick (no cursor) only records what it sees. A file that does not load is reported
(file and line) and its entry in the cursor is *not* advanced, so the fix is seen as a change.
An active audience whose wording changed without a version bump is reported, not relabeled:
existing labels keep naming the version they were made against; bump the version to relabel.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from scout_assets.config_files import ConfigFiles
from scout_assets.domain.keyword_file import KeywordFileError, load_keyword_file
from scout_assets.jobs import rederive_job, scout_main_job
from scout_assets.labeling.settings import LABELING_FILE, LabelingSettingsError, load_labeling_settings
from scout_assets.partitions import PLATFORMS, partition_key
from scout_contract.audience import AUDIENCES_DIR, AudienceError, load_audience
from sensors.cursors import dump_cursor, load_cursor, recent_days, tick_result, utc_now
from sensors.settings import CONFIG_CHANGE_INTERVAL_S, relabel_days
from sensors.targets import MAIN_JOB, REASON_TAG, TRIGGER_TAG

SENSOR_NAME = "config_change_sensor"
RELABEL_AUDIENCE_TAG = "scout/relabel_audience"  # on queue refreshes; relabel.py follows them up
KEYWORDS_ASSET = dg.AssetKey("keywords")
QUEUE_ASSET = dg.AssetKey("profiles_to_score")


@dataclass(frozen=True)
class ConfigPaths:
    """Where the watched files are: the keyword file the assets read, and the labeling config."""

    keyword_file: Path
    audiences_dir: Path = AUDIENCES_DIR
    labeling_file: Path = LABELING_FILE


@dataclass
class ConfigSnapshot:
    """The watched files as of one tick: hashes of what loads, errors for what does not."""

    keyword_file: str
    keyword_hash: str | None
    audience_hashes: dict[str, str]  # audience key -> content hash of every loadable audience file
    active: tuple[str, ...] | None  # the active audience keys, None when labeling.yaml does not load
    errors: dict[str, str]  # "keywords" | "labeling" | audience key -> message


def file_hash(path: Path) -> str:
    """A short content digest: what the cursor compares, so a touch without an edit is no change."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_snapshot(paths: ConfigPaths) -> ConfigSnapshot:
    """Load every watched file with the loader its asset uses, so "loads" means "the runs accept it"."""
    errors: dict[str, str] = {}
    keyword_hash = None
    try:
        load_keyword_file(paths.keyword_file)  # validates; the message names file and line
        keyword_hash = file_hash(paths.keyword_file)
    except KeywordFileError as exc:
        errors["keywords"] = str(exc)
    audience_hashes: dict[str, str] = {}
    for path in sorted(paths.audiences_dir.glob("*.json")):
        try:
            audience = load_audience(path)
        except AudienceError as exc:
            errors[path.name.removesuffix(".json")] = str(exc)
        else:
            audience_hashes[audience.key] = audience.content_hash
    active = None
    try:
        active = load_labeling_settings(paths.labeling_file).audiences
    except LabelingSettingsError as exc:
        errors["labeling"] = str(exc)
    return ConfigSnapshot(str(paths.keyword_file), keyword_hash, audience_hashes, active, errors)


def config_change_tick(
    context: dg.SensorEvaluationContext, now: datetime, paths: ConfigPaths
) -> dg.SensorResult:
    """One evaluation at ``now`` (aware UTC) over the files at ``paths`` (default: the live ones)."""
    snapshot = read_snapshot(paths)
    previous = load_cursor(context.cursor, SENSOR_NAME, context.log)
    if previous is None:
        return _first_tick(snapshot)

    today = now.date()
    notes: list[str] = []
    requests: list[dg.RunRequest] = []
    cursor = {
        "keywords": previous.get("keywords"),
        "audiences": snapshot.audience_hashes,
        "active": dict(previous.get("active", {})),
    }

    # Keywords: a loadable file whose content (or location) differs from the recorded one.
    recorded = previous.get("keywords") or {}
    if "keywords" in snapshot.errors:
        notes.append(f"keyword file not loaded, keywords not refreshed: {snapshot.errors['keywords']}")
    elif (recorded.get("path"), recorded.get("hash")) != (snapshot.keyword_file, snapshot.keyword_hash):
        requests += keyword_requests(today, recorded.get("hash"), snapshot.keyword_hash or "")
        cursor["keywords"] = {"path": snapshot.keyword_file, "hash": snapshot.keyword_hash}
        notes.append(f"keyword file {snapshot.keyword_file} changed: refreshing keywords for {today}")

    # Audiences: versions newly listed as active start a relabel of the recent days.
    if snapshot.active is None:
        notes.append(f"labeling settings not loaded, audiences not checked: {snapshot.errors['labeling']}")
    else:
        active_now: dict[str, str] = {}
        for key in snapshot.active:
            if key not in snapshot.audience_hashes:
                problem = snapshot.errors.get(key, f"no audience file {key}.json")
                notes.append(f"active audience {key} not usable, not relabeled: {problem}")
                if key in cursor["active"]:
                    active_now[key] = cursor["active"][key]  # keep the recorded state until it loads
                continue
            digest = snapshot.audience_hashes[key]
            active_now[key] = digest
            if key not in cursor["active"]:
                days = recent_days(today, relabel_days())
                requests += queue_refresh_requests(key, digest, days)
                notes.append(
                    f"audience {key} is newly active: refreshing the queue of {len(days)} days "
                    f"({days[-1]}..{days[0]}); labeling runs follow each refresh"
                )
            elif cursor["active"][key] != digest:
                notes.append(
                    f"active audience {key} changed without a version bump: existing labels keep the "
                    "earlier wording; bump the version (new file, listed in labeling.yaml) to relabel"
                )
        cursor["active"] = active_now

    return tick_result(context, requests, "; ".join(notes) or "no config change", dump_cursor(cursor))


def _first_tick(snapshot: ConfigSnapshot) -> dg.SensorResult:
    """Record hashes only: files as they are when the sensor starts are not changes."""
    keywords = (
        {"path": snapshot.keyword_file, "hash": snapshot.keyword_hash} if snapshot.keyword_hash else None
    )
    active = {k: snapshot.audience_hashes[k] for k in snapshot.active or () if k in snapshot.audience_hashes}
    cursor = {"keywords": keywords, "audiences": snapshot.audience_hashes, "active": active}
    message = (
        f"first tick: recorded the keyword file, {len(snapshot.audience_hashes)} audience file(s) and "
        f"{len(active)} active audience(s); nothing launched"
    )
    if snapshot.errors:
        message += "; not recorded (do not load): " + "; ".join(snapshot.errors.values())
    return dg.SensorResult(skip_reason=message, cursor=dump_cursor(cursor))


def keyword_requests(today: date, previous: str | None, digest: str) -> list[dg.RunRequest]:
    """Materialize only ``keywords`` for today on every platform (no search, no API call).

    The run key names the change (old -> new content), so reverting an edit is a change too.
    """
    return [
        dg.RunRequest(
            run_key=f"keywords@{previous or 'none'}->{digest}:{key}",
            job_name=MAIN_JOB,
            partition_key=str(key),
            asset_selection=[KEYWORDS_ASSET],
            tags={TRIGGER_TAG: SENSOR_NAME, REASON_TAG: f"keywords:{digest}"},
        )
        for key in (partition_key(today, platform) for platform in PLATFORMS)
    ]


def queue_refresh_requests(audience: str, digest: str, days: list[date]) -> list[dg.RunRequest]:
    """Re-derive ``profiles_to_score`` of ``days`` on every platform under the new audience set."""
    return [
        dg.RunRequest(
            run_key=f"audience:{audience}@{digest}:{key}",
            job_name=rederive_job.name,
            partition_key=str(key),
            asset_selection=[QUEUE_ASSET],
            tags={
                TRIGGER_TAG: SENSOR_NAME,
                REASON_TAG: f"audience:{audience}",
                RELABEL_AUDIENCE_TAG: audience,
            },
        )
        for key in (partition_key(day, platform) for day in days for platform in PLATFORMS)
    ]


@dg.sensor(
    name=SENSOR_NAME,
    jobs=[scout_main_job, rederive_job],
    minimum_interval_seconds=CONFIG_CHANGE_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches keywords.csv, the audience files and labeling.yaml: a keyword edit refreshes today's "
        "keyword state; a newly active audience version refreshes and relabels the last SCOUT_RELABEL_DAYS days."
    ),
)
def config_change_sensor(context: dg.SensorEvaluationContext, config_files: ConfigFiles) -> dg.SensorResult:
    return config_change_tick(context, utc_now(), ConfigPaths(keyword_file=config_files.keyword_path))
