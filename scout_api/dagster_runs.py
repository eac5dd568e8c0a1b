"""Start searches and follow runs through the Dagster webserver's GraphQL API.

Dagster stays the only orchestrator: a search is a run of the ``scout_main`` job for today's
partition of one platform, submitted with Dagster's own GraphQL client (``DagsterGraphQLClient``),
with the keywords in the ``raw_searches`` run config (``RawSearchConfig.keywords``) and tags that
say where it came from. Progress (status, steps done of total) is one GraphQL query on the same
webserver. Nothing here loads Scout's code location.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import httpx

from scout_contract.platforms import PLATFORMS

SEARCH_JOB = "scout_main"
# Terminal run statuses (Dagster's DagsterRunStatus names, as GraphQL spells them).
FINISHED = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

_PROGRESS_QUERY = """
query ScoutRunProgress($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId status jobName startTime endTime
      tags { key value }
      stepKeysToExecute
      executionPlan { steps { key } }
      stepStats { stepKey status }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


class DagsterUnavailable(RuntimeError):
    """The Dagster webserver cannot be reached or answered with an error it did not explain."""


class DagsterRefused(RuntimeError):
    """Dagster answered but would not start the run (unknown job, invalid config ...)."""


class RunNotFound(LookupError):
    """Dagster knows no run with that id."""


@dataclass(frozen=True)
class RunProgress:
    """Where one run stands: its status and how many of its steps are done."""

    run_id: str
    status: str
    job_name: str
    steps_total: int
    steps_succeeded: int
    steps_failed: int
    steps_skipped: int
    started_at: float | None = None  # Unix seconds
    ended_at: float | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "finished": self.finished,
            "job_name": self.job_name,
            "steps": {
                "total": self.steps_total,
                "done": self.steps_succeeded + self.steps_failed + self.steps_skipped,
                "succeeded": self.steps_succeeded,
                "failed": self.steps_failed,
                "skipped": self.steps_skipped,
            },
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "tags": {
                k: v for k, v in self.tags.items() if k.startswith("scout/") or k == "dagster/partition"
            },
        }


def partition_tags(day: date, platform: str) -> dict[str, str]:
    """The tags Dagster reads a run's partition from, for the ``date|platform`` key of ``scout_main``."""
    import dagster as dg

    # The job's partitions (scout_assets/partitions.py, which this floor may not import) are the
    # daily x platform product; a one-day stand-in gives Dagster's own tags for the key.
    stand_in = dg.MultiPartitionsDefinition(
        {
            "date": dg.StaticPartitionsDefinition([day.isoformat()]),
            "platform": dg.StaticPartitionsDefinition(list(PLATFORMS)),
        }
    )
    key = dg.MultiPartitionKey({"date": day.isoformat(), "platform": platform})
    return dict(stand_in.get_tags_for_partition_key(key))


class DagsterRuns:
    """One Dagster webserver, by URL (``SCOUT_DAGSTER_URL``): launch searches, read run progress."""

    def __init__(self, url: str, timeout_seconds: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Dagster URL {url!r} is not http(s)://host[:port][/prefix]")
        self.url = url.rstrip("/")
        self._parts = parts
        self.timeout_seconds = timeout_seconds

    def _client(self):
        from dagster_graphql import DagsterGraphQLClient

        return DagsterGraphQLClient(
            self._parts.hostname,
            port_number=self._parts.port,
            use_https=self._parts.scheme == "https",
            path_prefix=self._parts.path.rstrip("/"),
            timeout=int(self.timeout_seconds),
        )

    def launch_search(
        self, *, platform: str, keywords: list[str], pages_per_keyword: int, day: date, tags: dict[str, str]
    ) -> str:
        """Submit one ``scout_main`` run of ``day|platform`` that searches ``keywords``; return its id."""
        from dagster_graphql import DagsterGraphQLClientError

        run_config = {
            "ops": {
                "raw_searches": {
                    "config": {
                        "keywords": keywords,
                        "keywords_per_run": len(keywords),
                        "pages_per_keyword": pages_per_keyword,
                    }
                }
            }
        }
        try:
            return self._client().submit_job_execution(
                SEARCH_JOB, run_config=run_config, tags={**partition_tags(day, platform), **tags}
            )
        except DagsterGraphQLClientError as exc:
            if _connection_failed(exc):
                raise DagsterUnavailable(f"Dagster at {self.url} cannot be reached") from None
            # The client's message names the problem (job not found, invalid run config ...).
            raise DagsterRefused(f"Dagster did not start the run: {str(exc).splitlines()[0]}") from None

    def progress(self, run_id: str) -> RunProgress:
        """The run's status and step counts (``RunNotFound`` for an id Dagster does not know)."""
        try:
            response = httpx.post(
                f"{self.url}/graphql",
                json={"query": _PROGRESS_QUERY, "variables": {"runId": run_id}},
                timeout=self.timeout_seconds,
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DagsterUnavailable(
                f"Dagster at {self.url} cannot be reached ({type(exc).__name__})"
            ) from None
        result = (body.get("data") or {}).get("runOrError")
        if not result:
            raise DagsterUnavailable(f"Dagster at {self.url} answered without a run: {body.get('errors')}")
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFound(f"run {run_id}: Dagster knows no such run")
        if result["__typename"] != "Run":
            raise DagsterUnavailable(
                f"Dagster at {self.url} failed to read run {run_id}: {result.get('message')}"
            )
        return _progress(result)


def _connection_failed(exc: BaseException) -> bool:
    """True when the client's error was caused by the network (refused, timed out, reset), not by Dagster."""
    import requests

    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        if isinstance(cause, requests.exceptions.RequestException | OSError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _progress(run: dict[str, Any]) -> RunProgress:
    planned = run.get("stepKeysToExecute") or [
        step["key"] for step in ((run.get("executionPlan") or {}).get("steps") or [])
    ]
    stats = {stat["stepKey"]: stat["status"] for stat in run.get("stepStats") or []}
    return RunProgress(
        run_id=run["runId"],
        status=run["status"],
        job_name=run["jobName"],
        steps_total=max(len(planned), len(stats)),
        steps_succeeded=sum(1 for status in stats.values() if status == "SUCCESS"),
        steps_failed=sum(1 for status in stats.values() if status == "FAILURE"),
        steps_skipped=sum(1 for status in stats.values() if status == "SKIPPED"),
        started_at=run.get("startTime"),
        ended_at=run.get("endTime"),
        tags={tag["key"]: tag["value"] for tag in run.get("tags") or []},
    )
