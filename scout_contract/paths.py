"""Where Scout keeps its files, and the few environment switches that choose a deployment.

The embedded default needs no variable at all: the warehouse is a DuckDB file and the raw
archive a folder under ``SCOUT_DATA_DIR`` (``./data`` in the project). Production sets
``SCOUT_WAREHOUSE_URL`` (a PostgreSQL URL) and the platform keys; nothing else changes.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "scout_assets" / "config"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def data_dir() -> Path:
    """The folder for the DuckDB warehouse, the raw archive and other local state."""
    path = Path(os.environ.get("SCOUT_DATA_DIR", PROJECT_ROOT / "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_yaml_mapping(path: Path, what: str, error: type[ValueError]) -> dict:
    """A config file's top-level YAML mapping, or ``error`` naming the file and what is wrong."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{what} {path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise error(f"{what} {path}: expected a mapping at the top level")
    return data
