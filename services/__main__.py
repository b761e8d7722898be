"""Run one service: `python -m services <name>`. One image, four processes."""

from __future__ import annotations

import argparse
import os

import uvicorn

SERVICES = {
    "product-catalog": ("services.product_catalog.main:create_app", 8001),
    "cart": ("services.cart.main:create_app", 8002),
    "checkout": ("services.checkout.main:create_app", 8003),
    "load-generator": ("services.load_generator.main:create_app", 8010),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    factory, default_port = SERVICES[args.service]
    os.environ.setdefault("OTEL_SERVICE_NAME", args.service)
    port = args.port or int(os.environ.get("PORT", default_port))
    uvicorn.run(factory, factory=True, host=args.host, port=port, log_level="warning",
                access_log=False, timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
