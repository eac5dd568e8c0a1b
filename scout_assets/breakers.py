"""Circuit breakers over the warehouse: one per platform and per model provider, shared by every process.

The decisions are pure (``domain/breaker.py``); this module keeps each breaker's state in the
``circuit_breakers`` table and its transitions and skips in ``breaker_events``, and hands the
two calling assets what they need:

- ``raw_searches``: ``platform_breaker(...).check()`` at the start (an open breaker skips the
  run, recorded), then ``guard(client)``, which asks the breaker before every search page and
  tells it each page's outcome, so a platform that goes down mid-run costs at most
  ``consecutive_failures`` pages, not one per keyword;
- ``llm_labels``: ``provider_breaker(...).check()`` at the start, then ``call(...)`` around each
  batch.

Why in the warehouse: Dagster runs are separate processes (and production may run several
hosts), so a breaker held in memory would open in one run and be forgotten by the next. Every
decision is one warehouse transaction: the row is created if missing, read (``FOR UPDATE`` on
PostgreSQL, so a second process waits for the first to commit; DuckDB admits one writing
process at a time anyway), changed and written back. Two processes therefore never both take
the half-open probe. A write conflict (two connections of one DuckDB process) repeats the
decision, which then sees the other's result.

Configuration: ``config/breakers.yaml`` (defaults and per-breaker overrides), read on every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import dagster as dg
import polars as pl
from pydantic import Field, model_validator

from resources.models.registry import load_model_registry
from resources.platforms.search_page import ErrorKind, PlatformError
from resources.warehouse import Warehouse, WarehouseTransaction
from scout_assets.domain import breaker as rules
from scout_assets.domain.breaker import Admission, BreakerPolicy, BreakerState
from scout_contract.config_file import (
    ConfigFileError,
    ConfigModel,
    NonNegative,
    PositiveInteger,
    Share,
    field_problem,
    load_config_file,
)
from scout_contract.labels import LabelBatchResult
from scout_contract.paths import CONFIG_DIR
from scout_contract.platforms import PLATFORMS
from scout_contract.tables import BREAKER_EVENTS, CIRCUIT_BREAKERS, polars_schema

T = TypeVar("T")

BREAKERS_FILE = CONFIG_DIR / "breakers.yaml"
PLATFORM, PROVIDER = "platform", "provider"
KINDS = (PLATFORM, PROVIDER)
_ERROR_CHARS = 500
_CONFLICT_RETRIES = 3


# --- configuration ----------------------------------------------------------------------------


class BreakerSettingsError(ConfigFileError):
    """A breakers file that cannot be used; names the file and the field."""


class PolicyFields(ConfigModel):
    """The policy fields as written in ``breakers.yaml`` (its header documents each)."""

    consecutive_failures: PositiveInteger
    window_calls: PositiveInteger
    window_error_rate: Share
    window_min_calls: PositiveInteger
    cooldown_seconds: NonNegative
    probe_timeout_seconds: Annotated[NonNegative, Field(gt=0)]

    def policy(self) -> BreakerPolicy:
        return BreakerPolicy(
            consecutive_failures=self.consecutive_failures,
            window_calls=self.window_calls,
            window_error_rate=self.window_error_rate,
            window_min_calls=self.window_min_calls,
            cooldown_s=self.cooldown_seconds,
            probe_timeout_s=self.probe_timeout_seconds,
        )


class PolicyOverride(ConfigModel):
    """Any of the policy fields, for one breaker."""

    consecutive_failures: PositiveInteger | None = None
    window_calls: PositiveInteger | None = None
    window_error_rate: Share | None = None
    window_min_calls: PositiveInteger | None = None
    cooldown_seconds: NonNegative | None = None
    probe_timeout_seconds: Annotated[NonNegative, Field(gt=0)] | None = None


class BreakersFile(ConfigModel):
    """``breakers.yaml``: the defaults, and overrides keyed ``platform:<name>`` / ``provider:<name>``."""

    defaults: PolicyFields
    overrides: dict[str, PolicyOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> BreakersFile:
        known = known_breakers()
        for key in self.overrides:
            if key not in known:
                raise field_problem(
                    "overrides", f"{key!r} is not a breaker; known: {', '.join(sorted(known))}"
                )
        for key in ("", *self.overrides):
            fields = self._fields(key)
            if fields.window_min_calls > fields.window_calls:
                where = f"{key}: " if key else ""
                raise field_problem(
                    "overrides" if key else "defaults",
                    f"{where}window_min_calls ({fields.window_min_calls}) must be <= window_calls "
                    f"({fields.window_calls})",
                )
        return self

    def policy(self, kind: str, name: str) -> BreakerPolicy:
        return self._fields(f"{kind}:{name}").policy()

    def _fields(self, key: str) -> PolicyFields:
        override = self.overrides.get(key)
        if override is None:
            return self.defaults
        return self.defaults.model_copy(update=override.model_dump(exclude_none=True))


def known_breakers() -> set[str]:
    """Every breaker there is: ``platform:<name>`` for each platform, ``provider:<name>`` per models.yaml."""
    providers = {spec.provider for spec in load_model_registry().values()}
    return {f"{PLATFORM}:{p}" for p in PLATFORMS} | {f"{PROVIDER}:{p}" for p in providers}


def load_breakers_file(path: Path | None = None) -> BreakersFile:
    """Read and check ``breakers.yaml`` (``BREAKERS_FILE`` when ``path`` is None, read at call time)."""
    return load_config_file(path or BREAKERS_FILE, BreakersFile, "breakers file", error=BreakerSettingsError)


# --- the stored state -------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class BreakerStore:
    """The breakers' rows; every method is one warehouse transaction (see the module docstring)."""

    def __init__(self, warehouse: Warehouse, clock: Callable[[], datetime] | None = None) -> None:
        self.warehouse = warehouse
        # utc_now is looked up at each call, so a test can move time across a cool-down.
        self.clock = clock or (lambda: utc_now())

    def read(self, kind: str, name: str) -> BreakerState:
        """The breaker as stored (a closed, empty one if it never saw a call)."""
        frame = self.warehouse.read(
            "select * from circuit_breakers where kind = $1 and name = $2", [kind, name]
        )
        return _state(frame, kind, name)

    def peek(self, kind: str, name: str, policy: BreakerPolicy, owner: str) -> Admission:
        """What ``admit`` would answer now, changing nothing (the start-of-run check)."""
        return rules.admit(self.read(kind, name), policy, self.clock(), owner)

    def admit(self, kind: str, name: str, policy: BreakerPolicy, owner: str) -> Admission:
        """May ``owner`` make one call now? Takes the half-open probe when it is due."""

        def step(state: BreakerState, now: datetime) -> tuple[BreakerState, Admission]:
            admission = rules.admit(state, policy, now, owner)
            return admission.state, admission

        return self._decide(kind, name, owner, step)

    def record(
        self, kind: str, name: str, policy: BreakerPolicy, owner: str, *, ok: bool, error: str | None = None
    ) -> BreakerState:
        """One call's outcome; opens, closes or reopens the breaker as the policy says."""
        error = None if error is None else error[:_ERROR_CHARS]

        def step(state: BreakerState, now: datetime) -> tuple[BreakerState, BreakerState]:
            after = rules.record(state, policy, now, ok=ok, error=error)
            return after, after

        return self._decide(kind, name, owner, step)

    def skipped(self, state: BreakerState, reason: str, run_id: str) -> None:
        """Record that a run skipped its platform or provider because the breaker refused it."""
        self.warehouse.append(
            BREAKER_EVENTS.name, _events([_event(state, "skipped", reason, run_id, self.clock())])
        )

    def _decide(
        self,
        kind: str,
        name: str,
        run_id: str,
        step: Callable[[BreakerState, datetime], tuple[BreakerState, T]],
    ) -> T:
        for attempt in range(1, _CONFLICT_RETRIES + 1):
            try:
                with self.warehouse.transaction() as tx:
                    before = self._locked(tx, kind, name)
                    now = self.clock()
                    after, answer = step(before, now)
                    if after != before:
                        tx.upsert(CIRCUIT_BREAKERS.name, _rows([after]))
                    if after.last_change and _transition(before, after):
                        event = after.last_change.split(":", 1)[0]  # rules.EVENTS
                        tx.append(
                            BREAKER_EVENTS.name,
                            _events([_event(after, event, after.last_change, run_id, now)]),
                        )
                    return answer
            except Exception as exc:
                # A write conflict arrives as WarehouseError, or at commit as the driver's own error.
                if attempt == _CONFLICT_RETRIES or "conflict" not in str(exc).lower():
                    raise
        raise AssertionError("unreachable")

    def _locked(self, tx: WarehouseTransaction, kind: str, name: str) -> BreakerState:
        """The row, created if missing and locked for this transaction on PostgreSQL."""
        tx.append(CIRCUIT_BREAKERS.name, _rows([BreakerState(kind=kind, name=name, updated_at=self.clock())]))
        lock = " for update" if self.warehouse.kind == "postgres" else ""
        frame = tx.read(f"select * from circuit_breakers where kind = $1 and name = $2{lock}", [kind, name])
        return _state(frame, kind, name)


def _transition(before: BreakerState, after: BreakerState) -> bool:
    """True when ``after`` changed the state (a new ``last_change``, or the same one again later)."""
    return bool(after.last_change) and (after.last_change, after.changed_at) != (
        before.last_change,
        before.changed_at,
    )


def _state(frame: pl.DataFrame, kind: str, name: str) -> BreakerState:
    if frame.is_empty():
        return BreakerState(kind=kind, name=name)
    return _from_row(frame.row(0, named=True))


_STATE_FIELDS = tuple(BreakerState.__dataclass_fields__)


def _from_row(row: Mapping[str, Any]) -> BreakerState:
    values = {field: row.get(field) for field in _STATE_FIELDS}
    values["window_outcomes"] = values["window_outcomes"] or ""
    values["consecutive_failures"] = int(values["consecutive_failures"] or 0)
    values["times_opened"] = int(values["times_opened"] or 0)
    return BreakerState(**values)


def _rows(states: list[BreakerState]) -> pl.DataFrame:
    rows = [asdict(state) | {"error_rate": state.error_rate} for state in states]
    return pl.DataFrame(rows, schema=polars_schema(CIRCUIT_BREAKERS.columns))


def _event(state: BreakerState, event: str, reason: str, run_id: str, at: datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "kind": state.kind,
        "name": state.name,
        "event": event,
        "state": state.state,
        "reason": reason[:_ERROR_CHARS],
        "run_id": run_id,
        "happened_at": at,
    }


def _events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(BREAKER_EVENTS.columns))


# --- what a run uses --------------------------------------------------------------------------


class BreakerOpenError(PlatformError):
    """A search page not sent because the platform's circuit breaker refused it (nothing was called)."""

    kind = ErrorKind.CIRCUIT_OPEN


class Breaker:
    """One breaker as one run uses it: ``check()`` first, then ask before and report after each call.

    Changes and refusals are logged, ``metadata()`` is the asset's ``circuit_breaker`` entry, and
    the first refusal of a run is recorded in ``breaker_events`` (one "skipped" row per run).
    """

    def __init__(
        self,
        context: dg.AssetExecutionContext,
        store: BreakerStore,
        kind: str,
        name: str,
        policy: BreakerPolicy,
    ) -> None:
        self.context = context
        self.store = store
        self.kind = kind
        self.name = name
        self.policy = policy
        self.run_id = context.run_id
        self.state = BreakerState(kind=kind, name=name)
        self.calls = 0
        self.refused = 0
        self.checked: Admission | None = None

    def check(self) -> Admission:
        """At the start of a run: would a call be admitted now? An open breaker skips the run (recorded)."""
        admission = self.store.peek(self.kind, self.name, self.policy, self.run_id)
        self.checked = admission
        self.state = admission.state
        if not admission.allowed:
            self._refused(admission)
        return admission

    def admit(self) -> Admission:
        admission = self.store.admit(self.kind, self.name, self.policy, self.run_id)
        self.state = admission.state
        if admission.verdict == "probe":
            self.context.log.warning(f"circuit breaker {self.state.label}: {self.state.last_change}")
        if not admission.allowed:
            self._refused(admission)
        return admission

    def outcome(self, *, ok: bool, error: str | None = None) -> None:
        self.calls += 1
        before = self.state.state
        self.state = self.store.record(self.kind, self.name, self.policy, self.run_id, ok=ok, error=error)
        if self.state.state != before:
            log = self.context.log.info if self.state.state == rules.CLOSED else self.context.log.warning
            log(f"circuit breaker {self.state.label}: {self.state.last_change}")

    def metadata(self) -> dict[str, dg.MetadataValue]:
        state = self.state
        rate = state.error_rate
        return {
            "circuit_breaker": dg.MetadataValue.json(
                {
                    "breaker": f"{state.kind}:{state.name}",
                    "state": state.state,
                    "consecutive_failures": state.consecutive_failures,
                    "error_rate": None if rate is None else round(rate, 3),
                    "calls_in_window": len(state.window_outcomes),
                    "opened_at": _iso(state.opened_at),
                    "probe_after": _iso(state.probe_after),
                    "last_change": state.last_change,
                    "calls_this_run": self.calls,
                    "refused_this_run": self.refused,
                }
            )
        }

    def skipped_result(self) -> dg.MaterializeResult:
        """What a run that ``check()`` refused reports: nothing was called, and why."""
        admission = self.checked
        assert admission is not None, "skipped_result() answers a check()"
        return dg.MaterializeResult(
            metadata={
                "skipped": f"circuit breaker {admission.state.label} is {admission.state.state}: {admission.reason}",
                **self.metadata(),
            }
        )

    def _refused(self, admission: Admission) -> None:
        self.refused += 1
        reason = f"circuit breaker {admission.state.label} is {admission.state.state}: {admission.reason}"
        self.context.log.warning(f"skipping: {reason}")
        if self.refused == 1:
            self.store.skipped(admission.state, reason, self.run_id)


class PlatformBreaker(Breaker):
    """The breaker of one platform, for ``raw_searches``."""

    def guard(self, client: Any) -> GuardedSearch:
        return GuardedSearch(client, self)


class GuardedSearch:
    """A platform client whose every ``search`` page is admitted by, and reported to, the breaker.

    A refused page raises ``BreakerOpenError`` (a ``PlatformError`` with no calls), which the
    asset records like any failed keyword; every other attribute is the client's own.
    """

    def __init__(self, client: Any, breaker: PlatformBreaker) -> None:
        self._client = client
        self._breaker = breaker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def search(self, keyword: str, cursor: str | None = None, **options: Any):
        admission = self._breaker.admit()
        if not admission.allowed:
            raise BreakerOpenError(
                platform=self._breaker.name,
                keyword=keyword,
                cursor=cursor,
                endpoint="search",
                status=None,
                attempts=0,
                reason=f"not sent: circuit breaker {admission.state.state} ({admission.reason})",
            )
        try:
            page = self._client.search(keyword, cursor, **options)
        except PlatformError as exc:  # every failure of the HTTP stack, after the client's own retries
            self._breaker.outcome(ok=False, error=str(exc))
            raise
        self._breaker.outcome(ok=True)
        return page


class ProviderBreaker(Breaker):
    """The breaker of one model provider, for ``llm_labels``."""

    def call(self, label: Callable[..., LabelBatchResult], *args: Any) -> LabelBatchResult:
        """Label one batch through the breaker.

        A batch fails for the breaker when the labeler gave up (it raised) or when it came back
        without a single label (every profile failed, e.g. a provider error). A refused batch
        fails the step (not retried): labels already stored stay, the rest stays pending.
        """
        admission = self.admit()
        if not admission.allowed:
            raise dg.Failure(
                description=f"circuit breaker {admission.state.label} refused the next batch: {admission.reason}",
                metadata=self.metadata(),
                allow_retries=False,
            )
        try:
            result = label(*args)
        except Exception as exc:
            self.outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
            raise
        failed = not result.labels and bool(result.failures)
        self.outcome(ok=not failed, error=result.failures[0].error if failed else None)
        return result


def platform_breaker(
    context: dg.AssetExecutionContext, warehouse: Warehouse, platform: str
) -> PlatformBreaker:
    return PlatformBreaker(context, BreakerStore(warehouse), PLATFORM, platform, _policy(PLATFORM, platform))


def provider_breaker(
    context: dg.AssetExecutionContext, warehouse: Warehouse, provider: str
) -> ProviderBreaker:
    return ProviderBreaker(context, BreakerStore(warehouse), PROVIDER, provider, _policy(PROVIDER, provider))


def _policy(kind: str, name: str) -> BreakerPolicy:
    return load_breakers_file().policy(kind, name)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(sep=" ", timespec="seconds")
