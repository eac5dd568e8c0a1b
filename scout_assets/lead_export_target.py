"""Where ``lead_exports`` writes when the archive is local, and which schema it reads the leads from.

A resource, so the asset never reads the environment itself (scout_assets/resources_binding.py binds
``<SCOUT_DATA_DIR>/exports`` and ``SCOUT_MARTS_SCHEMA``).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field


class LeadExportTarget(dg.ConfigurableResource):
    """The export folder (local archive) and the marts schema the leads come from."""

    folder: str = Field(description="Export folder when the archive is local (<SCOUT_DATA_DIR>/exports).")
    marts_schema: str = Field(default="analytics", description="Schema dbt builds the marts into.")

    @property
    def folder_path(self) -> Path:
        return Path(self.folder)
