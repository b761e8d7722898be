"""The codebase's own rules, checked as tests so `make test` enforces them as `make lint` does:
the import contracts, a scenario package of pure standard library, and a lock that covers
every declared dependency at a version its range admits."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (REPO / "requirements" / name).read_text()
    return {_canonical(n): v for n, v in PIN.findall(text)}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_import_contracts_hold() -> None:
    result = subprocess.run([str(BIN / "lint-imports"), "--no-logo", "--no-cache"], cwd=REPO,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_imported_package_is_declared() -> None:
    result = subprocess.run([str(BIN / "deptry"), "."], cwd=REPO, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scenarios_imports_only_the_standard_library() -> None:
    outside: list[str] = []
    for path in (REPO / "scenarios").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("__future__", "scenarios"):
                    outside.append(f"{path.relative_to(REPO)}: {name}")
    assert outside == []


def test_the_locks_pin_every_dependency_within_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    dev, image = _pins("dev.txt"), _pins("image.txt")
    declared = [Requirement(r) for r in project["dependencies"]]
    extras = [Requirement(r) for group in project["optional-dependencies"].values() for r in group]
    for req in declared + extras:
        version = dev.get(_canonical(req.name))
        assert version is not None and req.specifier.contains(version, prereleases=True), req
    for req in declared:
        assert image.get(_canonical(req.name)) == dev[_canonical(req.name)], req
    # The image's lock is the development lock's subset, at the same versions.
    assert {n: v for n, v in image.items() if dev.get(n) != v} == {}


def test_the_scanners_pass() -> None:
    """checkov on the rendered stacks, zizmor and GitHub's schema on the workflows, hadolint on
    the Dockerfile, with the skip list and its reasons in .checkov.yaml (see `make scan`)."""
    result = subprocess.run(["make", "-s", "scan"], cwd=REPO, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
