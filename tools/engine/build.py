"""Build the engine's Go programs from the pinned modules beside this file, into a cache.

Each folder here holding a go.mod is one Go module of our own that requires the upstream
modules at pinned versions (their go.sum is committed). `go build` of a required module's
command works where `go install pkg@version` refuses one whose go.mod has replace directives.

The binaries land in $BFDEMO_CACHE/engine/<module>-<key>/bin (BFDEMO_CACHE defaults to
~/.cache/bfdemo), where <key> hashes the module's go.mod, go.sum, its own sources and the Go
version: a checkout that pins the same versions reuses them, across clones, and a changed pin
builds anew. Only the module proxy is asked for sources (GOFLAGS=-mod=readonly: go.sum decides).

    python3 tools/engine/build.py            # build what is missing, print the bin folders
    python3 tools/engine/build.py --print    # the bin folders only (build nothing)
    python3 tools/engine/build.py pulumi     # one module only
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def cache_root() -> Path:
    return Path(os.environ.get("BFDEMO_CACHE", Path.home() / ".cache" / "bfdemo")) / "engine"


def modules() -> list[Path]:
    return sorted(p.parent for p in HERE.glob("*/go.mod"))


def go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()


def key(module: Path) -> str:
    digest = hashlib.sha256(go_version().encode())
    for path in sorted(module.rglob("*")):
        if path.is_file() and ".gen" not in path.relative_to(module).parts:  # .gen: made by the build
            digest.update(str(path.relative_to(module)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def bin_dir(module: Path) -> Path:
    return cache_root() / f"{module.name}-{key(module)}" / "bin"


def targets(module: Path) -> list[dict[str, Any]]:
    """build.json: [{"name": binary, "package": import path, "ldflags": optional}]; a copied
    file: {"name": ..., "module": path@version, "file": path inside that module}; or a command
    built after `go generate`: {"name": ..., "generate": {"module": ..., "dir": ..., "env": {...}}}."""
    return json.loads((module / "build.json").read_text())


def _module_dir(module: Path, spec: str, env: dict[str, str]) -> Path:
    path = spec.split("@")[0]
    # `go list -m` names no folder for a module not in the module cache yet (a cold machine:
    # the copy then read a relative path and failed); downloading it first puts it there.
    subprocess.run(["go", "mod", "download", path], cwd=module, env=env, check=True)
    out = subprocess.run(["go", "list", "-m", "-f", "{{.Dir}}", path], cwd=module, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    if not out:
        raise RuntimeError(f"go list -m names no folder for {path} in {module}")
    return Path(out)


def _generated(module: Path, target: dict[str, Any], env: dict[str, str]) -> str:
    """A command whose upstream build generates files first (`go generate`) that its module
    does not ship: its folder copied into .gen/ of our module (so its imports resolve through
    our go.mod), generated there with the target's environment, and built from there."""
    spec = target["generate"]
    source = _module_dir(module, spec["module"], env) / spec["dir"]
    work = module / ".gen" / target["name"]
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work)
    for path in (work, *work.iterdir()):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # the module cache is read-only
    subprocess.run(["go", "generate", "."], cwd=work, env={**env, **spec.get("env", {})}, check=True)
    return f"./.gen/{target['name']}"


def build(module: Path) -> Path:
    dest = bin_dir(module)
    if (dest / ".complete").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # One build of a module at a time: two (a test and `make`, two terminals) would share
    # bin.partial, each deleting the other's binaries. The second waits, then finds them built.
    with (dest.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (dest / ".complete").exists():
            _build(module, dest)
    return dest


def _build(module: Path, dest: Path) -> None:
    tmp = dest.with_name("bin.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = {**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false", "CGO_ENABLED": "0"}
    for target in targets(module):
        started = time.monotonic()
        out = tmp / target["name"]
        if "file" in target:
            source = _module_dir(module, target["module"], env) / target["file"]
            shutil.copyfile(source, out)
            out.chmod(0o755)
        else:
            package = _generated(module, target, env) if "generate" in target else target["package"]
            ldflags = "-s -w " + target.get("ldflags", "")
            subprocess.run(["go", "build", "-trimpath", "-ldflags", ldflags, "-o", str(out), package],
                           cwd=module, env=env, check=True)
        print(f"engine: {module.name}/{target['name']} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    (tmp / ".complete").touch()  # before the rename, which is atomic: no bin/ is ever half done
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the bin folders, build nothing")
    parser.add_argument("module", nargs="*", help="only these module folders (default: all)")
    args = parser.parse_args()
    for module in modules():
        if args.module and module.name not in args.module:
            continue
        print(bin_dir(module) if args.print else build(module))
    return 0


if __name__ == "__main__":
    sys.exit(main())
