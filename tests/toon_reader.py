"""Reading a TOON profile table back, as a model-side reader would: the oracle of the TOON tests.

Scout only writes TOON (:func:`resources.models.toon.encode_profiles`). Whether a batch survives
the trip is checked with the toon-format package's own decoder, so the tests hold the encoding to
the TOON spec rather than to a second reader of ours.
"""

from __future__ import annotations

import toon_format

from scout_contract.labels import LABEL_FIELDS, ProfileForLabel


def _typed_as_sent(row: dict) -> bool:
    texts = all(isinstance(row[field], str) for field in ("handle", "name", "bio"))
    category = row["category"] is None or isinstance(row["category"], str)
    return texts and category and type(row["followers"]) is int


def read_profiles(text: str) -> list[ProfileForLabel]:
    """The profiles in ``text``; every row must have exactly the label fields, in order, typed."""
    rows = toon_format.decode(text)
    assert isinstance(rows, list), f"the TOON document is a {type(rows).__name__}, not a table"
    for index, row in enumerate(rows):
        assert tuple(row) == LABEL_FIELDS, f"row {index} has fields {list(row)}"
        assert _typed_as_sent(row), f"row {index} changed a value's type: {row!r:.120}"
    return [ProfileForLabel(**row) for row in rows]
