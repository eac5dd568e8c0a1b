"""Audiences: who a labeling model is asked to recognise, as checked-in, user-editable JSON.

One file per audience *version* (``<name>.<version>.json``, e.g. ``thelai_customers.v3.json``),
using the predecessor's field names so its files load unchanged (REFERENCE §6.1). A label is
only meaningful together with the audience version it was made against, so the key
``thelai_customers.v3`` travels with every label, and ``content_hash`` lets a run record exactly
which wording the model saw even if someone edits a file without bumping its version.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scout_contract.paths import CONFIG_DIR

AUDIENCES_DIR = CONFIG_DIR / "audiences"
SECTORS = ("academia", "industry", "government", "ngo", "healthcare", "custom")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_VERSION_RE = re.compile(r"^v[0-9]+$")
# JSON field -> (attribute, required); notes is a human changelog and never reaches the model.
_FIELDS = {
    "targetProfile": ("target_profile", True),
    "sector": ("sector", True),
    "highSignals": ("high_signals", True),
    "lowSignals": ("low_signals", True),
    "nullSignals": ("null_signals", False),
    "domainContext": ("domain_context", True),
    "notes": ("notes", False),
}
_LIST_FIELDS = {"highSignals", "lowSignals", "nullSignals"}


class AudienceError(ValueError):
    """An audience file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Audience:
    """One version of an audience definition, as sent (minus ``notes``) to every labeler."""

    name: str
    version: str
    target_profile: str
    sector: str
    high_signals: tuple[str, ...]
    low_signals: tuple[str, ...]
    null_signals: tuple[str, ...] = ()
    domain_context: str = ""
    notes: str = ""

    @property
    def key(self) -> str:
        """The audience version stored with each label, e.g. ``thelai_customers.v3``."""
        return f"{self.name}.{self.version}"

    def model_facing(self) -> dict[str, Any]:
        """The fields a model sees, in predecessor field names (``notes`` excluded on purpose)."""
        return {
            "targetProfile": self.target_profile,
            "sector": self.sector,
            "highSignals": list(self.high_signals),
            "lowSignals": list(self.low_signals),
            "nullSignals": list(self.null_signals),
            "domainContext": self.domain_context,
        }

    @property
    def content_hash(self) -> str:
        """Short sha256 of the model-facing fields: changes iff what the model reads changes."""
        canonical = json.dumps(self.model_facing(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def _split_file_name(path: Path) -> tuple[str, str]:
    if path.suffix != ".json":
        raise AudienceError(f"audience file {path}: name must end in .json")
    name, dot, version = path.stem.rpartition(".")
    if not dot or not _NAME_RE.match(name) or not _VERSION_RE.match(version):
        raise AudienceError(
            f"audience file {path}: file name must be <name>.<version>.json with a lower-case name "
            f"and a version like v3 (got {path.name!r})"
        )
    return name, version


def _check_text(path: Path, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AudienceError(
            f"audience file {path}: field {field!r} must be a non-empty string, got {value!r:.80}"
        )
    return value.strip()


def _check_list(path: Path, field: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise AudienceError(
            f"audience file {path}: field {field!r} must be a list of strings, got {type(value).__name__}"
        )
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise AudienceError(
                f"audience file {path}: field {field!r} item {index} must be a non-empty string, "
                f"got {item!r:.80}"
            )
        items.append(item.strip())
    return tuple(items)


def audience_from_mapping(data: Any, *, name: str, version: str, source: Path | str) -> Audience:
    """Validate predecessor-format audience JSON; ``source`` only labels error messages."""
    path = Path(source)
    if not isinstance(data, dict):
        raise AudienceError(
            f"audience file {path}: top level must be a JSON object, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise AudienceError(
            f"audience file {path}: unknown field {unknown[0]!r} (allowed: {', '.join(_FIELDS)})"
        )
    values: dict[str, Any] = {}
    for field, (attribute, required) in _FIELDS.items():
        if field not in data:
            if required:
                raise AudienceError(f"audience file {path}: missing required field {field!r}")
            continue
        raw = data[field]
        if field == "notes":
            # Notes are free text and may legitimately be empty.
            if not isinstance(raw, str):
                raise AudienceError(f"audience file {path}: field 'notes' must be a string")
            values[attribute] = raw
        elif field in _LIST_FIELDS:
            values[attribute] = _check_list(path, field, raw)
        else:
            values[attribute] = _check_text(path, field, raw)
    if values["sector"] not in SECTORS:
        raise AudienceError(
            f"audience file {path}: field 'sector' must be one of {'|'.join(SECTORS)}, "
            f"got {values['sector']!r}"
        )
    if not values["high_signals"]:
        raise AudienceError(f"audience file {path}: field 'highSignals' must list at least one signal")
    return Audience(name=name, version=version, **values)


def load_audience(path: Path | str) -> Audience:
    """Read and validate one ``<name>.<version>.json`` audience file."""
    path = Path(path)
    name, version = _split_file_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AudienceError(f"audience file {path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AudienceError(
            f"audience file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    return audience_from_mapping(data, name=name, version=version, source=path)


def load_audiences(directory: Path | str = AUDIENCES_DIR) -> dict[str, Audience]:
    """Every audience file of a folder, keyed ``name.version``; any broken file is an error."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AudienceError(f"audience folder {directory} does not exist")
    return {audience.key: audience for audience in map(load_audience, sorted(directory.glob("*.json")))}


def resolve_audience(value: str, directory: Path | str = AUDIENCES_DIR) -> Audience:
    """The audience a command line names: a ``.json`` file (or any existing path), else a configured key.

    ``thelai_customers.v3`` is looked up among the files of ``directory``; anything ending in
    ``.json`` must be a readable audience file. Raises ``AudienceError`` naming what was given.
    """
    path = Path(value)
    if path.suffix == ".json" or path.exists():
        if not path.is_file():
            raise AudienceError(f"audience file {path}: no such file")
        return load_audience(path)
    known = load_audiences(directory)
    if value not in known:
        raise AudienceError(
            f"audience {value!r}: not a .json file nor a configured audience (known: {', '.join(known)})"
        )
    return known[value]
