"""The platforms Scout searches: one name each, shared by partitions, tables and config files."""

PLATFORMS: tuple[str, ...] = ("bluesky", "twitter")
