"""The node's kubelet port, for what the API server asks a kubelet: a container's log
(`kubectl logs`, with tailLines, follow and timestamps-free output) and health. HTTPS with a
certificate made for the run: the API server connects to kubelets without verifying them unless
told a CA, as here. `exec` and `attach` are not served (a kubectl shim covers exec; see
rehearsal/kube/kubectl.py): the API server's exec is a streaming protocol (SPDY or WebSocket)
this agent does not speak, so the shim calls POST /bfdemo/exec here instead, with the token the
agent wrote to its folder (kubelet/exec.json, 0600), and gets the exit code and output back."""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

LOGS = re.compile(r"^/containerLogs/([^/]+)/([^/]+)/([^/]+)$")


def self_signed(folder: Path, address: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "kubelet.crt", folder / "kubelet.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            "/CN=bfdemo-node",
            "-addext",
            f"subjectAltName=IP:{address}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class KubeletServer:
    def __init__(
        self,
        address: str,
        folder: Path,
        log_file: Callable[[str, str, str], Path | None],
        run: Callable[[dict[str, Any]], tuple[int, bytes, bytes]],
    ) -> None:
        cert, key = self_signed(folder, address)
        find = log_file
        token = secrets.token_hex(24)
        self.folder, self.token = folder, token

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                url = urlparse(self.path)
                if url.path in ("/healthz", "/readyz", "/livez"):
                    return self._send(200, b"ok")
                match = LOGS.match(url.path)
                path = find(*match.groups()) if match else None
                if path is None or not path.exists():
                    return self._send(404, b"not found")
                query = parse_qs(url.query)
                lines = path.read_bytes().splitlines(keepends=True)
                if "tailLines" in query:
                    lines = lines[-int(query["tailLines"][0]) :] if int(query["tailLines"][0]) else []
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.writelines(lines)
                if query.get("follow", ["false"])[0] == "true":
                    self._follow(path, path.stat().st_size)

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path != "/bfdemo/exec" or not hmac.compare_digest(
                    self.headers.get("Authorization", ""), f"Bearer {token}"
                ):
                    return self._send(403, b"forbidden")
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                try:
                    code, out, err = run(request)
                    answer = {
                        "exitCode": code,
                        "stdout": base64.b64encode(out).decode(),
                        "stderr": base64.b64encode(err).decode(),
                    }
                except Exception as failure:  # noqa: BLE001 - said to the caller, as kubectl says it
                    answer = {"error": str(failure)}
                self._send(200, json.dumps(answer).encode())

            def _follow(self, path: Path, offset: int) -> None:
                try:
                    while True:
                        size = path.stat().st_size
                        if size > offset:
                            with open(path, "rb") as f:
                                f.seek(offset)
                                self.wfile.write(f.read(size - offset))
                                self.wfile.flush()
                            offset = size
                        time.sleep(0.5)
                except (OSError, ValueError):
                    return  # the client went away, or the pod's log did

            def _send(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])

    def start(self) -> KubeletServer:
        exec_file = self.folder / "exec.json"
        exec_file.touch(mode=0o600)
        exec_file.write_text(json.dumps({"url": f"https://127.0.0.1:{self.port}/bfdemo/exec", "token": self.token}))
        threading.Thread(target=self.server.serve_forever, daemon=True, name="kubelet-api").start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
