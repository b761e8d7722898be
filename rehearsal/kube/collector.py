"""What the node runs for the OpenTelemetry Collector's image, for which no binary installs
here: an OTLP/HTTP receiver on the pod's address and port (4318), with the collector's health
endpoint (13133) for its probes, forwarding what it receives to --upstream (the rehearsal's own
receiver, which keeps the spans for the report and the alert). The pod's gRPC port is not
served: the services export over HTTP. Reports say the collector was stood in for."""

from __future__ import annotations

import argparse
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rehearsal.otlp import Forwarder, OtlpReceiver, SpanRecord, SpanStore

HEALTH_PORT = 13133


class Passing(SpanStore):
    """Keeps nothing: the collector passes spans on, and a long-running cluster must not grow."""

    def add(self, records: list[SpanRecord]) -> None:
        pass


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b'{"status":"Server available","stand_in":"bfdemo node agent"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--health-port", type=int, default=HEALTH_PORT)
    parser.add_argument("--upstream", default="", help="OTLP/HTTP base URL to forward to (none: drop)")
    args = parser.parse_args(argv)
    forwarder = Forwarder(args.upstream, {}) if args.upstream else None
    receiver = OtlpReceiver(Passing(), forwarder, (args.host, args.port)).start()
    health = ThreadingHTTPServer((args.host, args.health_port), Health)
    threading.Thread(target=health.serve_forever, daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    health.shutdown()
    receiver.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
