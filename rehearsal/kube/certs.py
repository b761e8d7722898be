"""The control plane's credentials, made afresh for each run with the `openssl` CLI: a CA, the
API server's serving certificate, one client certificate per user, the service-account key
pair, the aggregation layer's front-proxy CA and client, and the kubeconfigs that carry them.

Nothing outlives a run (ControlPlane.stop deletes the folder), so the certificates are short
lived and nobody else ever trusts the CA."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = 30  # a run lasts hours; a month leaves room for a long-running `up`

# The users the components authenticate as: the bootstrap RBAC policy of kube-apiserver grants
# these exact names (and the group system:masters) what each component needs.
USERS = {
    "admin": "/O=system:masters/CN=bfdemo-admin",
    "controller-manager": "/CN=system:kube-controller-manager",
    "scheduler": "/CN=system:kube-scheduler",
}
FRONT_PROXY_CLIENT = "front-proxy-client"  # the apiserver's name towards aggregated API servers

# The sections `openssl x509 -extfile` applies: the CA may only sign; leaves are no CA and
# each serves one purpose (Go's TLS checks the extended key usage both ways).
_EXTENSIONS = """
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = {sans}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class OpenSSLError(RuntimeError):
    """An openssl command failed; the message carries its stderr."""


@dataclass(frozen=True)
class Pair:
    """A certificate and its private key, as PEM files."""

    crt: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Every file the components are given."""

    ca: Pair
    apiserver: Pair
    # The aggregation layer's (as kubeadm makes them): without a request-header CA published,
    # the controller manager and the scheduler log an error about it, over and over.
    front_proxy_ca: Pair
    front_proxy_client: Pair
    clients: dict[str, Pair]  # by USERS key
    sa_key: Path  # RSA: signs service-account tokens (controller-manager, apiserver)
    sa_pub: Path  # verifies them (apiserver)


def _openssl(*args: str | Path) -> None:
    result = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)
    if result.returncode:
        raise OpenSSLError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _key(path: Path, *algorithm: str) -> Path:
    """A new private key (PKCS#8 PEM), readable by its owner only."""
    _openssl("genpkey", *algorithm, "-out", path)
    path.chmod(0o600)
    return path


def _ec_key(path: Path) -> Path:
    return _key(path, "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")


def _serial() -> str:
    # Random and positive (RFC 5280): no serial file to keep between certificates.
    return "0x" + secrets.token_hex(15)


def _ca(folder: Path, name: str, config: Path) -> Pair:
    key = _ec_key(folder / f"{name}.key")
    crt = folder / f"{name}.crt"
    _openssl("req", "-x509", "-new", "-config", config, "-extensions", "ca", "-key", key,
             "-subj", f"/CN=bfdemo-{name}", "-days", str(DAYS), "-set_serial", _serial(), "-out", crt)
    return Pair(crt, key)


def _signed(folder: Path, name: str, subject: str, kind: str, ca: Pair, config: Path) -> Pair:
    """A certificate for `subject` of `kind` (an extension section above), signed by the CA."""
    key = _ec_key(folder / f"{name}.key")
    csr, crt = folder / f"{name}.csr", folder / f"{name}.crt"
    _openssl("req", "-new", "-config", config, "-key", key, "-subj", subject, "-out", csr)
    _openssl("x509", "-req", "-in", csr, "-CA", ca.crt, "-CAkey", ca.key, "-set_serial", _serial(),
             "-days", str(DAYS), "-extfile", config, "-extensions", kind, "-out", crt)
    csr.unlink()
    return Pair(crt, key)


def make_pki(folder: Path, service_ip: str) -> Pki:
    """Every credential of one run in `folder` (created 0700). `service_ip` is the address the
    `kubernetes` Service gets (the service range's first): in-cluster clients verify it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    sans = ["IP:127.0.0.1", f"IP:{service_ip}", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"]
    config = folder / "openssl.cnf"
    config.write_text(_EXTENSIONS.format(sans=",".join(sans)))
    ca = _ca(folder, "ca", config)
    apiserver = _signed(folder, "apiserver", "/CN=kube-apiserver", "server", ca, config)
    front_proxy_ca = _ca(folder, "front-proxy-ca", config)
    front_proxy_client = _signed(folder, "front-proxy-client", f"/CN={FRONT_PROXY_CLIENT}", "client",
                                 front_proxy_ca, config)
    clients = {user: _signed(folder, user, subject, "client", ca, config) for user, subject in USERS.items()}
    sa_key = _key(folder / "sa.key", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    sa_pub = folder / "sa.pub"
    _openssl("pkey", "-in", sa_key, "-pubout", "-out", sa_pub)
    config.unlink()
    return Pki(ca, apiserver, front_proxy_ca, front_proxy_client, clients, sa_key, sa_pub)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(path: Path, server: str, ca: Path, client: Pair, user: str) -> Path:
    """A kubeconfig for `user` at `server`, credentials embedded so the file stands alone.
    JSON: every kubeconfig reader accepts it (YAML's superset), and the stdlib writes it."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "bfdemo", "cluster": {"server": server, "certificate-authority-data": _b64(ca)}}],
        "users": [{"name": user, "user": {"client-certificate-data": _b64(client.crt),
                                          "client-key-data": _b64(client.key)}}],
        "contexts": [{"name": "bfdemo", "context": {"cluster": "bfdemo", "user": user}}],
        "current-context": "bfdemo",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)  # it holds a private key
    return path
