"""The bottom floor: what every other floor shares (table declarations, typed errors, paths, settings). It imports no Scout package."""
