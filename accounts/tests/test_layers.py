"""The domain does not know HTTP: `accounts` imports neither DRF nor the API layer (SimpleJWT's
token library is allowed: tokens are part of the domain)."""

import ast
from pathlib import Path

import accounts

FORBIDDEN = ("rest_framework", "users_api")


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_accounts_imports_neither_drf_nor_the_api():
    root = Path(accounts.__file__).parent
    offenders = [
        f"{path.relative_to(root.parent)}: {module}"
        for path in root.rglob("*.py")
        if "tests" not in path.relative_to(root).parts
        for module in imported_modules(path)
        if any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)
    ]

    assert offenders == []
