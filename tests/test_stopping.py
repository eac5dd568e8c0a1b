"""``scout run`` stops within seconds of SIGTERM, stored data intact, and every failed run leaves a row.

The real command runs as a subprocess against the sandbox (X through ``SCOUT_TWITTER_URL``,
Bluesky through ``SCOUT_BLUESKY_URL``) and a real warehouse. The 10-second bound is the issue's
own ("exits within 10 s"); without the stop, the X request below would wait 30 s per attempt
for its Retry-After, five attempts, so the bound cannot be met by chance.

The second test is about a wait inside Dagster itself: a step whose ``RetryPolicy`` turned a
failure into a retry, while the orchestrator sleeps the retry delay (the dbt steps have such a
policy; a failing dbt build would be slow to stage, so a small job of the same shape stands in).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from scout_contract.paths import PROJECT_ROOT
from scout_sandbox import Fault
from tests.pipeline_support import MAIN_ASSETS, materialize

EXIT_BOUND_S = 10.0
STARTUP_BOUND_S = 180.0  # importing Dagster and building the definitions; generous for slow CI
TWITTER_TABLES = (
    "raw_searches",
    "api_calls",
    "profiles",
    "profile_snapshots",
    "has_scores",
    "profiles_to_score",
)


def _environ(tmp_path: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCOUT_", "DAGSTER_", "TWITTERX_"))}
    env |= {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "SCOUT_DATA_DIR": str(tmp_path / "data")}
    return env | variables


def _wait_for(condition, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_BOUND_S
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {what} within {STARTUP_BOUND_S:g}s: {process.communicate()[0]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> tuple[float, str]:
    """SIGTERM, then how long the process took to end and what it printed."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"still running 60 s after SIGTERM: {output}") from None
    return time.monotonic() - sent, output


def _twitter_rows(warehouse) -> dict[str, pl.DataFrame]:
    return {
        name: warehouse.read(f"select * from {name} where platform = 'twitter'").sort(pl.all())
        for name in TWITTER_TABLES
    }


@pytest.mark.slow
def test_sigterm_during_a_retry_after_wait_stops_scout_run_and_every_failure_is_recorded(
    warehouse, sandbox, tmp_path
):
    assert materialize(MAIN_ASSETS, warehouse, sandbox, "twitter", keywords_per_run=2).success
    before = _twitter_rows(warehouse)
    keywords_before = warehouse.read("select count(*) as n from keywords where platform = 'twitter'")["n"][0]
    assert before["raw_searches"].height == 2

    sandbox.inject("/xrpc/", Fault.malformed())  # Bluesky's run fails (recorded, not stopped)
    sandbox.inject("/api/search/people", Fault("rate_limit", retry_after=30, requests=0))  # X: wait 30 s
    served_before = len(sandbox.requests)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scout_cli.main",
            "run",
            "--platforms",
            "bluesky",
            "twitter",
            "--keywords",
            "1",
        ],
        cwd=PROJECT_ROOT,
        env=_environ(
            tmp_path,
            SCOUT_WAREHOUSE_URL=warehouse.url,
            SCOUT_TWITTER_URL=sandbox.base_url,
            SCOUT_BLUESKY_URL=sandbox.base_url,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(
        lambda: any(r.status == 429 for r in sandbox.requests[served_before:]), "429 served to X", process
    )
    time.sleep(0.5)  # now asleep in the Retry-After wait
    took, output = _stop(process)

    assert took < EXIT_BOUND_S, output
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "STOPPED: stopped by SIGTERM" in output
    assert "materializing scout_label" not in output  # nothing started after the stop

    after = _twitter_rows(warehouse)
    for name in TWITTER_TABLES:
        assert after[name].equals(before[name]), name
    assert (
        warehouse.read("select count(*) as n from keywords where platform = 'twitter'")["n"][0]
        == keywords_before
    )

    failures = warehouse.read(
        "select job_name, partition_key, failure_kind, action, error_class, error from run_failures "
        "order by failed_at"
    )
    assert failures["job_name"].to_list() == ["scout_main", "scout_main"]
    bluesky, twitter = failures.rows(named=True)
    assert bluesky["partition_key"].endswith("|bluesky") and bluesky["action"] != "stopped"
    assert bluesky["failure_kind"] in ("poison", "unavailable", "transient")
    assert twitter["partition_key"].endswith("|twitter")
    assert (twitter["failure_kind"], twitter["action"], twitter["error_class"]) == (
        "stopped",
        "stopped",
        "SIGTERM",
    )
    assert "during step raw_searches" in twitter["error"]

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        statuses = {r.tags["dagster/partition"].split("|")[1]: r.status for r in instance.get_runs()}
    assert statuses["bluesky"] == dg.DagsterRunStatus.FAILURE
    # CANCELED when the stop reached Dagster's run loop first; FAILURE ("interrupted") when the
    # signal cut the step's sleep before the run could be marked canceling. Both end the run.
    assert statuses["twitter"] in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE)


PROGRAM = textwrap.dedent(
    """
    import sys, uuid
    import dagster as dg
    from scout_cli.stopping import SIGNALS, stoppable

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=3, delay=120))
    def flaky():
        print("flaky failed", flush=True)
        raise RuntimeError("lost the connection")

    @dg.asset(deps=[flaky])
    def downstream():
        print("downstream ran", flush=True)

    defs = dg.Definitions(assets=[flaky, downstream], jobs=[dg.define_asset_job("job", selection="*")])

    def main():
        with dg.DagsterInstance.get() as instance:
            for _ in range(2):
                run_id = str(uuid.uuid4())
                with SIGNALS.watching(instance, run_id):
                    defs.resolve_job_def("job").execute_in_process(
                        instance=instance, raise_on_error=False, run_id=run_id
                    )
                print("job ended", instance.get_run_by_id(run_id).status.value, flush=True)
        return 0

    sys.exit(stoppable(main)())
    """
)


@pytest.mark.slow
def test_sigterm_while_dagster_sleeps_a_step_retry_delay_cancels_the_run(tmp_path):
    (tmp_path / "dagster_home").mkdir()
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=PROJECT_ROOT,
        env=_environ(tmp_path, PYTHONPATH=str(PROJECT_ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def failed_once() -> bool:
        line = process.stdout.readline() if process.stdout else ""
        lines.append(line)
        return "flaky failed" in line

    _wait_for(failed_once, "the step's first failure", process)
    time.sleep(1.0)  # the orchestrator is in its 120 s retry sleep now
    took, output = _stop(process)
    output = "".join(lines) + output

    assert took < EXIT_BOUND_S, output
    assert process.returncode == 128 + signal.SIGTERM, output
    assert output.count("flaky failed") == 1 and "downstream ran" not in output
    assert "job ended CANCELED" in output and output.count("job ended") == 1  # the second job never started
