"""What the small write commands share (``scout exclude``, ``scout api-key``): who acts, the
warehouse, and one mapping of errors to exit codes.

Exit codes: 0 done, 1 the warehouse failed (nothing was written), 2 bad input (the message names it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resources.warehouse import Warehouse


def actor(by: str | None) -> str:
    """Who acts: ``--by``, else ``$SCOUT_REVIEWER``, else ``$USER`` (empty when none is set)."""
    return (by or os.environ.get("SCOUT_REVIEWER") or os.environ.get("USER") or "").strip()


def open_synced_warehouse() -> Warehouse:
    """The configured warehouse, with every table Scout declares created or extended."""
    from scout_assets.resources_binding import open_warehouse
    from scout_contract.settings import ScoutSettings

    warehouse = open_warehouse(ScoutSettings.from_environ(os.environ))
    warehouse.ensure_schema()
    return warehouse


def run_action(action: Callable[[], None], input_errors: tuple[type[Exception], ...]) -> int:
    """Run ``action``; ``input_errors`` (and bad settings) exit 2, a warehouse failure 1."""
    from resources.warehouse import WarehouseError
    from scout_contract.settings import SettingsError

    try:
        action()
    except (*input_errors, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
