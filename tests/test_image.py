"""The services image as the Dockerfile lays it out: its COPY lines build a file tree here, and
every entry point the cluster runs must import and find its files from that tree alone, with
the project's source tree out of reach (a file the image lacks fails here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rehearsal.kube.layout import image_python, image_tree

REPO = Path(__file__).resolve().parents[1]


def _run(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefix, env = image_python("python")
    return subprocess.run([*prefix, *args], cwd=tree, env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return image_tree(tmp_path_factory.mktemp("image"))


def test_the_image_holds_the_lock_and_the_two_packages(tree: Path) -> None:
    assert sorted(p.name for p in tree.iterdir()) == ["requirements", "scenarios", "services"]
    assert (tree / "requirements" / "image.txt").is_file()


def test_every_module_imports_and_finds_its_sql(tree: Path) -> None:
    script = (
        f"import importlib, pkgutil, scenarios, services\nroot = {str(tree)!r}\n"
        "for pkg in (scenarios, services):\n"
        "    assert pkg.__file__.startswith(root), pkg.__file__\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name != 'services.__main__':\n"
        "            importlib.import_module(m.name)\n"
        "from scenarios.catalogue import SCENARIOS\n"
        "from scenarios.scripts import sql_text\n"
        "from services.seed import storefront_sql\n"
        "for s in SCENARIOS.values():\n"
        "    assert sql_text(s.break_sql) and sql_text(s.restore_sql)\n"
        "assert 'CREATE TABLE' in storefront_sql('schema.sql') and storefront_sql('seed_catalog.sql')\n"
    )
    result = _run(tree, "-c", script)
    assert result.returncode == 0, result.stderr


def test_the_entry_points_the_cluster_runs_start(tree: Path) -> None:
    for args in (["seed", "--help"], ["calibrate", "--help"], ["product-catalog", "--help"]):
        result = _run(tree, "-m", "services", *args)
        assert result.returncode == 0, result.stderr


def test_the_laptop_side_is_not_in_the_image(tree: Path) -> None:
    for package in ("rehearsal", "infra", "bench", "dashboards"):
        result = _run(tree, "-c", f"import {package}")
        assert "ModuleNotFoundError" in result.stderr, package


def _tag(root: Path) -> str:
    result = subprocess.run(["make", "-s", "-C", str(root), "image-tag"], capture_output=True, text=True,
                            timeout=60, check=True)
    return result.stdout.strip()


def test_the_image_tag_follows_the_content_of_the_image(tmp_path: Path) -> None:
    """A rebuilt image must get a new tag, or `pulumi up` sees no change and nothing rolls."""
    for name in ("Makefile", "Dockerfile", "requirements", "services", "scenarios"):
        src = REPO / name
        copy = shutil.copytree if src.is_dir() else shutil.copy
        copy(src, tmp_path / name)  # type: ignore[operator]
    first = _tag(tmp_path)
    assert re.fullmatch(r"bfdemo-services:[0-9a-f]{12}", first)
    assert _tag(tmp_path) == first
    (tmp_path / "services" / "__main__.py").write_text((REPO / "services" / "__main__.py").read_text() + "\n# edit\n")
    assert _tag(tmp_path) != first
    (tmp_path / "README.md").write_text("not in the image")
    changed = _tag(tmp_path)
    (tmp_path / "README.md").unlink()
    assert _tag(tmp_path) == changed
