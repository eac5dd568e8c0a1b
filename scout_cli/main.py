"""``scout``: the command line for people who do not want to open the UI first.

``scout run`` materializes the whole graph once for today (what the README's run command
does): the main job on every platform, the labeling job for each model the cycle's draw selects
(one batch per paid model, docs/labeling.md "The cycle draw"), the
day's keyword statistics, the dbt marts and docs site; then it prints what was found. ``scout label`` labels a file of
profiles with any registered model, outside the asset graph and the warehouse. ``scout plan`` (and
``scout run --dry-run``) prints what a run would call, find, label and spend, and whether it fits the
budgets, without calling anything; ``scout run`` records that plan and prints it next to the actuals.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

from scout_cli.api_key import add_api_key_parser
from scout_cli.exclude import add_exclude_parser
from scout_cli.forget import add_forget_parser
from scout_cli.label import add_label_parser
from scout_cli.labeler import add_labeler_parser
from scout_cli.lead import add_lead_parser
from scout_cli.plan import (
    add_plan_parser,
    add_search_arguments,
    dry_run_main,
    plan_after_run,
    plan_before_run,
)
from scout_cli.review import add_review_parser
from scout_cli.stopping import SIGNALS, stoppable
from scout_contract.paths import PROJECT_ROOT
from scout_contract.settings import OFFLINE_SWITCHES

EMBEDDED_INSTANCE_YAML = PROJECT_ROOT / "infra" / "dagster.embedded.yaml"


def ensure_dagster_home() -> Path:
    """Use ``DAGSTER_HOME`` if set, else the project's ``.dagster_home`` with the embedded instance config."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    if not instance_yaml.exists():
        shutil.copyfile(EMBEDDED_INSTANCE_YAML, instance_yaml)
    return home


def run_main(args: argparse.Namespace) -> int:
    if args.dry_run:  # the plan only: no Dagster, no platform, no model (scout_cli/plan.py)
        return dry_run_main(args)
    ensure_dagster_home()
    import dagster as dg

    # Beta/preview notices about Dagster APIs we chose on purpose are for developers, not for this summary.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)

    from scout_assets.labeling.draw import Cycle, draw_labeling_models
    from scout_assets.partitions import PLATFORMS, model_partition_key, partition_key, today_utc
    from scout_assets.resources_binding import build_model_roster
    from scout_cli.failures import record_failed_run
    from scout_cli.summary import print_summary
    from scout_location.definitions import build_definitions
    from sensors.failure_kinds import FailureKind, classify_run
    from sensors.settings import LABEL_CYCLE_S

    defs = build_definitions()  # bound to the environment as it is now, not when a module was imported
    day = today_utc()
    plan = plan_before_run(args)  # printed and recorded in run_plans before anything is called
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # step logs are for the UI
    search = {
        "ops": {
            "raw_searches": {"config": {"keywords_per_run": args.keywords, "pages_per_keyword": args.pages}}
        }
    }
    failed: list[str] = []
    # An infrastructure failure (warehouse unreachable or locked, interruption) would fail every
    # later job the same way, and they depend on what the failed one should have written: stop.
    halted: list[str] = []
    with dg.DagsterInstance.get() as instance:

        def launch(job_name: str, key, run_config: dict | None = None, tags: dict | None = None) -> None:
            if halted:
                print(
                    f"not materializing {job_name} for partition {key}: stopped after {halted[0]}", flush=True
                )
                failed.append(f"{job_name} {key} (not run)")
                return
            print(f"materializing {job_name} for partition {key} ...", flush=True)
            run_id = str(uuid.uuid4())  # known before the run starts, so a SIGTERM can stop it
            with SIGNALS.watching(instance, run_id):
                result = defs.resolve_job_def(job_name).execute_in_process(
                    instance=instance,
                    partition_key=key,
                    run_config={**quiet, **(run_config or {})},
                    tags=tags,
                    raise_on_error=False,
                    run_id=run_id,
                )
            if not result.success:
                with SIGNALS.deferred():  # every failure leaves a row; a stop ends the command after it
                    record_failed_run(instance, run_id, stopped_by=SIGNALS.signal_name)
                failed.append(f"{job_name} {key}")
                why = classify_run(instance, result.run_id)
                if why.kind is FailureKind.TRANSIENT:
                    halted.append(f"{job_name} {key} failed on infrastructure")
                    print(f"{halted[0]}: {why.message}", file=sys.stderr, flush=True)

        for platform in args.platforms or PLATFORMS:
            launch("scout_main", partition_key(day, platform), search)
        # One operator cycle: the current cycle's draw (the one the label sensor sees too, unless
        # --seed replays another); a drawn paid model labels one batch, the local labeler is free
        # and labels up to max_batches_per_run batches (docs/labeling.md "The cycle draw").
        cycle = Cycle.at(datetime.now(UTC), LABEL_CYCLE_S)
        draw = draw_labeling_models(build_model_roster(), cycle, seed=args.seed)
        print(f"model draw (cycle {cycle.label}, seed {draw.seed}): {draw.describe()}", flush=True)
        for alias in draw.selected:
            launch(
                "scout_label",
                model_partition_key(day, alias),
                run_config=draw.run_config(alias),
                tags=draw.tags(alias),
            )
        plan_after_run(plan)  # the paid work is done: close the plan's window for its actuals
        launch("scout_keyword_stats", day.isoformat())
        launch("scout_dbt_models", None)
        launch("scout_dbt_marts", day.isoformat())
        launch("scout_dbt_docs", None)
    if not halted:  # after an infrastructure failure the summary's queries would fail the same way
        print_summary(day, plan_id=plan.plan_id if plan else None)
    if failed:
        print(f"FAILED: {'; '.join(failed)} (see the run logs in the Dagster UI)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    for name, value in OFFLINE_SWITCHES.items():  # before dbt, litellm or MiniLM are imported
        os.environ.setdefault(name, value)
    parser = argparse.ArgumentParser(prog="scout", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize the main job once for today on every platform")
    add_search_arguments(run)  # the same as `scout plan`'s
    run.add_argument(
        "--seed",
        type=int,
        help="seed of the model draw (default: the current 15-minute cycle's start; printed)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the run's plan (calls, yield, labels, dollars, budgets) and stop: no call is made",
    )
    run.set_defaults(handler=stoppable(run_main))  # SIGTERM/SIGINT end it within seconds
    add_plan_parser(sub)
    add_label_parser(sub)
    add_review_parser(sub)
    add_lead_parser(sub)
    add_labeler_parser(sub)
    add_exclude_parser(sub)
    add_forget_parser(sub)
    add_api_key_parser(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
