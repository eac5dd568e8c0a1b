"""``python -m scout_cli.dbt_env``: ``export`` lines that point a shell's dbt at Scout's warehouse.

``infra/scripts/dbt_docs.sh`` evals them before running dbt by hand. The variables are the ones
the code location's dbt runs get (``WarehouseLocation.dbt_profile_env``), for the warehouse
the environment names; the output may hold a password, so it is meant for ``eval`` only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from resources.warehouse.location import parse_warehouse_url
from scout_contract.paths import DBT_PROJECT_DIR
from scout_contract.settings import ScoutSettings


def shell_exports(env: Mapping[str, str]) -> str:
    """``export NAME='value'`` lines for ``eval`` in a shell (values single-quoted)."""
    lines = []
    for name, value in env.items():
        quoted = "'" + value.replace("'", "'\"'\"'") + "'"
        lines.append(f"export {name}={quoted}")
    return "\n".join(lines)


def shell_dbt_env(settings: ScoutSettings) -> dict[str, str]:
    """What a shell's ``dbt`` needs to build the warehouse ``settings`` name: profile folder and variables."""
    location = parse_warehouse_url(settings.resolved_warehouse_url())
    return {"DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), **location.dbt_profile_env(settings.marts_schema)}


def main() -> None:
    print(shell_exports(shell_dbt_env(ScoutSettings.from_environ(os.environ))))


if __name__ == "__main__":
    main()
