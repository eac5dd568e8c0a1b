"""``scout exclude``: do-not-contact entries (docs/leads.md, "Exclusions").

    scout exclude add --platform twitter --handle acme_ceo --reason "asked not to be contacted" [--by NAME]
    scout exclude add --platform twitter (--account ID | --handle H | --domain D | --org NAME
                                          | --bio-pattern RE) --reason TEXT [--by NAME]
    scout exclude remove ID --reason TEXT [--by NAME]
    scout exclude list

An excluded account is not queued for labeling (no model is paid to look at it) and is dropped
from leads and exports. Adding and removing are both events in ``exclusion_events`` (who, when,
why): nothing is ever deleted. ``--by`` defaults to ``$SCOUT_REVIEWER``, then ``$USER``. Exit codes:
0 done, 1 warehouse failure, 2 bad input (the message names the field).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scout_cli.actions import actor, open_synced_warehouse, run_action
from scout_contract.platforms import PLATFORMS

# option -> entry kind (scout_contract/exclusions.py)
_KIND_OPTIONS = {
    "account": "account",
    "handle": "handle",
    "domain": "domain",
    "org": "org",
    "bio_pattern": "bio_pattern",
}


def add_exclude_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``exclude`` (add / remove / list) on a subparsers object; dispatch on ``handler``."""
    parser = subparsers.add_parser(
        "exclude",
        help="do-not-contact entries: add, remove (both audited), list",
        description=__doc__.split("\n\n")[0],
    )
    actions = parser.add_subparsers(dest="exclude_command", required=True)

    add = actions.add_parser(
        "add", help="exclude accounts by id, handle, domain, organisation or bio pattern"
    )
    add.add_argument("--platform", required=True, choices=PLATFORMS)
    what = add.add_mutually_exclusive_group(required=True)
    what.add_argument("--account", help="platform id of the account")
    what.add_argument("--handle", help="handle (case-insensitive, @ optional)")
    what.add_argument("--domain", help="web domain in the bio, e.g. acme.com (subdomains too)")
    what.add_argument("--org", help="organisation name: case-insensitive substring of name or bio")
    what.add_argument(
        "--bio-pattern", dest="bio_pattern", help="Python regular expression searched in the bio"
    )
    add.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add.add_argument("--by", help="who adds it (default: $SCOUT_REVIEWER, $USER)")
    add.set_defaults(handler=run_add)

    remove = actions.add_parser("remove", help="end an entry (recorded as an event, with a reason)")
    remove.add_argument("exclusion_id", help="the entry's id (see `scout exclude list`)")
    remove.add_argument("--reason", required=True, help="why it is removed")
    remove.add_argument("--by", help="who removes it (default: $SCOUT_REVIEWER, $USER)")
    remove.set_defaults(handler=run_remove)

    listing = actions.add_parser("list", help="print the active entries and how many accounts each excludes")
    listing.set_defaults(handler=run_list)
    return parser


def _run(action) -> int:
    from scout_contract.exclusions import ExclusionError

    return run_action(action, (ExclusionError,))


def run_add(args: argparse.Namespace) -> int:
    """``scout exclude add``: prints the new entry's id and how many known accounts it excludes now."""
    from scout_leads.exclusions import add_exclusion

    option = next(name for name in _KIND_OPTIONS if getattr(args, name) is not None)

    def action() -> None:
        exclusion_id, hits = add_exclusion(
            open_synced_warehouse(),
            args.platform,
            _KIND_OPTIONS[option],
            getattr(args, option),
            args.reason,
            actor(args.by),
        )
        print(f"added exclusion {exclusion_id}: excludes {hits} known account(s) now")

    return _run(action)


def run_remove(args: argparse.Namespace) -> int:
    """``scout exclude remove``: the entry stops applying; its add and remove events stay."""
    from scout_leads.exclusions import remove_exclusion

    def action() -> None:
        entry = remove_exclusion(open_synced_warehouse(), args.exclusion_id, args.reason, actor(args.by))
        print(f"removed exclusion {entry.exclusion_id} ({entry.platform} {entry.kind} {entry.value!r})")

    return _run(action)


def run_list(args: argparse.Namespace) -> int:
    """``scout exclude list``: one tab-separated line per active entry."""
    from scout_leads.exclusions import entries

    def action() -> None:
        warehouse = open_synced_warehouse()
        counts = dict(
            warehouse.read(
                "select exclusion_id, count(*) as n from excluded_accounts group by exclusion_id"
            ).iter_rows()
        )
        active = entries(warehouse)
        print("id\tplatform\tkind\tvalue\taccounts\tby\tadded_at\treason")
        for e in active:
            print(
                f"{e.exclusion_id}\t{e.platform}\t{e.kind}\t{e.value}\t{counts.get(e.exclusion_id, 0)}\t"
                f"{e.actor}\t{e.added_at:%Y-%m-%d %H:%M}\t{e.reason}"
            )
        print(f"{len(active)} active exclusion(s)", file=sys.stderr)

    return _run(action)
