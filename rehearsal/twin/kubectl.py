"""`kubectl` for the cluster twin: the scenario Commands' scripts run unchanged, and what they
ask of the PostgreSQL pod happens to the local database. Only the calls those scripts make are
understood (get a StatefulSet, exec psql in it, the logs of a Job the twin ran); any other
fails loudly, so a script that
starts making a new call is noticed here rather than on a cluster.

Environment: BFDEMO_TWIN_PSQL (the psql binary), BFDEMO_TWIN_PG_PORT, BFDEMO_TWIN_PG_DB, and
BFDEMO_TWIN_STATEFULSETS (the StatefulSets that exist, comma-separated), BFDEMO_TWIN_JOB_LOGS
(job=logfile pairs, comma-separated: the Jobs the twin ran)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GLOBAL_FLAGS = {"--context", "-n", "--namespace"}
PSQL_TARGET_FLAGS = {"-U", "-d", "-h", "-p"}  # where to connect: the twin decides


def _drop_flags(args: list[str], flags: set[str]) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in flags:
            skip = True
        else:
            out.append(arg)
    return out


def _existing() -> set[str]:
    return {f"statefulset/{n}" for n in os.environ.get("BFDEMO_TWIN_STATEFULSETS", "").split(",") if n}


def _get(args: list[str]) -> int:
    target = args[1]
    if target in _existing():
        if "-o" in args and args[args.index("-o") + 1] == "name":
            print(target.replace("statefulset/", "statefulset.apps/"))
        return 0
    if "--ignore-not-found" in args:
        return 0
    print(f'Error from server (NotFound): statefulsets.apps "{target.split("/")[-1]}" not found', file=sys.stderr)
    return 1


def _exec(args: list[str]) -> int:
    target = next(a for a in args[1:] if not a.startswith("-"))
    command = args[args.index("--") + 1:]
    if target not in _existing():
        print(f'Error from server (NotFound): {target} not found', file=sys.stderr)
        return 1
    if command[:1] != ["psql"]:
        return _unsupported(["exec", target, "--", *command])
    psql = [os.environ["BFDEMO_TWIN_PSQL"], *_drop_flags(command[1:], PSQL_TARGET_FLAGS),
            "-h", "127.0.0.1", "-p", os.environ["BFDEMO_TWIN_PG_PORT"], "-U", "postgres",
            "-d", os.environ.get("BFDEMO_TWIN_PG_DB", "ecommerce")]
    return subprocess.run(psql, stdin=sys.stdin if "-i" in args else subprocess.DEVNULL, check=False).returncode


def _logs(args: list[str]) -> int:
    """`kubectl logs job/NAME`: the log of the Job's pod (stdout and stderr, as kubectl shows)."""
    target = args[1]
    logs = dict(pair.split("=", 1) for pair in os.environ.get("BFDEMO_TWIN_JOB_LOGS", "").split(",") if pair)
    if not target.startswith("job/") or len(args) != 2:
        return _unsupported(args)
    if target[4:] not in logs:
        print(f'error: error from server (NotFound): jobs.batch "{target[4:]}" not found', file=sys.stderr)
        return 1
    sys.stdout.write(Path(logs[target[4:]]).read_text())
    return 0


def _unsupported(args: list[str]) -> int:
    print(f"twin kubectl: not a call the twin understands: kubectl {' '.join(args)}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    args = _drop_flags(argv, GLOBAL_FLAGS)
    if args[:1] == ["get"] and len(args) > 1:
        return _get(args)
    if args[:1] == ["logs"] and len(args) > 1:
        return _logs(args)
    if args[:1] == ["exec"] and "--" in args:
        return _exec(args)
    return _unsupported(args)


def install(bin_dir: Path) -> Path:
    """A `kubectl` on `bin_dir` that runs this module with this interpreter."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[2]
    wrapper = bin_dir / "kubectl"
    wrapper.write_text(f'#!/bin/sh\ncd "{root}" && exec "{sys.executable}" -m rehearsal.twin.kubectl "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
