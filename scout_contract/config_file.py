"""The one way Scout reads a YAML configuration file: parse it, check it against a typed model.

Why one loader: every file in ``scout_assets/config`` is edited by hand, and a typo must stop
the run with the file, the field and the problem on one line, never fall back to a default.
Each config declares what it accepts as a pydantic model (types, ranges, no unknown fields);
this module reads the file and turns the first problem into a ``ConfigFileError`` such as::

    models file scout_assets/config/models.yaml: field 'models.claude-haiku-4.5.batch_size'
    must be >= 1, got int 0

The number types below are strict on purpose: YAML reads ``yes`` as a boolean and ``"0.5"``
as text, and neither may silently become a number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic import Strict as _Strict
from pydantic_core import ErrorDetails, PydanticCustomError

M = TypeVar("M", bound=BaseModel)

# A finite number; an integer in the file is read as a float, a boolean or text is refused.
Number = Annotated[float, _Strict(), AllowInfNan(False)]
# A whole number; 2.5, true and "3" are refused.
Integer = Annotated[int, _Strict()]
# A non-empty string, surrounding blanks removed.
Text = Annotated[str, _Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
# Common ranges.
Share = Annotated[Number, Field(ge=0, le=1)]
NonNegative = Annotated[Number, Field(ge=0)]
PositiveInteger = Annotated[Integer, Field(ge=1)]


class ConfigModel(BaseModel):
    """Base of every config model: immutable, and an unknown field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigFileError(ValueError):
    """A config file that cannot be used: which file, which field (dotted path) and what is wrong.

    Each config keeps its own subclass (``HasConfigError``, ``RegistryError`` ...) so callers can
    catch the one they mean; all of them are built by ``load_config_file``.
    """

    def __init__(self, what: str, path: str | Path, field: str | None, problem: str) -> None:
        self.what = what
        self.path = str(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: field {field!r}" if field else f"{self.path}:"
        super().__init__(f"{what} {where} {problem}")

    def __reduce__(self):
        # Dagster pickles exceptions across processes; rebuild from the four attributes.
        return (type(self), (self.what, self.path, self.field, self.problem))


def load_config_file(
    path: str | Path, model: type[M], what: str, *, error: type[ConfigFileError] = ConfigFileError
) -> M:
    """Read ``path`` as YAML and check it against ``model``; any problem raises ``error``.

    ``what`` names the kind of file in the message ("HAS config", "models file" ...).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(what, path, None, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(what, path, None, f"is not valid YAML {_yaml_problem(exc)}") from exc
    if data is None:
        raise error(what, path, None, "is empty")
    return _validate(data, model, what, path, error)


def _validate(data: Any, model: type[M], what: str, path: Path, error: type[ConfigFileError]) -> M:
    """Check parsed ``data`` against ``model``; report the first problem (and how many others)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = exc.errors(include_url=False)
        first = problems[0]
        field, problem = _field_path(first), _problem(model, first)
        if len(problems) > 1:
            problem += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        raise error(what, path, field, problem) from None


def field_problem(field: str, problem: str) -> PydanticCustomError:
    """An error for a check across several fields, reported at ``field`` (a name in the same model).

    Raise it from a ``model_validator``: pydantic would otherwise report the whole model.
    """
    return PydanticCustomError("field_problem", "{problem}", {"field": field, "problem": problem})


def _field_path(error: ErrorDetails) -> str | None:
    # An empty mapping key shows as "", and a problem with a key itself as "(name)".
    parts = ["(name)" if part == "[key]" else str(part) or '""' for part in error["loc"]]
    extra = (error.get("ctx") or {}).get("field")
    if error["type"] == "field_problem" and extra:
        parts.append(str(extra))
    return ".".join(parts) or None


_KINDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "finite_number": "a finite number",
}
_BOUNDS = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}


def _problem(model: type[BaseModel], error: ErrorDetails) -> str:
    """What is wrong, in the words every Scout config error uses."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        known = _known_fields(model, error["loc"])
        return "is not a known field" + (f" (known: {', '.join(known)})" if known else "")
    if kind == "field_problem":
        return str(ctx["problem"])
    if kind in ("value_error", "assertion_error"):
        return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, got {_describe(value)}"
    for name, sign in _BOUNDS.items():
        if kind == name:
            bound = next(iter(ctx.values()))
            return f"must be {sign} {_number(bound)}, got {_describe(value)}"
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    return f"{error['msg'].replace('Input should be', 'must be')}, got {_describe(value)}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{type(value).__name__} {text}"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _known_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names accepted where the unknown field at ``loc`` was found (empty if unclear)."""
    node: Any = model
    for part in loc[:-1]:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return []
            node = field.annotation
        elif get_origin(node) is dict:  # ``part`` is a key of a mapping: go to its value type
            node = get_args(node)[1]
        else:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return sorted(node.model_fields)
    return []


def _unwrap(node: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and ``X | None``."""
    while get_origin(node) is Annotated:
        node = get_args(node)[0]
    if get_origin(node) in (Union, type(int | None)):
        options = [arg for arg in get_args(node) if arg is not type(None)]
        node = options[0] if len(options) == 1 else node
    return node


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'at line L, column C: problem (while ... started at line L0)' from a PyYAML error."""
    mark = getattr(exc, "problem_mark", None)
    text = f"at line {mark.line + 1}, column {mark.column + 1}: " if mark else ": "
    text += getattr(exc, "problem", None) or str(exc)
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark:
        text += f" ({context} started at line {context_mark.line + 1})"
    return text
