"""``scout forget``: erase one person from Scout on request, and keep them out (docs/leads.md "Erasure").

    scout forget twitter HANDLE_OR_ID [--yes]

Removes the account (every id and handle it was seen with) from every warehouse table, every
stored raw page (warehouse and archive, local or S3), the dbt relations and past exports, records
a suppression entry (a keyed hash, no personal data) so later searches drop it at ingest, and
logs the erasure (when, which hash, the counts). Without ``--yes`` it shows what it found and asks.
Exit codes: 0 done, 1 partly done (the steps not done are listed: run it again to complete them),
2 bad input (unknown account, a bad key) or not confirmed.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from scout_contract.platforms import PLATFORMS


def add_forget_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``forget`` on a subparsers object; dispatch on ``handler``."""
    parser = subparsers.add_parser(
        "forget",
        help="erase one person everywhere and suppress them at ingest",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("platform", choices=PLATFORMS)
    parser.add_argument(
        "account", metavar="HANDLE_OR_ID", help="the handle (with or without @) or platform id"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(handler=run_forget)
    return parser


def run_forget(args: argparse.Namespace) -> int:
    from resources.warehouse import WarehouseClient, WarehouseError, parse_warehouse_url
    from scout_assets.resources_binding import build_archive
    from scout_contract.settings import ScoutSettings, SettingsError
    from scout_contract.suppression import SuppressionKeyError, suppression_key
    from scout_leads.erasure import forget, resolve_person
    from scout_leads.state import LeadInputError

    try:
        settings = ScoutSettings.from_environ(os.environ)
        key = suppression_key(settings)
        warehouse = WarehouseClient(parse_warehouse_url(settings.resolved_warehouse_url()))
        warehouse.ensure_schema()
        person = resolve_person(warehouse, args.platform, args.account, key)
    except (SettingsError, SuppressionKeyError, LeadInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{person.platform} account: id(s) {', '.join(person.platform_ids)}; "
        f"handle(s) {', '.join(person.handles) or '(none left)'}"
    )
    if not args.yes and not _confirmed():
        print("not confirmed: nothing was erased (use --yes to skip this question)", file=sys.stderr)
        return 2
    report = forget(
        warehouse,
        build_archive(settings),
        person,
        key,
        export_folder=settings.data_dir / "exports",  # where the binding points lead_exports
    )
    deleted = {name: n for name, n in {**report.table_rows, **report.mart_rows}.items() if n}
    print(f"erasure {report.erasure_id}: {sum(deleted.values())} row(s) deleted")
    for name, count in sorted(deleted.items()):
        print(f"  {name}\t{count}")
    print(
        f"  stored payloads rewritten {report.payloads_rewritten}, archive pages {report.pages_rewritten}, "
        f"archived export objects {report.objects_rewritten}, export files {report.export_files_rewritten}, "
        f"other text cells cleared {report.cells_cleared}"
    )
    for item in report.residual:
        print(f"  left in place: {item}")
    if not report.complete:
        print("NOT DONE (run the same command again to complete it):", file=sys.stderr)
        for item in report.not_done:
            print(f"  {item}", file=sys.stderr)
        return 1
    print("suppressed: later searches drop this account before anything is stored")
    return 0


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        return False
    return input("erase this account everywhere? this cannot be undone [y/N] ").strip().lower() in (
        "y",
        "yes",
    )
