"""The parser version covers every module that decides what a stored page's rows are.

Typed rows stored at fetch are trusted only while ``PARSER_VERSION`` is unchanged, so a module
the parse depends on but the digest leaves out would let a parser fix keep serving old rows.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

from resources.platforms import columnar, parser_version, raw_pages
from resources.platforms.parser_version import PARSER_MODULES, PARSER_VERSION, parser_digest

PACKAGE = "resources.platforms"


def _platform_imports(module: ModuleType) -> set[str]:
    """The ``resources.platforms`` modules ``module`` imports, by name."""
    tree = ast.parse(Path(module.__file__ or "").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
            elif node.module.startswith(f"{PACKAGE}."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(f"{PACKAGE}."))
    return found


def test_every_module_the_parsers_import_is_in_the_digest() -> None:
    reached, todo = set(), [raw_pages.__name__, columnar.__name__]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        todo.extend(_platform_imports(importlib.import_module(name)))
    assert reached <= {module.__name__ for module in PARSER_MODULES}


def test_the_version_follows_the_code() -> None:
    assert parser_digest() == PARSER_VERSION and len(PARSER_VERSION) == 16
    assert parser_digest(PARSER_MODULES[:-1]) != PARSER_VERSION  # one module less, another version
    assert parser_digest((*PARSER_MODULES, parser_version)) != PARSER_VERSION
