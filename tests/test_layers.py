"""The architecture's layering rules, checked: lower layers never import upper ones."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import interlock

PACKAGE = Path(interlock.__file__).parent
#: Modules a controller driver must never know about.
UPPER = {"sessions", "manager", "runtime", "journal", "stage", "supervisor", "api", "app"}


def imported_modules(path: Path) -> set[str]:
    """Top-level ``interlock`` submodules a file imports (relative or absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 2 or (node.level == 0 and module.startswith("interlock.")):
                names.add(module.removeprefix("interlock.").split(".")[0])
            elif node.level == 1 and path.parent != PACKAGE:
                continue  # a sibling inside the same subpackage
        elif isinstance(node, ast.Import):
            names.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("interlock.")
            )
    return names


def test_hardware_drivers_import_nothing_from_the_session_layer() -> None:
    for path in sorted((PACKAGE / "hardware").glob("*.py")):
        assert not imported_modules(path) & UPPER, path.name


def test_importing_the_session_layer_does_not_import_uvicorn() -> None:
    code = "import sys, interlock.sessions, interlock.manager; print('uvicorn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
