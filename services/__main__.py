"""The image's entry points: `python -m services <name>` runs one service (four processes, one
image); `python -m services seed --products N` is the seed Job, `python -m services calibrate
--scenario NAME` the calibration Job."""

from __future__ import annotations

import argparse
import os
import sys

from services.ports import PORTS

FACTORIES = {
    "product-catalog": "services.product_catalog.main:create_app",
    "cart": "services.cart.main:create_app",
    "checkout": "services.checkout.main:create_app",
    "load-generator": "services.load_generator.main:create_app",
}


def serve(argv: list[str]) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m services", description=__doc__)
    parser.add_argument("service", choices=sorted(FACTORIES))
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("OTEL_SERVICE_NAME", args.service)
    port = args.port or int(os.environ.get("PORT", PORTS[args.service]))
    # Requests still in flight at SIGTERM get this long, then are cancelled; well inside a
    # pod's 30-s termination grace, so the spans' flush still runs before any SIGKILL.
    grace = int(os.environ.get("SHUTDOWN_GRACE_SECONDS", "10"))
    uvicorn.run(FACTORIES[args.service], factory=True, host=args.host, port=port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=grace)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["seed"]:
        from services.seed import main as seed

        seed(argv[1:])
    elif argv[:1] == ["calibrate"]:
        from services.calibration.run import main as calibrate

        sys.exit(calibrate(argv[1:]))
    else:
        serve(argv)


if __name__ == "__main__":
    main()
