"""The dependency rules of STYLE.md, checked by import-linter on every test run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports is not None, "import-linter is a dev dependency; run `uv sync`"
    result = subprocess.run(
        [lint_imports, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# Frameworks not imported today are not in import-linter's graph, so its contract cannot name
# them; this keeps them out of every package but web/ when someone first imports one.
HTTP_FRAMEWORKS = ("aiohttp", "fastapi", "starlette", "uvicorn")
PRODUCT = ("core", "storage", "scheduler", "application", "bot", "web", "cronpilot", "migrations")


def test_http_frameworks_only_in_web() -> None:
    graph = grimp.build_graph(*PRODUCT, include_external_packages=True, cache_dir=None)
    outside = {
        (importer, framework)
        for framework in HTTP_FRAMEWORKS
        if framework in graph.modules
        for importer in graph.find_modules_that_directly_import(framework)
        if importer.split(".")[0] != "web"
    }
    assert outside == set()
