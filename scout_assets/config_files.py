"""The configuration files a deployment may swap, as a resource the assets and sensors share.

The keyword list is the one operators replace most (``SCOUT_KEYWORD_FILE``): binding it as a
resource means the ``keywords`` asset, ``raw_searches`` and the config-change sensor all read
the same file, chosen in one place, and a test points them elsewhere without touching the
environment.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from scout_assets.domain.keyword_file import KeywordEntry, load_keyword_file
from scout_contract.settings import ScoutSettings


class ConfigFiles(dg.ConfigurableResource):
    """Where the swappable config files are."""

    keyword_file: str = Field(description="The keyword list (CSV: keyword, platforms, tags, enabled).")

    @classmethod
    def from_settings(cls, settings: ScoutSettings) -> ConfigFiles:
        return cls(keyword_file=str(settings.keyword_file))

    @property
    def keyword_path(self) -> Path:
        return Path(self.keyword_file)

    def keyword_entries(self) -> list[KeywordEntry]:
        """The keyword file, validated (the error names the file and the line)."""
        return load_keyword_file(self.keyword_path)
