"""``scout``: the command line for people who do not want to open the UI first.

``scout run`` materializes the main job once for today on every platform (what the README's
run command does), then prints what was found. ``scout label`` labels a file of profiles
with any registered model, outside the asset graph.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from scout_assets.settings import PROJECT_ROOT

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
    ensure_dagster_home()
    import dagster as dg

    from scout_assets.definitions import defs
    from scout_assets.partitions import PLATFORMS, partition_key, today_utc
    from scout_assets.summary import print_summary

    day = today_utc()
    job = defs.resolve_job_def("scout_main")
    run_config = {
        "ops": {
            "raw_searches": {"config": {"keywords_per_run": args.keywords, "pages_per_keyword": args.pages}}
        }
    }
    failed = []
    with dg.DagsterInstance.get() as instance:
        for platform in args.platforms or PLATFORMS:
            key = partition_key(day, platform)
            print(f"materializing scout_main for partition {key} ...", flush=True)
            result = job.execute_in_process(
                instance=instance, partition_key=key, run_config=run_config, raise_on_error=False
            )
            if not result.success:
                failed.append(str(key))
    print_summary(day)
    if failed:
        print(f"FAILED partitions: {', '.join(failed)} (see the run logs in the Dagster UI)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scout", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize the main job once for today on every platform")
    run.add_argument("--platforms", nargs="*", help="platforms to run (default: all)")
    run.add_argument("--keywords", type=int, default=10, help="keywords searched per platform (default 10)")
    run.add_argument("--pages", type=int, default=1, help="pages fetched per keyword (default 1)")
    run.set_defaults(handler=run_main)
    _add_optional_commands(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


def _add_optional_commands(sub) -> None:
    """Commands whose modules pull heavy dependencies are registered here and imported lazily."""
    try:
        from scout_assets.labeling.label_cli import add_label_parser
    except ImportError:  # the labeling package is optional at this stage of the build
        return
    add_label_parser(sub)


if __name__ == "__main__":
    raise SystemExit(main())
