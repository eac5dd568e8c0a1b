"""``scout lead``: move a lead through the outreach and show where it stands.

    scout lead set twitter HANDLE --audience thelai_customers.v3 --state contacted [--note TEXT] [--by NAME]
    scout lead show twitter HANDLE --audience thelai_customers.v3
    scout lead list --audience thelai_customers.v3 [--state contacted ...] [--new-since-export]
                    [--verdict match ...] [--platform twitter ...] [--limit 50] [--offset 0]

The account is the one ``profiles`` knows by that handle (``@`` and case ignored; the one last seen
with it) or by that platform id. ``set`` checks the move against the current state
(scout_contract/leads.py: ``new → reviewed → contacted → replied | converted | rejected``) and appends
one ``lead_events`` row; ``show`` prints the current state and every step; ``list`` prints one page of
the lead list as CSV, the same rows in the same order as the dashboard's Leads page and
``GET /v1/leads`` for the same filters (scout_leads/lead_list.py). Exit codes: 0 done, 1 warehouse
failure, 2 bad input (unknown account or state, a move that is not allowed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scout_contract.platforms import PLATFORMS
from scout_leads.state import LeadInputError, current_state, find_account, set_state


def add_lead_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``lead`` (set / show) on a subparsers object; dispatch on ``handler``."""
    from scout_contract.leads import STATES

    parser = subparsers.add_parser(
        "lead", help="set or show a lead's outreach state", description=__doc__.split("\n\n")[0]
    )
    actions = parser.add_subparsers(dest="lead_command", required=True)
    _add_list_parser(actions)
    for name, helptext, handler in (
        ("set", "move a lead to a new state", run_set),
        ("show", "print a lead's current state and history", run_show),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("platform", choices=PLATFORMS)
        action.add_argument("handle", help="the account's handle (with or without @) or platform id")
        action.add_argument("--audience", required=True, help="audience key like thelai_customers.v3")
        action.set_defaults(handler=handler)
        if name == "set":
            action.add_argument("--state", required=True, choices=STATES[1:], help="the state to move to")
            action.add_argument("--note", help="an optional note kept with the step")
            action.add_argument("--by", help="who set it (default: $SCOUT_REVIEWER, $USER)")
    return parser


def _settings():
    import os

    from scout_contract.settings import ScoutSettings

    return ScoutSettings.from_environ(os.environ)


def _add_list_parser(actions: Any) -> None:
    from scout_contract.leads import STATES
    from scout_leads.lead_list import VERDICTS

    listing = actions.add_parser(
        "list", help="print one page of the lead list as CSV (the dashboard's filters)"
    )
    listing.add_argument("--audience", required=True, help="audience key like thelai_customers.v3")
    listing.add_argument("--verdict", action="append", choices=VERDICTS, help="default: match (repeatable)")
    listing.add_argument(
        "--state", action="append", choices=STATES, help="lead state (repeatable; default: all)"
    )
    listing.add_argument("--platform", action="append", choices=PLATFORMS, help="default: all (repeatable)")
    listing.add_argument("--new-since-export", action="store_true", help="only leads no export has carried")
    listing.add_argument("--search", help="text in handle, name or bio")
    listing.add_argument("--keyword", help="only leads this keyword found")
    listing.add_argument("--limit", type=int, default=100, help="rows per page (default 100)")
    listing.add_argument("--offset", type=int, default=0, help="rows to skip (default 0)")
    listing.set_defaults(handler=run_list)


# The columns ``scout lead list`` prints: who, the verdict, where the lead stands.
LIST_COLUMNS = (
    "platform", "handle", "name", "verdict", "verdict_source", "lead_state", "lead_state_at",
    "has", "followers", "source_keywords",
)  # fmt: skip


def run_list(args: argparse.Namespace) -> int:
    """``scout lead list``: 0 listed, 1 the marts cannot be read, 2 bad filters."""
    from resources.warehouse.location import parse_warehouse_url
    from scout_contract.platforms import PLATFORMS as ALL_PLATFORMS
    from scout_contract.settings import SettingsError
    from scout_leads.lead_list import LeadFilters, lead_count, leads
    from scout_leads.reader import MartReader, MartsUnavailable

    try:
        settings = _settings()
        filters = LeadFilters(
            audience=args.audience,
            platforms=tuple(args.platform or ALL_PLATFORMS),
            verdicts=tuple(args.verdict or ("match",)),
            **({"states": tuple(args.state)} if args.state else {}),
            new_since_export=args.new_since_export,
            search=args.search,
            keyword=args.keyword,
            limit=args.limit,
            offset=args.offset,
        )
        reader = MartReader(parse_warehouse_url(settings.resolved_warehouse_url()))
        total = reader.read(lead_count(settings.marts_schema, filters))["leads"][0]
        page = reader.read(leads(settings.marts_schema, filters))
    except (ValueError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MartsUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(page.select(LIST_COLUMNS).write_csv())
    first = filters.offset + 1 if page.height else filters.offset
    print(f"# rows {first}-{filters.offset + page.height} of {total}", file=sys.stderr)
    return 0


def run_set(args: argparse.Namespace) -> int:
    """``scout lead set``: 0 moved, 1 warehouse failure, 2 bad input or a move that is not allowed."""
    from resources.warehouse import WarehouseError
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.leads import SOURCE_CLI, LeadStateError
    from scout_contract.settings import SettingsError

    try:
        settings = _settings()
        by = (args.by or settings.reviewer or "unknown").strip() or "unknown"
        warehouse = open_warehouse(settings)
        warehouse.ensure_schema()
        platform_id, handle = find_account(warehouse, args.platform, args.handle)
        row = set_state(
            warehouse,
            platform=args.platform,
            platform_id=platform_id,
            handle=handle,
            audience=args.audience,
            state=args.state,
            note=args.note,
            set_by=by,
            source=SOURCE_CLI,
        )
    except (LeadInputError, LeadStateError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: nothing was set: {exc}", file=sys.stderr)
        return 1
    print(
        f"@{handle} ({args.platform}) for {row['audience']}: {row['from_state']} -> {row['state']} "
        f"by {row['set_by']} at {row['set_at']:%Y-%m-%d %H:%M:%S} UTC"
        + (f" · {row['note']}" if row["note"] else "")
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """``scout lead show``: 0 shown, 1 warehouse failure, 2 an unknown account."""
    from resources.warehouse import WarehouseError
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.leads import LEAD_HISTORY_SQL
    from scout_contract.settings import SettingsError

    try:
        warehouse = open_warehouse(_settings())
        warehouse.ensure_schema()
        platform_id, handle = find_account(warehouse, args.platform, args.handle)
        state = current_state(warehouse, args.platform, platform_id, args.audience)
        history = warehouse.read(LEAD_HISTORY_SQL, [args.platform, platform_id, args.audience])
    except (LeadInputError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    since = "" if state["state_at"] is None else f" since {state['state_at']:%Y-%m-%d %H:%M:%S} UTC"
    print(f"@{handle} ({args.platform}, id {platform_id}) for {args.audience}: {state['state']}{since}")
    for event in history.iter_rows(named=True):
        print(
            f"  {event['set_at']:%Y-%m-%d %H:%M:%S}  {event['from_state']} -> {event['state']}  "
            f"by {event['set_by']} ({event['source']})" + (f" · {event['note']}" if event["note"] else "")
        )
    return 0
