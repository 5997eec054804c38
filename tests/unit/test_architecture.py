"""The map stays true: every module is in docs/architecture.md's layer table under its own layer, and
the use cases stay small enough to read (no function over 60 lines, no module over 400)."""

from __future__ import annotations

import ast
import re

from stack import ROOT

PACKAGE = ROOT / "functions" / "tresen"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400
# a row of the layer table: | `services/orders.py` | services | what it is |
ROW = re.compile(r"^\| `(?P<module>[a-z_/]+\.py)` \| (?P<layer>[a-z ]+) \|", re.MULTILINE)
LAYER_OF_FOLDER = {folder: folder for folder in ("domain", "services", "adapters", "http", "standins")}


def modules() -> set[str]:
    return {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    }


def layer_table() -> dict[str, str]:
    return {match["module"]: match["layer"] for match in ROW.finditer(ARCHITECTURE.read_text())}


def test_every_module_is_in_the_layer_table_under_its_own_layer():
    table = layer_table()
    assert sorted(modules() - table.keys()) == [], "add these modules to docs/architecture.md's layer table"
    assert sorted(table.keys() - modules()) == [], "these modules in docs/architecture.md no longer exist"
    wrong = {
        module: layer
        for module, layer in table.items()
        if "/" in module and LAYER_OF_FOLDER[module.split("/")[0]] != layer
    }
    assert wrong == {}


def long_functions(source: str) -> list[tuple[str, int]]:
    tree = ast.parse(source)
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_use_case_function_is_over_60_lines():
    found = {
        path.name: long_functions(path.read_text())
        for path in sorted((PACKAGE / "services").glob("*.py"))
        if long_functions(path.read_text())
    }
    assert found == {}


def test_no_services_module_is_over_400_lines():
    found = {
        path.name: lines
        for path in sorted((PACKAGE / "services").glob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert found == {}


def test_the_function_length_check_counts_from_def_to_the_last_line():
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def short():\n{body[: body.rindex(chr(10))]}\n") == []
    assert long_functions(f"def long():\n{body}\n") == [("long", MAX_FUNCTION_LINES + 1)]
