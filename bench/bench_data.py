"""Where the benchmarks find the development data set, and a loud failure when a file is missing.

The data set (the predecessor's profiles and labels) is not part of the repository: it lies
beside it, in ``<repo>/../shared/data``. ``--data DIR`` reads it from elsewhere. A benchmark
without its input exits non-zero naming the file, so a missing data set never passes as a run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"folder of the development data set (default {DEFAULT_DATA_DIR})",
    )


def require_file(data_dir: Path, name: str) -> Path:
    """``data_dir / name``, or exit with status 1 and a message naming the missing file."""
    path = data_dir / name
    if not path.is_file():
        raise SystemExit(
            f"error: benchmark input {path} is missing "
            "(the development data set; give its folder with --data DIR)"
        )
    return path
