"""The suppression list as a resource: ``raw_searches`` drops forgotten accounts with it at ingest.

A resource, so the asset never reads the environment or the key file's place itself: the binding
(scout_assets/resources_binding.py) passes ``SCOUT_SUPPRESSION_KEY`` as an ``EnvVar`` (its value
never reaches run config, the UI or metadata) and the data folder's key file for the embedded
default (scout_contract/suppression.py says how the key is chosen).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import Field

from resources.warehouse import Warehouse
from scout_contract.suppression import (
    KEY_FILE_NAME,
    KEY_VARIABLE,
    SUPPRESSED_HASHES_SQL,
    key_from_text,
    load_or_create_key,
    matcher,
)


class SuppressionList(dg.ConfigurableResource):
    """Which accounts ``scout forget`` suppressed: the stored keyed hashes, tested with the key."""

    key: str | None = Field(
        default=None,
        repr=False,
        description="The HMAC key (bind with EnvVar('SCOUT_SUPPRESSION_KEY')); unset: the key file.",
    )
    key_file: str = Field(
        description="Key file used when no key is bound (<SCOUT_DATA_DIR>/suppression.key)."
    )

    @classmethod
    def in_data_dir(cls, data_dir: Path, key: str | dg.EnvVar | None = None) -> SuppressionList:
        return cls(key=key, key_file=str(data_dir / KEY_FILE_NAME))

    def key_bytes(self) -> bytes:
        if self.key:
            return key_from_text(self.key, KEY_VARIABLE)
        return load_or_create_key(Path(self.key_file))

    def is_suppressed(self, warehouse: Warehouse, platform: str) -> Callable[[str], bool] | None:
        """A test for the platform's suppressed accounts, or None when none is suppressed (nothing to do).

        The key is read only when there is a hash to compare with, so a deployment that never
        forgot anyone never needs one.
        """
        hashes = warehouse.read(SUPPRESSED_HASHES_SQL, [platform])["account_hash"].to_list()
        if not hashes:
            return None
        return matcher(self.key_bytes(), platform, hashes)
