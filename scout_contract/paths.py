"""Where the project's own files are: the checkout, its config folder and its dbt project.

Paths that a deployment chooses (the data folder, the warehouse, a swapped keyword file) are
settings (``scout_contract.settings``), not constants.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "scout_assets" / "config"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
KEYWORD_FILE = CONFIG_DIR / "keywords.csv"  # the checked-in keyword list (SCOUT_KEYWORD_FILE swaps it)
