"""Benchmark: ingest at scale, the columnar page parser against the per-row reference, in one run.

    .venv/bin/python bench/bench_scale.py --profiles 200000 [--platform twitter] [--repeats 3]
    .venv/bin/python bench/bench_scale.py --profiles 1000000 --chain [--warehouse URL]

Pages are sandbox-shaped: ``--seed-pages`` distinct pages are rendered by the sandbox's own wire
code (X users in the mixed shapes, or Bluesky searchActors bodies with their getProfiles bodies),
then copied with every id and handle rewritten until there are ``--profiles`` accounts
(rendering a million accounts one by one would take the sandbox about 20 minutes). The copies
differ only in ids and handles, which the parsers read like any other text.

1. parse + score: the day's pages, ``PAGE_BATCH`` at a time as the ``profiles`` asset reads
   them, through ``columnar_appearances`` and then ``score_profiles``; the reference
   (``rowwise_appearances``, then the same scorer) runs on the first ``--reference-profiles``
   accounts, because at about 15-30 k rows/s it would take minutes at a million. Both give
   identical frames on that sample before any figure is printed. Times are medians of
   ``--repeats`` runs; the ratio is between rates measured in this run.
2. with ``--chain``: the pages are stored in ``raw_searches`` of a warehouse (a new DuckDB file
   unless ``--warehouse`` names one), then ``profiles`` -> ``has_scores`` -> ``profiles_to_score``
   -> the dbt marts are materialized for that day, each stage in a child process of its own, so
   its wall time and peak RSS (the child's own ``VmHWM``) are its own; "stage s" leaves out the
   child's start-up and imports, "process s" does not. Then the whole chain runs again in one
   child (a re-run of the day, one start-up), as a run with the in-process executor would.

No thresholds: this prints numbers; docs/performance.md compares them with issue 13's goals.
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from resources.platforms.columnar import columnar_appearances
from resources.platforms.stored_pages import PAGE_COLUMNS, rowwise_appearances
from resources.warehouse.location import mask_url
from scout_assets.assets.profiles_day import PAGE_BATCH
from scout_assets.domain.has import load_has_config, score_profiles
from scout_assets.page_store import append_pages
from scout_assets.partitions import day_end
from scout_contract.tables import PROFILE_COLUMNS, polars_schema, table
from scout_sandbox import bluesky_wire as sandbox_bluesky
from scout_sandbox import twitter_wire as sandbox_twitter
from scout_sandbox.replies import encode_json
from scout_sandbox.synthetic import sketch

DAY = date(2026, 11, 30)
PER_PAGE = {"twitter": 20, "bluesky": 25}
# Keys whose values are rewritten per copy, so every copy is a different set of accounts.
REWRITTEN = {"twitter": ('"rest_id":"', '"screen_name":"'), "bluesky": ('"did":"did:plc:', '"handle":"')}
STAGES = ("profiles", "has_scores", "profiles_to_score", "marts")
STORE_CHUNK = 5_000  # pages appended to raw_searches per write
STAGE_SECONDS = "stage-seconds:"


def seed_bodies(platform: str, pages: int) -> list[tuple[str, str | None]]:
    """``pages`` distinct pages as the sandbox serves them: (payload, hydration_payload)."""
    size = PER_PAGE[platform]
    bodies: list[tuple[str, str | None]] = []
    for page in range(pages):
        accounts = [sketch(platform, page * size + i) for i in range(size)]
        if platform == "twitter":
            users = [sandbox_twitter.user_result(p, "mixed") for p in accounts]
            bodies.append((encode_json({"data": users, "cursor": f"c{page}"}).decode(), None))
        else:
            actors = [sandbox_bluesky.profile_view(p) for p in accounts]
            detailed = [sandbox_bluesky.profile_view_detailed(p) for p in accounts]
            search = encode_json({"actors": actors, "cursor": str((page + 1) * size)}).decode()
            bodies.append((search, "[" + encode_json({"profiles": detailed}).decode() + "]"))
    return bodies


def day_pages(platform: str, bodies: list[tuple[str, str | None]], profiles: int) -> pl.DataFrame:
    """Enough copies of ``bodies`` for ``profiles`` accounts, as the day's stored pages in day order."""
    pages = math.ceil(profiles / PER_PAGE[platform])
    seeds = pl.DataFrame(bodies, schema={"payload": pl.String, "hydration_payload": pl.String}, orient="row")
    frame = pl.concat([seeds] * math.ceil(pages / len(bodies))).head(pages).with_row_index("n")
    copy = (pl.col("n") // len(bodies)).cast(pl.String)
    for key in REWRITTEN[platform]:
        marked = pl.concat_str(pl.lit(key), pl.lit("c"), copy, pl.lit("-"))
        frame = frame.with_columns(
            pl.col(c).str.replace_all(key, marked, literal=True) for c in frame.columns[1:]
        )
    return frame.select(
        pl.format("req-{}", pl.col("n").cast(pl.String).str.zfill(8)).alias("request_id"),
        pl.lit("postdoc").alias("keyword"),
        pl.col("n").cast(pl.Int64).alias("page"),
        "payload",
        "hydration_payload",
        (pl.lit(datetime(2026, 11, 30, 8)) + pl.duration(milliseconds=pl.col("n"))).alias("fetched_at"),
    ).select(PAGE_COLUMNS)


def parse_and_score(pages: pl.DataFrame, platform: str, parse, config) -> dict[str, float | pl.DataFrame]:
    """Parsing ``PAGE_BATCH`` pages at a time, then scoring, timed by :func:`read_and_score`."""
    return read_and_score(
        lambda: pl.concat([parse(batch, DAY, platform)[0] for batch in pages.iter_slices(PAGE_BATCH)]), config
    )


def read_and_score(read: Callable[[], pl.DataFrame], config) -> dict[str, float | pl.DataFrame]:
    """Wall and CPU seconds (all threads) of ``read`` (the day's appearances) and of reading +
    scoring, with the scores. CPU time is what the run cost on a machine shared with others."""
    wall, cpu = time.perf_counter(), time.process_time()
    appearances = read()
    read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
    scored = score_profiles(appearances.select(name for name, _ in PROFILE_COLUMNS), config, day_end(DAY))
    return {
        "parse": read_wall,
        "total": time.perf_counter() - wall,
        "parse_cpu": read_cpu,
        "total_cpu": time.process_time() - cpu,
        "scored": scored,
    }


def median_run(repeats: int, run) -> dict[str, float | pl.DataFrame]:
    """The median of each timing over ``repeats`` runs, and the last run's scores."""
    results = [run() for _ in range(repeats)]
    medians = {key: statistics.median(r[key] for r in results) for key in results[0] if key != "scored"}
    return medians | {"scored": results[-1]["scored"]}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def own_peak_rss_mb() -> float:
    """Peak RSS of this process image (``VmHWM``). ``ru_maxrss`` would not do for a child: Linux
    carries the parent's peak over ``fork`` and ``exec``, so every stage would report the bench's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def bench_parse(args: argparse.Namespace, pages: pl.DataFrame) -> int:
    config = load_has_config()
    sample = pages.head(math.ceil(args.reference_profiles / PER_PAGE[args.platform]))
    reference = rowwise_appearances(sample, DAY, args.platform)
    columnar = columnar_appearances(sample, DAY, args.platform)
    if not (reference[0].equals(columnar[0]) and reference[1].equals(columnar[1])):
        print("DISAGREEMENT between the columnar and the per-row parser on the sample")
        return 1
    print(f"agreement: identical appearances and quarantine on the {reference[0].height:,}-row sample")

    fast = median_run(
        args.repeats, lambda: parse_and_score(pages, args.platform, columnar_appearances, config)
    )
    slow = median_run(
        args.repeats, lambda: parse_and_score(sample, args.platform, rowwise_appearances, config)
    )
    rows, sample_rows = fast["scored"].height, reference[0].height
    header = ("parse /s", "parse+score /s", "parse /cpu-s", "parse+score /cpu-s")
    print(f"{'rows per second':<28}{'rows':>10}" + "".join(f"{h:>20}" for h in header))
    for label, n, timing in (
        ("columnar (all pages)", rows, fast),
        ("per-row reference (sample)", sample_rows, slow),
    ):
        rates = [n / timing[key] for key in ("parse", "total", "parse_cpu", "total_cpu")]
        print(f"{label:<28}{n:>10,}" + "".join(f"{rate:>20,.0f}" for rate in rates))
    ratios = [
        (rows / fast[key]) / (sample_rows / slow[key]) for key in ("parse", "total", "parse_cpu", "total_cpu")
    ]
    print(
        f"ratio columnar / per-row: parse {ratios[0]:.1f}x, parse+score {ratios[1]:.1f}x (wall); "
        f"{ratios[2]:.1f}x, {ratios[3]:.1f}x (CPU); medians of {args.repeats} runs"
    )
    print(f"peak RSS of this process: {peak_rss_mb():,.0f} MB")
    derived = bench_derivation(
        args, pages, config, sample_rows / slow["total"], sample_rows / slow["total_cpu"]
    )
    key = "platform_id"
    if not derived.sort(key).equals(fast["scored"].sort(key)):
        print("DISAGREEMENT between the scores of the typed rows and of the columnar parse")
        return 1
    print(f"agreement: identical scores from the typed rows and from the JSON ({rows:,} rows)")
    return 0


def bench_derivation(
    args: argparse.Namespace, pages: pl.DataFrame, config, reference_rate: float, reference_cpu_rate: float
) -> pl.DataFrame:
    """parse + score as ``profiles`` does it for pages parsed when fetched: the day's typed rows
    read back from a DuckDB warehouse (``page_profiles``), then scored. Storing the pages with
    their typed rows (what ``raw_searches`` does, page by page, as they arrive) is timed apart."""
    from resources.warehouse import Warehouse
    from scout_assets.assets.profiles_day import appearance_batches

    folder = Path(tempfile.mkdtemp(prefix="bench-scale-typed-"))
    try:
        url = f"duckdb://{folder / 'warehouse.duckdb'}"
        start = time.perf_counter()
        store_pages(url, args.platform, pages)
        stored = time.perf_counter() - start
        warehouse = Warehouse(url=url)

        def typed_rows() -> pl.DataFrame:
            batches = appearance_batches(warehouse, DAY, args.platform)
            return pl.concat((rows for rows, _ in batches), rechunk=False)  # no copy of the day

        typed = median_run(args.repeats, lambda: read_and_score(typed_rows, config))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = typed["scored"].height
    print(
        f"store pages + parse at fetch (raw_searches' write, whole day at once): {stored:.1f} s, "
        f"{rows / stored:,.0f} rows/s"
    )
    rate, cpu_rate = rows / typed["total"], rows / typed["total_cpu"]
    print(
        f"typed rows read + score (profiles' input): {rows:,} rows, read {typed['parse']:.2f} s, "
        f"read+score {typed['total']:.2f} s = {rate:,.0f} rows/s ({cpu_rate:,.0f} per CPU-s); "
        f"{rate / reference_rate:.0f}x the per-row parse+score (wall), {cpu_rate / reference_cpu_rate:.0f}x (CPU); "
        f"medians of {args.repeats} runs"
    )
    return typed["scored"]


# --- the chain, one child process per stage -------------------------------------------------------


def store_pages(url: str, platform: str, pages: pl.DataFrame) -> None:
    from resources.warehouse import Warehouse

    warehouse = Warehouse(url=url)
    warehouse.ensure_schema()
    spec = table("raw_searches")
    for chunk in pages.iter_slices(STORE_CHUNK):
        frame = chunk.with_columns(
            pl.lit(platform).alias("platform"),
            pl.lit(DAY).alias("partition_date"),
            pl.lit(200).alias("status"),
            pl.lit(PER_PAGE[platform]).alias("result_count"),
        )
        frame = frame.with_columns(pl.lit(None).alias(c) for c in spec.column_names if c not in frame.columns)
        with warehouse.transaction() as tx:  # as raw_searches stores them: typed rows beside the pages
            append_pages(tx, frame.select(spec.column_names).cast(polars_schema(spec.columns)), DAY, platform)


def run_stage(stage: str, url: str, platform: str) -> None:
    """Materialize one stage for the day (``chain``: all of them, in order) in this (child)
    process; prints their seconds, without the process start and the imports, as the last line."""
    materialize = _stage_runner(url, platform)
    start = time.perf_counter()
    for name in STAGES if stage == "chain" else (stage,):
        materialize(name)
    print(f"{STAGE_SECONDS} {time.perf_counter() - start:.3f} {own_peak_rss_mb():.0f}")


def _stage_runner(url: str, platform: str) -> Callable[[str], None]:
    """Import what the stages need (start-up, not timed: 2-4 s, the dbt assets load their
    manifest) and return the function that materializes one stage."""
    import dagster as dg

    from resources.warehouse import Warehouse
    from scout_assets.assets.dbt import scout_dbt_incremental, scout_dbt_models
    from scout_assets.assets.has_scores import has_scores
    from scout_assets.assets.profiles import profiles
    from scout_assets.assets.profiles_to_score import profiles_to_score
    from scout_assets.dbt_project import build_dbt_resource
    from scout_assets.partitions import partition_key
    from scout_assets.resources_binding import current_settings

    definitions = {"profiles": profiles, "has_scores": has_scores, "profiles_to_score": profiles_to_score}
    warehouse = Warehouse(url=url)

    def materialize(stage: str) -> None:
        if stage == "marts":
            resources = {"warehouse": warehouse, "dbt": build_dbt_resource(current_settings().marts_schema)}
            # the other models first: the incremental marts read their staging views
            for definition, key in ((scout_dbt_models, None), (scout_dbt_incremental, DAY.isoformat())):
                if not dg.materialize([definition], partition_key=key, resources=resources).success:
                    raise SystemExit(f"stage {stage} failed")
            return
        result = dg.materialize(
            [definitions[stage]],
            partition_key=partition_key(DAY, platform),
            resources={"warehouse": warehouse},
        )
        if not result.success:
            raise SystemExit(f"stage {stage} failed")

    return materialize


def child(stage: str, url: str, platform: str, extra: list[str]) -> tuple[float, float, float]:
    """(wall seconds of the child, seconds of the stage itself, its peak RSS MB) of one stage."""
    command = [sys.executable, __file__, "--stage", stage, "--warehouse", url, "--platform", platform, *extra]
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    elapsed = time.perf_counter() - start
    reported = [line.split()[1:] for line in done.stdout.splitlines() if line.startswith(STAGE_SECONDS)]
    if done.returncode != 0 or not reported:
        raise SystemExit(f"stage {stage} failed (exit {done.returncode})")
    seconds, rss = reported[-1]
    return elapsed, float(seconds), float(rss)


def bench_chain(args: argparse.Namespace) -> None:
    """The chain on ``--warehouse``, or on a new DuckDB file that is removed afterwards."""
    if args.warehouse:
        run_chain(args, args.warehouse)
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        run_chain(args, f"duckdb://{folder / 'warehouse.duckdb'}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_chain(args: argparse.Namespace, url: str) -> None:
    extra = ["--profiles", str(args.profiles), "--seed-pages", str(args.seed_pages)]
    print(f"chain on {mask_url(url)} for {args.profiles:,} {args.platform} profiles")
    print(f"{'stage':<20}{'process s':>11}{'stage s':>9}{'peak RSS MB':>13}")
    elapsed, own, rss = child("store", url, args.platform, extra)
    print(f"{'(store raw pages)':<20}{elapsed:>11.1f}{own:>9.1f}{rss:>13,.0f}")
    total = 0.0
    for stage in STAGES:
        elapsed, own, rss = child(stage, url, args.platform, extra)
        total += own
        print(f"{stage:<20}{elapsed:>11.1f}{own:>9.1f}{rss:>13,.0f}")
    print(
        f"chain from stored pages to marts: {total:.1f} s of stage time (process start-up and imports excluded)"
    )
    # Once more in one process, as a run with the in-process executor does it: one start-up. It is
    # a re-run of the day, the common case (today is re-derived after every search).
    elapsed, own, rss = child("chain", url, args.platform, extra)
    print(
        f"the same chain again, all stages in one process (a re-run of the day): {elapsed:.1f} s in all, "
        f"{own:.1f} s of stage time, peak RSS {rss:,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=200_000, help="accounts in the day's pages")
    parser.add_argument("--platform", choices=sorted(PER_PAGE), default="twitter")
    parser.add_argument("--repeats", type=int, default=3, help="runs per path (medians are reported)")
    parser.add_argument(
        "--reference-profiles", type=int, default=20_000, help="accounts the per-row path reads"
    )
    parser.add_argument("--seed-pages", type=int, default=250, help="distinct pages rendered by the sandbox")
    parser.add_argument("--chain", action="store_true", help="also time the asset chain on a warehouse")
    parser.add_argument("--chain-only", action="store_true", help="time the asset chain only")
    parser.add_argument("--warehouse", help="warehouse URL for --chain (default: a new DuckDB file)")
    parser.add_argument("--stage", choices=("store", "chain", *STAGES), help=argparse.SUPPRESS)  # children
    args = parser.parse_args(argv)
    if args.profiles < 1 or args.repeats < 1 or args.reference_profiles < 1 or args.seed_pages < 1:
        parser.error("--profiles, --repeats, --reference-profiles and --seed-pages must be at least 1")

    if args.stage and args.stage != "store":
        run_stage(args.stage, args.warehouse, args.platform)
        return 0
    if args.chain_only:
        bench_chain(args)
        return 0
    pages = day_pages(args.platform, seed_bodies(args.platform, args.seed_pages), args.profiles)
    if args.stage == "store":
        start = time.perf_counter()
        store_pages(args.warehouse, args.platform, pages)
        print(f"{STAGE_SECONDS} {time.perf_counter() - start:.3f} {own_peak_rss_mb():.0f}")
        return 0
    print(
        f"{args.platform}: {pages.height:,} pages, {pages['payload'].str.len_bytes().sum() / 1e6:,.0f} MB of JSON; "
        f"polars {pl.__version__}, threads {pl.thread_pool_size()}, batch {PAGE_BATCH} pages"
    )
    status = bench_parse(args, pages)
    if status == 0 and args.chain:
        del pages
        bench_chain(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
