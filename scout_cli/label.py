"""``scout label``: label a list of profiles you bring, with any registered model.

Runs outside the asset graph and never touches the warehouse: a file goes in, a JSON-lines file
of labels comes out, and a summary (labels per class, tokens, cost, failures) is printed. When
the input already carries labels (a ``llm_label`` or ``label`` column), the summary also shows
how far the model agrees with them, next to the trivial baselines it has to beat.

    scout label --model local-minilm --audience thelai_customers.v3 \\
        --input profiles.jsonl --output labels.jsonl [--batch-size N] [--limit N] [--split report]

Input: ``.jsonl`` (one object per line) or ``.csv`` (header row) with ``handle``, ``name`` and
``bio``; ``category`` and ``followers`` are optional. Every problem names the file and line.
Also runnable as ``python -m scout_cli.label ...``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scout_assets.labeling.agreement import (
    SPLITS,
    agreement,
    baselines,
    format_agreement,
    label_name,
    split_of,
)
from scout_contract.labels import Label, LabelBatchResult, Labeler, LabelFailure, ProfileForLabel

if TYPE_CHECKING:  # imported where used at run time, so ``--help`` stays fast
    from scout_contract.audience import Audience

REQUIRED_COLUMNS = ("handle", "name", "bio")
REFERENCE_COLUMNS = ("llm_label", "label")
_LABEL_WORDS = {"true": True, "false": False, "null": None, "": None, "none": None}


class InputError(ValueError):
    """An input file Scout cannot read; the message names the file and, if any, the line."""


@dataclass(frozen=True)
class InputRow:
    """One profile of the input file, with its reference label if the file has one."""

    line: int
    profile: ProfileForLabel
    reference: bool | None = None
    has_reference: bool = False


def _reference(value: Any, where: str, column: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _LABEL_WORDS:
        return _LABEL_WORDS[value.strip().lower()]
    raise InputError(f"{where}: column {column!r} must be true, false or null, got {value!r}")


def _followers(value: Any, where: str) -> int:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
        return 0
    if isinstance(value, bool):
        raise InputError(f"{where}: column 'followers' must be a whole number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: column 'followers' must be a whole number, got {value!r}") from None
    if not number.is_integer() or number < 0:
        raise InputError(f"{where}: column 'followers' must be a whole number >= 0, got {value!r}")
    return int(number)


def _text(record: dict[str, Any], column: str, where: str) -> str:
    value = record.get(column)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{where}: column {column!r} must be text, got {value!r}")
    return value


def _row(record: dict[str, Any], line: int, path: Path) -> InputRow:
    where = f"{path}:{line}"
    missing = [c for c in REQUIRED_COLUMNS if c not in record]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, record))})"
        )
    handle = _text(record, "handle", where).strip().lstrip("@")
    if not handle:
        raise InputError(f"{where}: column 'handle' is empty")
    category = _text(record, "category", where).strip()
    category = None if category.lower() in ("", "null") else category  # CSV has no other way to say null
    profile = ProfileForLabel(
        handle=handle,
        name=_text(record, "name", where),
        bio=_text(record, "bio", where),
        category=category,
        followers=_followers(record.get("followers"), where),
    )
    for column in REFERENCE_COLUMNS:
        if column in record:
            return InputRow(line, profile, _reference(record[column], where, column), True)
    return InputRow(line, profile)


def _jsonl_records(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{line_number}: invalid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{line_number}: expected a JSON object, got {type(record).__name__}")
        yield line_number, record


def _csv_records(path: Path, handle: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle, strict=True)
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{path}:1: missing column(s) {', '.join(missing)} (header: {', '.join(header) or 'empty'})"
        )
    try:
        for record in reader:
            if None in record or None in record.values():
                raise InputError(f"{path}:{reader.line_num}: expected {len(header)} fields as in the header")
            yield reader.line_num, record
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None


def read_profiles(path: Path | str) -> list[InputRow]:
    """Every profile of a ``.jsonl`` or ``.csv`` file, in file order."""
    path = Path(path)
    readers = {".jsonl": _jsonl_records, ".csv": _csv_records}
    if path.suffix.lower() not in readers:
        raise InputError(f"{path}: unsupported input type {path.suffix or '(none)'!r}; use .jsonl or .csv")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return [_row(record, line, path) for line, record in readers[path.suffix.lower()](path, handle)]
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def build_labeler(
    alias: str, models_file: str | None, labeler_dir: str | None = None, audience: Audience | None = None
) -> tuple[Labeler, int]:
    """The labeler for a registry alias and its default batch size.

    ``labeler_dir`` (local model only) is a fit written by ``scout labeler fit``; it must have
    been trained for ``audience``.
    """
    from resources.models.registry import MODELS_FILE, load_model_registry

    registry = load_model_registry(models_file or MODELS_FILE)
    if alias not in registry:
        raise InputError(f"unknown model alias {alias!r} (known: {', '.join(registry)})")
    spec = registry[alias]
    if labeler_dir is not None and not spec.is_local:
        raise InputError(f"--labeler is a fit of the local labeler; model {alias!r} is not local")
    if spec.is_local:
        from resources.models.local_minilm import ALIAS, LocalMiniLMLabeler, get_model

        if alias != ALIAS:
            raise InputError(f"model {alias!r} is local but only {ALIAS!r} has a local implementation")
        if labeler_dir is not None:
            return _fitted_labeler(labeler_dir, audience), spec.batch_size
        # Load the model now, so the summary's labels/s measures labeling, not a one-off load.
        return LocalMiniLMLabeler(model=get_model()), spec.batch_size
    from resources.models.litellm_labeler import LiteLLMLabeler
    from scout_assets.resources_binding import model_api_key

    return LiteLLMLabeler(spec, api_key=model_api_key(spec)), spec.batch_size


def _fitted_labeler(labeler_dir: str, audience: Audience | None) -> Labeler:
    from resources.models.fitted_labeler import FittedLabeler, LabelerFileError
    from resources.models.local_minilm import get_model

    try:
        labeler = FittedLabeler.load(labeler_dir)
    except LabelerFileError as exc:
        raise InputError(f"--labeler {exc}") from None
    if audience is not None and labeler.audience_hash != audience.content_hash:
        raise InputError(
            f"--labeler {labeler_dir}: fitted for audience {labeler.audience!r} "
            f"({labeler.audience_hash[:12]}), not for {audience.key!r} ({audience.content_hash[:12]})"
        )
    get_model()  # load MiniLM now, so the summary's labels/s measures labeling, not a one-off load
    return labeler


def add_label_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``label`` on a subparsers object; its ``handler``/``func`` default is :func:`run_label`."""
    parser = subparsers.add_parser(
        "label",
        help="label a file of profiles with one model (no warehouse, no asset run)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--model", required=True, help="model alias from config/models.yaml, e.g. local-minilm"
    )
    parser.add_argument(
        "--audience", required=True, help="audience JSON file, or a configured key like thelai_customers.v3"
    )
    parser.add_argument(
        "--input", required=True, help="profiles as .jsonl or .csv (handle, name, bio[, category, followers])"
    )
    parser.add_argument("--output", required=True, help="where to write one JSON line per labeled profile")
    parser.add_argument(
        "--labeler",
        help="folder of a fitted local labeler (`scout labeler fit --out DIR`); local-minilm only",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, help="profiles per model call (default: the model's batch_size)"
    )
    parser.add_argument("--limit", type=positive_int, help="label only the first N profiles (after --split)")
    parser.add_argument(
        "--split",
        choices=("all", *SPLITS),
        default="all",
        help="keep only one side of the evaluation hash split",
    )
    parser.add_argument("--models-file", help="models registry to use instead of config/models.yaml")
    # scout_cli/main.py dispatches on ``handler``; ``func`` is the argparse-docs convention.
    parser.set_defaults(func=run_label, handler=run_label)
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1, with a message naming what was given."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _label_batch(
    labeler: Labeler, rows: Sequence[InputRow], audience: Audience
) -> tuple[LabelBatchResult | None, dict[int, Label | LabelFailure]]:
    """One model call; every row of the batch ends up with a Label or a LabelFailure."""
    from resources.models.litellm_labeler import TransientModelError

    batch = [row.profile for row in rows]
    try:
        result = labeler.label(batch, audience)
    except TransientModelError as exc:
        return None, {
            row.line: LabelFailure(row.profile.handle, f"transient model error: {exc}") for row in rows
        }
    labels = {label.handle.casefold(): label for label in result.labels}
    errors = {failure.handle.casefold(): failure for failure in result.failures}
    outcome: dict[int, Label | LabelFailure] = {}
    for row in rows:
        key = row.profile.handle.casefold()
        outcome[row.line] = (
            labels.get(key) or errors.get(key) or LabelFailure(row.profile.handle, "model returned no label")
        )
    return result, outcome


def run_label(args: argparse.Namespace) -> int:
    """Label ``args.input`` into ``args.output``; 0 = all labeled, 1 = some failed, 2 = bad input."""
    from resources.models.registry import RegistryError
    from scout_contract.audience import AudienceError, resolve_audience

    try:
        rows = read_profiles(args.input)
        audience = resolve_audience(args.audience)
        labeler, default_batch = build_labeler(
            args.model, getattr(args, "models_file", None), getattr(args, "labeler", None), audience
        )
        if Path(args.output).resolve() == Path(args.input).resolve():
            raise InputError(f"{args.output}: the output would overwrite the input")
    except (InputError, AudienceError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    split = getattr(args, "split", "all")
    if split != "all":
        rows = [row for row in rows if split_of(row.profile.handle) == split]
    rows = rows[: args.limit] if args.limit else rows
    batch_size = args.batch_size or default_batch
    return _label_all(labeler, rows, audience, batch_size, Path(args.output), args.model)


def _label_all(
    labeler: Labeler, rows: list[InputRow], audience: Audience, batch_size: int, output: Path, alias: str
) -> int:
    """Label ``rows`` batch by batch, writing each batch's labels as soon as it returns."""
    from resources.models.litellm_labeler import ModelConfigError

    output.parent.mkdir(parents=True, exist_ok=True)
    outcomes: dict[int, Label | LabelFailure] = {}
    tokens_in = tokens_out = 0
    cost = 0.0
    model = prompt_version = ""
    started = time.perf_counter()
    with output.open("w", encoding="utf-8") as out:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            try:
                result, outcome = _label_batch(labeler, chunk, audience)
            except ModelConfigError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            if result is not None:
                tokens_in, tokens_out, cost = (
                    tokens_in + result.input_tokens,
                    tokens_out + result.output_tokens,
                    cost + result.cost_usd,
                )
                model, prompt_version = result.model or model, result.prompt_version or prompt_version
            for row in chunk:
                item = outcome[row.line]
                if isinstance(item, Label):
                    record = {
                        "handle": row.profile.handle,
                        "label": item.label,
                        "reason": item.reason,
                        "model": model,
                        "audience": audience.key,
                        "prompt_version": prompt_version,
                    }
                    if item.p_true is not None:  # a fitted local labeler: its probability and defer flag
                        record |= {"p_true": item.p_true, "defer": bool(item.defer)}
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            outcomes.update(outcome)
    elapsed = time.perf_counter() - started
    _print_summary(rows, outcomes, alias, model, audience.key, output, elapsed, (tokens_in, tokens_out, cost))
    return 1 if any(isinstance(item, LabelFailure) for item in outcomes.values()) else 0


def _print_summary(
    rows: list[InputRow],
    outcomes: dict[int, Label | LabelFailure],
    alias: str,
    model: str,
    audience_key: str,
    output: Path,
    elapsed: float,
    usage: tuple[int, int, float],
) -> None:
    labeled = [(row, item) for row in rows if isinstance(item := outcomes[row.line], Label)]
    failures = [(row, item) for row in rows if isinstance(item := outcomes[row.line], LabelFailure)]
    rate = len(labeled) / elapsed if elapsed > 0 else 0.0
    print(
        f"labeled {len(labeled)} of {len(rows)} profiles with {alias} ({model or 'no call made'}) "
        f"against {audience_key} in {elapsed:.1f} s ({rate:.1f} labels/s) -> {output}"
    )
    counts = {
        name: sum(label_name(item.label) == name for _, item in labeled) for name in ("true", "false", "null")
    }
    shares = {name: f"{100 * c / len(labeled):.1f}%" if labeled else "-" for name, c in counts.items()}
    print("labels: " + ", ".join(f"{name} {c} ({shares[name]})" for name, c in counts.items()))
    print(f"tokens: input {usage[0]}, output {usage[1]}; cost USD {usage[2]:.6f}")
    print(f"failures: {len(failures)}")
    for row, failure in failures[:20]:
        print(f"  {row.profile.handle} (line {row.line}): {failure.error}")
    if len(failures) > 20:
        print(f"  ... and {len(failures) - 20} more")
    scored = [(row, item) for row, item in labeled if row.has_reference]
    if scored:
        ref = [row.reference for row, _ in scored]
        print(f"agreement with the input's reference labels ({len(scored)} profiles):")
        print(format_agreement(agreement([item.label for _, item in scored], ref)))
        for name, figures in baselines(ref).items():
            print(f"  baseline {name}: agreement={figures['agreement']:.3f} kappa={figures['kappa']:.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scout_cli.label label ...`` (the word ``label`` is optional)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m scout_cli.label")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_label_parser(subparsers)
    if not argv or argv[0] != "label":
        argv = ["label", *argv]
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
