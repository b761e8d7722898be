"""A whole local cluster for the real Pulumi engine: the control plane (controlplane.py) and
this machine as its one node (agent.py), with the environment `pulumi` and the program's
commands run in: the engine's binaries on PATH, the kubectl shim first (exec into the node's
pods), KUBECONFIG and the context the stack names.

    with LocalCluster(workdir) as cluster:
        subprocess.run(["pulumi", "up"], env=cluster.env())

    python -m rehearsal.kube.cluster up --workdir DIR   # until Ctrl-C; prints the env to use
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import TracebackType

from rehearsal.kube.agent import NodeAgent, default_images
from rehearsal.kube.controlplane import ControlPlane
from rehearsal.kube.procs import engine_bin_dirs, find_binary, missing_binaries

CONTEXT = "bfdemo"  # the admin kubeconfig's context (certs.write_kubeconfig)


class LocalCluster:
    def __init__(self, workdir: Path, collector_upstream: str = "") -> None:
        self.workdir = workdir.resolve()
        self.bin_dirs = engine_bin_dirs()
        missing = missing_binaries(self.bin_dirs)
        if missing:
            raise RuntimeError(f"the engine is not built ({', '.join(missing)} missing): run `make engine`")
        self.plane = ControlPlane(self.workdir / "control-plane", self.bin_dirs)
        self.collector_upstream = collector_upstream
        self.agent: NodeAgent | None = None

    @property
    def node_root(self) -> Path:
        return self.workdir / "node"

    @property
    def shim_dir(self) -> Path:
        return self.workdir / "shim"

    def start(self) -> LocalCluster:
        self.plane.start()
        try:
            self._write_shim()
            self.agent = NodeAgent(
                self.plane.kubeconfig, self.node_root, default_images(self.node_root, self.collector_upstream)
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_shim(self) -> None:
        self.shim_dir.mkdir(parents=True, exist_ok=True)
        shim = self.shim_dir / "kubectl"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m rehearsal.kube.kubectl "$@"\n')
        shim.chmod(0o755)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment for `pulumi` and `kubectl`: this cluster, the engine, the shim."""
        real = find_binary("kubectl", self.bin_dirs)
        path = os.pathsep.join([str(self.shim_dir), *map(str, self.bin_dirs), (base or os.environ).get("PATH", "")])
        return {
            **(base if base is not None else os.environ),
            "PATH": path,
            "KUBECONFIG": str(self.plane.kubeconfig),
            "BFDEMO_KUBECTL": str(real),
            "BFDEMO_NODE_ROOT": str(self.node_root),
        }

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop(delete_node=False)
            self.agent = None
        self.plane.stop()
        # The pods' data goes; their logs stay for a look afterwards (node/pods/*/logs).
        for volumes in (self.node_root / "volumes", self.node_root / "v"):
            shutil.rmtree(volumes, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--collector-upstream", default="")
    args = parser.parse_args(argv)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    with LocalCluster(args.workdir, args.collector_upstream) as cluster:
        env = cluster.env()
        for key in ("KUBECONFIG", "BFDEMO_KUBECTL", "BFDEMO_NODE_ROOT", "PATH"):
            print(f"export {key}={env[key]}", flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
