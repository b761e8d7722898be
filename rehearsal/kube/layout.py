"""The services image as a file tree: the Dockerfile's build-stage COPY lines, relative to its
WORKDIR (/app), laid out here. Processes the twin starts from it import the image's code and
nothing else of the project: a file the image lacks fails here as it would in the pod."""

from __future__ import annotations

import re
import shutil
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY = re.compile(r"^COPY\s+(?!--from)(\S+)\s+(\S+)\s*$", re.MULTILINE)


def image_tree(root: Path) -> Path:
    """`root` filled as the image's /app is; returns it."""
    for src, dst in COPY.findall((ROOT / "Dockerfile").read_text()):
        target = root / dst
        if (ROOT / src).is_dir():
            shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / src, target)
    return root


def image_python(python: str) -> tuple[list[str], dict[str, str]]:
    """How to run the image's `python` here: this interpreter with -S (no site processing, so
    the project's own editable install is not on the path) and the installed dependencies on
    PYTHONPATH; the image's code then comes from the working directory (the tree)."""
    if python != "python":
        raise ValueError(f"the twin runs commands of the image's python, not {python!r}")
    import sys

    return [sys.executable, "-S"], {"PYTHONPATH": sysconfig.get_path("purelib")}
