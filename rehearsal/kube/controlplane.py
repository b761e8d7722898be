"""A Kubernetes control plane as local processes: etcd, kube-apiserver, kube-controller-manager
and kube-scheduler, all on 127.0.0.1 at ports free at start, with credentials made for the run.

    with ControlPlane(workdir, bin_dirs) as cp:       # or cp = ControlPlane(...).start(); cp.stop()
        subprocess.run(["kubectl", "get", "ns"], env={..., "KUBECONFIG": str(cp.kubeconfig)})

    python -m rehearsal.kube.controlplane up --workdir DIR [--bin DIR ...]

There is no kubelet: pods are created and scheduled once a node registers, and stay Pending
before. `kubectl logs`/`exec` go through the apiserver to a node's InternalIP and kubelet port;
the node agent (a later part of the rehearsal) registers a Node with InternalIP 127.0.0.1 and
serves them, so the apiserver prefers InternalIP (below) and stays on loopback.
"""

from __future__ import annotations

import argparse
import atexit
import ipaddress
import shutil
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType

from rehearsal.kube.certs import FRONT_PROXY_CLIENT, Pki, make_pki, write_kubeconfig
from rehearsal.kube.procs import (
    Component,
    ControlPlaneError,
    engine_bin_dirs,
    find_binary,
    free_port,
    spawn,
    stop_all,
    wait_until,
)

__all__ = ["ControlPlane", "ControlPlaneError"]

SERVICE_CIDR = "10.96.0.0/16"  # ClusterIPs are allocated from it, never routed nor contacted
ISSUER = "https://kubernetes.default.svc.cluster.local"
ADMISSION = ("NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,"
             "NodeRestriction,Priority,PodSecurity,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota")
TIMEOUT = 180.0  # per stage: the machine may be busy compiling; a cold apiserver takes 10-60 s there


class ControlPlane:
    """The control plane of one run, its state in `workdir`: run/ (certificates, kubeconfigs,
    etcd's data; deleted by stop) and logs/ (one file per process; kept for the post-mortem)."""

    def __init__(self, workdir: Path, bin_dir: Path | Sequence[Path], timeout: float = TIMEOUT) -> None:
        self.workdir = Path(workdir).resolve()
        self.bin_dirs = [Path(bin_dir)] if isinstance(bin_dir, str | Path) else [Path(d) for d in bin_dir]
        self.timeout = timeout
        self.run_dir, self.log_dir = self.workdir / "run", self.workdir / "logs"
        self.components: list[Component] = []
        self.ports: dict[str, int] = {}
        self._pki: Pki | None = None

    @property
    def kubeconfig(self) -> Path:
        """The admin's kubeconfig (group system:masters)."""
        return self.run_dir / "admin.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def pids(self) -> list[int]:
        return [component.pid for component in self.components]

    def start(self) -> ControlPlane:
        """Everything up, in dependency order; returns once pods can be created (the `default`
        ServiceAccount exists). On failure, whatever started is stopped before raising."""
        if self.components:
            raise ControlPlaneError("already started")
        atexit.register(self.stop)  # an exception in the caller still stops the processes
        try:
            self._prepare()
            self._start_etcd()
            self._start_apiserver()
            self._start_controllers()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Every process stopped (SIGTERM, SIGKILL after a grace period) and run/ deleted.
        Safe to call twice."""
        atexit.unregister(self.stop)
        stop_all(self.components)
        self.components.clear()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _prepare(self) -> None:
        """Fresh run/ with credentials and kubeconfigs; ports chosen."""
        shutil.rmtree(self.run_dir, ignore_errors=True)  # a previous run killed before its stop
        self.run_dir.mkdir(mode=0o700, parents=True)
        for name in ("etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler"):
            self.ports[name] = free_port()
        service_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
        self._pki = make_pki(self.run_dir / "pki", service_ip)
        for user, pair in self._pki.clients.items():
            write_kubeconfig(self.run_dir / f"{user}.kubeconfig", self.server, self._pki.ca.crt, pair, user)

    def _spawn(self, name: str, *flags: str | Path) -> None:
        binary = find_binary(name, self.bin_dirs)
        if binary is None:
            raise ControlPlaneError(f"{name} is in none of {[str(d) for d in self.bin_dirs]}")
        # cwd run/: anything a component writes to a relative path stays in the run's state.
        self.components.append(spawn(name, [binary, *flags], self.log_dir, self.run_dir))

    def _wait(self, what: str, probe: Callable[[], object]) -> None:
        wait_until(probe, what, self.timeout, self.components)

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        self._spawn("etcd", "--name=bfdemo", f"--data-dir={self.run_dir / 'etcd'}",
                    f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                    f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                    f"--initial-cluster=bfdemo={peer}", "--initial-cluster-state=new",
                    "--unsafe-no-fsync")  # a run's data is thrown away: spare the disk the syncs
        self._wait("etcd's /health", lambda: _status(f"{client}/health") == 200)

    def _start_apiserver(self) -> None:
        pki = self._required_pki()
        self._spawn(
            "kube-apiserver", "--bind-address=127.0.0.1", f"--secure-port={self.ports['apiserver']}",
            "--advertise-address=127.0.0.1", f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--service-account-issuer={ISSUER}", f"--api-audiences={ISSUER}",
            f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
            f"--client-ca-file={pki.ca.crt}",
            f"--tls-cert-file={pki.apiserver.crt}", f"--tls-private-key-file={pki.apiserver.key}",
            f"--requestheader-client-ca-file={pki.front_proxy_ca.crt}",
            f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}", "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group", "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki.front_proxy_client.crt}",
            f"--proxy-client-key-file={pki.front_proxy_client.key}",
            "--authorization-mode=Node,RBAC", f"--enable-admission-plugins={ADMISSION}", "--allow-privileged=false",
            # logs/exec/port-forward: to the node agent at the Node's InternalIP (127.0.0.1), not its name.
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            # The `kubernetes` Service's endpoint would be 127.0.0.1, which Endpoints validation
            # rejects (loopback) every 10 s; nothing in the cluster routes to it anyway.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
        )
        self._wait("kube-apiserver's /readyz", lambda: self._api("/readyz") == 200)

    def _start_controllers(self) -> None:
        pki = self._required_pki()
        for name, user in (("kube-controller-manager", "controller-manager"), ("kube-scheduler", "scheduler")):
            config = self.run_dir / f"{user}.kubeconfig"
            own = [f"--service-account-private-key-file={pki.sa_key}", f"--root-ca-file={pki.ca.crt}",
                   f"--cluster-signing-cert-file={pki.ca.crt}", f"--cluster-signing-key-file={pki.ca.key}",
                   # Each controller with its own service account: RBAC as in a real cluster.
                   "--use-service-account-credentials=true", "--allocate-node-cidrs=false",
                   ] if user == "controller-manager" else []
            self._spawn(name, f"--kubeconfig={config}", f"--authentication-kubeconfig={config}",
                        f"--authorization-kubeconfig={config}", "--bind-address=127.0.0.1",
                        f"--secure-port={self.ports[user]}", "--leader-elect=false", "--profiling=false", *own)
        self._wait("the default ServiceAccount",
                   lambda: self._api("/api/v1/namespaces/default/serviceaccounts/default") == 200)

    def _required_pki(self) -> Pki:
        if self._pki is None:
            raise ControlPlaneError("no credentials: start() makes them")
        return self._pki

    def _api(self, path: str) -> int | None:
        """The API server's status for GET `path`, as the admin."""
        pki = self._required_pki()
        context = ssl.create_default_context(cafile=str(pki.ca.crt))
        admin = pki.clients["admin"]
        context.load_cert_chain(str(admin.crt), str(admin.key))
        return _status(self.server + path, context)


def _status(url: str, context: ssl.SSLContext | None = None) -> int | None:
    """The HTTP status of GET `url`, None while nothing answers. No proxy, ever: loopback only."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """The requested end: unwinds through `with`, which stops the control plane; a second
    signal must not cut that short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local Kubernetes control plane, until SIGINT/SIGTERM")
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--workdir", type=Path, required=True, help="its state (run/, deleted at exit) and logs/")
    parser.add_argument("--bin", type=Path, action="append", dest="bins",
                        help="a folder of binaries (repeatable); default: tools/engine/build.py's")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    try:
        with ControlPlane(args.workdir, args.bins or engine_bin_dirs()) as plane:
            print(plane.kubeconfig, flush=True)
            while True:  # the foreground, until a signal or a component's death
                for component in plane.components:
                    if component.exited() is not None:
                        raise ControlPlaneError(component.died_message())
                time.sleep(1)
    except ControlPlaneError as error:  # everything is stopped already: say why, no traceback
        print(f"control plane: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
