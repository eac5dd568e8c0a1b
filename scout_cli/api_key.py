"""``scout api-key``: the keys of the HTTP API (docs/api.md, "Keys").

    scout api-key create --name crm-sync --scope read|write [--by NAME]   # prints the key once
    scout api-key list
    scout api-key revoke KEY_ID [--by NAME]

Only a digest of each key is stored (scout_leads/api_keys.py), so the key ``create`` prints cannot
be shown again: copy it then, or create another. A read key may list leads, exclusions, runs and
costs; a write key may also set lead states, add and remove exclusions and start searches.
Exit codes: 0 done, 1 warehouse failure, 2 bad input (the message names it).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scout_cli.actions import actor, open_synced_warehouse, run_action
from scout_leads.api_keys import SCOPES


def add_api_key_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``api-key`` (create / list / revoke) on a subparsers object; dispatch on ``handler``."""
    parser = subparsers.add_parser(
        "api-key", help="HTTP API keys: create, list, revoke", description=__doc__.split("\n\n")[0]
    )
    actions = parser.add_subparsers(dest="api_key_command", required=True)
    create = actions.add_parser("create", help="make a key and print it (once)")
    create.add_argument("--name", required=True, help="who or what uses the key, e.g. crm-sync")
    create.add_argument("--scope", required=True, choices=SCOPES, help="read, or write (includes read)")
    create.add_argument("--by", help="who creates it (default: $SCOUT_REVIEWER, $USER)")
    create.set_defaults(handler=run_create)
    listing = actions.add_parser("list", help="print every key (never its secret) and whether it is active")
    listing.set_defaults(handler=run_list)
    revoke = actions.add_parser("revoke", help="revoke a key: requests with it are refused from now on")
    revoke.add_argument("key_id", help="the key's id (see `scout api-key list`)")
    revoke.add_argument("--by", help="who revokes it (default: $SCOUT_REVIEWER, $USER)")
    revoke.set_defaults(handler=run_revoke)
    return parser


def _run(action) -> int:
    from scout_leads.api_keys import ApiKeyError

    return run_action(action, (ApiKeyError,))


def run_create(args: argparse.Namespace) -> int:
    """``scout api-key create``: the key on stdout (alone, for scripts), what it is on stderr."""
    from scout_leads.api_keys import create_key

    def action() -> None:
        key, text = create_key(open_synced_warehouse(), args.name, args.scope, actor(args.by))
        print(text)
        print(
            f"created {key.scope} key {key.key_id} ({key.name}); it is shown only now: "
            "keep it somewhere safe",
            file=sys.stderr,
        )

    return _run(action)


def run_list(args: argparse.Namespace) -> int:
    """``scout api-key list``: one tab-separated line per key."""
    from scout_leads.api_keys import list_keys

    def action() -> None:
        keys = list_keys(open_synced_warehouse())
        print("id\tname\tscope\tstate\tcreated_by\tcreated_at\trevoked_at")
        for key in keys:
            revoked = "" if key.active else f"{key.revoked_at:%Y-%m-%d %H:%M}"
            print(
                f"{key.key_id}\t{key.name}\t{key.scope}\t{'active' if key.active else 'revoked'}\t"
                f"{key.created_by}\t{key.created_at:%Y-%m-%d %H:%M}\t{revoked}"
            )
        print(f"{sum(k.active for k in keys)} active key(s) of {len(keys)}", file=sys.stderr)

    return _run(action)


def run_revoke(args: argparse.Namespace) -> int:
    """``scout api-key revoke``: the key stops working at once; its events stay in the ledger."""
    from scout_leads.api_keys import revoke_key

    def action() -> None:
        key = revoke_key(open_synced_warehouse(), args.key_id, actor(args.by))
        print(f"revoked key {key.key_id} ({key.name}, {key.scope})")

    return _run(action)
