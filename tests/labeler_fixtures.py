"""Reviews in a real warehouse, for the local labeler's store, asset and refit sensor tests.

The rows come from ``tests/fixtures/labeler/human_labels.sample.jsonl`` (60 real reviews: 20
true, 25 false, 15 null; see tests/fixtures/README.md) and are written the way ``scout review
import`` writes them: parsed by ``parse_review_lines`` and shaped by ``review_row``, so the tests
read exactly what a user's import would have stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from resources.warehouse import Warehouse
from scout_contract.audience import Audience, load_audiences
from scout_contract.reviews import parse_review_lines, review_row
from scout_contract.tables import REVIEWS, polars_schema

REVIEWS_FILE = Path(__file__).parent / "fixtures" / "labeler" / "human_labels.sample.jsonl"
AUDIENCE_KEY = "thelai_customers.v3"
REVIEWED_AT = datetime(2026, 3, 1, 12, 0)


def audience() -> Audience:
    return load_audiences()[AUDIENCE_KEY]


def review_records() -> list[dict]:
    """The fixture's reviews, parsed as an import parses them (file order)."""
    return parse_review_lines(REVIEWS_FILE.read_text(encoding="utf-8").splitlines(), REVIEWS_FILE.name)


def mixed_records() -> list[dict]:
    """The fixture's reviews with labels taking turns (true, false, null, ...), so any prefix of
    a dozen or more holds every class: what a growing set of reviews looks like to a refit."""
    by_label: dict = {True: [], False: [], None: []}
    for record in review_records():
        by_label[record["label"]].append(record)
    mixed = []
    while any(by_label.values()):
        for label in (True, False, None):
            if by_label[label]:
                mixed.append(by_label[label].pop(0))
    return mixed


def seed_reviews(
    warehouse: Warehouse,
    records: list[dict],
    *,
    audience_key: str = AUDIENCE_KEY,
    reviewed_at: datetime = REVIEWED_AT,
    reviewer: str = "tester",
) -> int:
    """Append ``records`` as reviews of ``audience_key`` (one second apart); return rows added."""
    target = load_audiences()[audience_key]
    rows = [
        review_row(
            platform="twitter",
            handle=record["handle"],
            audience=audience_key,
            audience_hash=target.content_hash,
            label=record["label"],
            reviewer=reviewer,
            source=f"import:{REVIEWS_FILE.name}",
            reviewed_at=reviewed_at + timedelta(seconds=index),
            name=record["name"],
            bio=record["bio"],
            category=record["category"],
            followers=record["followers"],
            reason=record["reason"],
        )
        for index, record in enumerate(records)
    ]
    return warehouse.append("reviews", pl.DataFrame(rows, schema=polars_schema(REVIEWS.columns)))
