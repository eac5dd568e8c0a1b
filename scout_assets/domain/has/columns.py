"""Names shared by both HAS implementations: which profile columns are inputs, what a scored row holds."""

from __future__ import annotations

from scout_contract.tables import HAS_COLUMNS

# Columns that identify a profile; copied through unchanged.
ID_COLUMNS: tuple[str, ...] = ("platform", "platform_id", "handle")

# The profile columns HAS reads, by kind. Names are PROFILE_COLUMNS names.
COUNT_INPUTS: tuple[str, ...] = ("followers", "following", "statuses", "favorites", "listed", "media")
FLAG_INPUTS: tuple[str, ...] = (
    "blue_verified",
    "default_profile",
    "default_profile_image",
    "possibly_sensitive",
)
HAS_INPUTS: tuple[str, ...] = tuple(sorted((*COUNT_INPUTS, *FLAG_INPUTS, "created_at")))

# A scored row, in order: the has_scores table without partition_date (the caller adds it).
OUTPUT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in HAS_COLUMNS if name != "partition_date")

# Values of likely_is.
LIKELY_IS: tuple[str, ...] = ("Human", "Creator", "Entity", "Bot", "Other")
