"""The services' names and ports: what the Pulumi program needs of them. Imports nothing, so
the program loads no web server or database driver to learn them."""

from __future__ import annotations

PORTS: dict[str, int] = {
    "product-catalog": 8001,
    "cart": 8002,
    "checkout": 8003,
    "load-generator": 8010,
}
LOAD_GENERATOR = "load-generator"
STOREFRONT = tuple(name for name in PORTS if name != LOAD_GENERATOR)
